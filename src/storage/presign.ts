/**
 * @module Presigned SigV4 URLs for R2's S3 API (aws4fetch): one URL per UploadPart, scoped to the
 * object key, the multipart upload id, the part number and (when planned) the part's length,
 * expiring quickly. The signature covers them all, so a URL cannot be reused for another part,
 * upload or key, nor carry more bytes than planned.
 */
import { AwsV4Signer } from 'aws4fetch';

export interface S3Target {
  /** https://<account>.r2.cloudflarestorage.com, or wrangler dev's `<origin>/cdn-cgi/local/r2/s3`. */
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** The S3 endpoint to sign for: `local` means wrangler dev's own S3 API on the Worker's origin. */
export function s3Target(direct: S3Target, origin: string): S3Target {
  return { ...direct, endpoint: direct.endpoint === 'local' ? `${origin}/cdn-cgi/local/r2/s3` : direct.endpoint };
}

/** ETags arrive quoted, unquoted or HTML-escaped (S3 XML): one form everywhere (R2's, without the surrounding quotes). */
export const normalizeEtag = (etag: string): string => etag.replace(/&quot;|&#34;/g, '"').replace(/^"+|"+$/g, '');

export async function presignUploadPart(
  target: S3Target,
  part: { key: string; uploadId: string; partNumber: number; expiresSeconds: number; size?: number | null },
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
    // A planned part's length is signed too: R2 refuses a PUT of any other length, so a client
    // cannot put more bytes into a part than the upload declared.
    ...(part.size != null ? { headers: { 'content-length': String(part.size) }, allHeaders: true } : {}),
  });
  return (await signer.sign()).url.toString();
}
