/**
 * @module Presigned SigV4 URLs for R2's S3 API (aws4fetch): one URL per UploadPart, scoped to the
 * object key, the multipart upload id and the part number, expiring quickly. The signature covers
 * all three, so a URL cannot be reused for another part, upload or key.
 */
import { AwsV4Signer } from 'aws4fetch';

export interface S3Target {
  /** https://<account>.r2.cloudflarestorage.com, or wrangler dev's `<origin>/cdn-cgi/local/r2/s3`. */
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export async function presignUploadPart(
  target: S3Target,
  part: { key: string; uploadId: string; partNumber: number; expiresSeconds: number },
): Promise<string> {
  // Path-style: R2's S3 API wants the bucket in the path.
  const url = new URL(`${target.endpoint.replace(/\/+$/, '')}/${target.bucket}/${part.key.split('/').map(encodeURIComponent).join('/')}`);
  url.searchParams.set('partNumber', String(part.partNumber));
  url.searchParams.set('uploadId', part.uploadId);
  url.searchParams.set('X-Amz-Expires', String(part.expiresSeconds));
  const signer = new AwsV4Signer({
    method: 'PUT',
    url: url.toString(),
    accessKeyId: target.accessKeyId,
    secretAccessKey: target.secretAccessKey,
    service: 's3',
    region: 'auto',
    signQuery: true,
  });
  return (await signer.sign()).url.toString();
}
