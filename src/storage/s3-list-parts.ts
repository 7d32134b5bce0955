/**
 * @module R2's S3 API ListParts (SigV4 via aws4fetch): the parts of a multipart upload with their
 * ETags and sizes. The Workers R2 binding cannot list parts; parts that clients PUT straight to R2
 * (presigned URLs) are only known this way. Pages through uploads of any number of parts.
 */
import { normalizeEtag } from './presign';
import { AwsV4Signer } from 'aws4fetch';
import type { S3Target } from './presign';

export interface ListedPart {
  partNumber: number;
  etag: string;
  size: number;
}

const tag = (xml: string, name: string): string | undefined => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

/** The `<Part>` entries of a ListPartsResult document. */
export function parseListParts(xml: string): { parts: ListedPart[]; nextMarker: number | null } {
  const parts: ListedPart[] = [];
  for (const [, body] of xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)) {
    const partNumber = Number(tag(body!, 'PartNumber'));
    const size = Number(tag(body!, 'Size'));
    const etag = normalizeEtag(tag(body!, 'ETag') ?? '');
    if (Number.isInteger(partNumber) && Number.isSafeInteger(size) && etag) parts.push({ partNumber, etag, size });
  }
  const truncated = tag(xml, 'IsTruncated') === 'true';
  const next = Number(tag(xml, 'NextPartNumberMarker'));
  return { parts, nextMarker: truncated && Number.isInteger(next) && next > 0 ? next : null };
}

export async function listUploadedParts(target: S3Target, key: string, uploadId: string, fetcher: typeof fetch = fetch): Promise<ListedPart[]> {
  const parts: ListedPart[] = [];
  for (let marker: number | null = 0; marker !== null; ) {
    const url = new URL(`${target.endpoint.replace(/\/+$/, '')}/${target.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`);
    url.searchParams.set('uploadId', uploadId);
    url.searchParams.set('max-parts', '1000');
    if (marker > 0) url.searchParams.set('part-number-marker', String(marker));
    const signed = await new AwsV4Signer({
      method: 'GET',
      url: url.toString(),
      accessKeyId: target.accessKeyId,
      secretAccessKey: target.secretAccessKey,
      service: 's3',
      region: 'auto',
    }).sign();
    const response = await fetcher(signed.url.toString(), { method: 'GET', headers: signed.headers });
    const text = await response.text();
    if (!response.ok) throw new Error(`R2 ListParts answered ${response.status}: ${text.slice(0, 200)}`);
    const page = parseListParts(text);
    parts.push(...page.parts);
    marker = page.nextMarker;
  }
  return parts;
}
