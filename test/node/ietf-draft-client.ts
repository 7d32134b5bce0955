/**
 * @module A small client of the IETF resumable-upload draft (interop version 8), written from the
 * draft's text (draft-ietf-httpbis-resumable-upload, "Client Behavior" sections) and nothing else:
 * the conformance tests drive the server with it. Each step quotes the sentence it follows.
 */

export const INTEROP = '8';

export interface Limits {
  'max-size'?: number;
  'min-size'?: number;
  'max-append-size'?: number;
  'min-append-size'?: number;
  'max-age'?: number;
}

/** "Upload-Limit is a Dictionary … a member with an unknown key MUST be ignored … a known key but a value of unexpected type MUST cause the entire Upload-Limit header field to be ignored". */
export function parseLimits(value: string | null): Limits | null {
  if (value === null) return null;
  const out: Record<string, number> = {};
  for (const member of value.split(',')) {
    const [key, raw] = member.trim().split('=');
    if (!key || !['max-size', 'min-size', 'max-append-size', 'min-append-size', 'max-age'].includes(key)) continue;
    if (raw === undefined || !/^[0-9]{1,15}$/.test(raw.split(';')[0]!.trim())) return null;
    out[key] = Number(raw.split(';')[0]);
  }
  return out;
}

/** "Upload-Offset … Its value is a non-negative Integer … Other values MUST cause the entire header field to be ignored." */
export function sfInteger(value: string | null): number | null {
  const item = value?.split(';')[0]!.trim();
  return item !== undefined && /^[0-9]{1,15}$/.test(item) ? Number(item) : null;
}

/** "Upload-Complete … Its value is a Boolean … Other values MUST cause the entire header field to be ignored." */
export function sfBoolean(value: string | null): boolean | null {
  const item = value?.split(';')[0]!.trim();
  return item === '?1' ? true : item === '?0' ? false : null;
}

export interface DraftResponse {
  res: Response;
  status: number;
  location: string | null;
  offset: number | null;
  complete: boolean | null;
  length: number | null;
  limits: Limits | null;
  /** The parsed body: problem details (application/problem+json) or the final JSON answer. */
  body: Record<string, unknown> | null;
}

async function read(res: Response): Promise<DraftResponse> {
  const text = res.status === 204 || res.status === 304 ? '' : await res.text();
  let body: Record<string, unknown> | null = null;
  if (text) {
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { raw: text };
    }
  }
  return {
    res,
    status: res.status,
    location: res.headers.get('location'),
    offset: sfInteger(res.headers.get('upload-offset')),
    complete: sfBoolean(res.headers.get('upload-complete')),
    length: sfInteger(res.headers.get('upload-length')),
    limits: parseLimits(res.headers.get('upload-limit')),
    body,
  };
}

/** "Client implementations of draft versions of the protocol MUST send a header field Upload-Draft-Interop-Version with the interop version as its value to its requests." */
const base = (headers: Record<string, string> = {}) => ({ 'Upload-Draft-Interop-Version': INTEROP, ...headers });

export type Body = Uint8Array | ReadableStream<Uint8Array> | null;

function init(method: string, headers: Record<string, string>, body: Body, signal?: AbortSignal): RequestInit {
  const out: RequestInit & { duplex?: 'half' } = { method, headers: base(headers), signal };
  if (body) {
    out.body = body as BodyInit;
    if (body instanceof ReadableStream) out.duplex = 'half';
  }
  return out;
}

/** "A client can use an OPTIONS request without the Upload-Complete header field to discover … potential limits". */
export async function discover(endpoint: string): Promise<DraftResponse> {
  return read(await fetch(endpoint, init('OPTIONS', {}, null)));
}

export interface CreateOptions {
  complete: boolean;
  content?: Body;
  /** "If the client knows the representation data's length, it SHOULD indicate the length". */
  length?: number;
  type?: string;
  filename?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** Upload Creation: "A client can start a resumable upload from any request that can carry content by including the Upload-Complete header field". */
export async function create(endpoint: string, options: CreateOptions): Promise<DraftResponse> {
  const headers: Record<string, string> = { 'Upload-Complete': options.complete ? '?1' : '?0', ...options.headers };
  if (options.length !== undefined) headers['Upload-Length'] = String(options.length);
  if (options.type) headers['Content-Type'] = options.type;
  // "For this purpose, the inline disposition type is RECOMMENDED."
  if (options.filename) headers['Content-Disposition'] = `inline; filename*=UTF-8''${encodeURIComponent(options.filename)}`;
  if (!options.content) headers['Content-Length'] = '0';
  return read(await fetch(endpoint, init('POST', headers, options.content ?? null, options.signal)));
}

/** Offset Retrieval: "It can fetch the offset by sending a HEAD or GET request … Using HEAD is RECOMMENDED". */
export async function offsetOf(url: string): Promise<DraftResponse> {
  return read(await fetch(url, init('HEAD', {}, null)));
}

/**
 * Upload Append: "sending a PATCH request with the application/partial-upload media type";
 * "The client MUST indicate the offset … by including the Upload-Offset header field"; "The request
 * MUST include the Upload-Complete header field."
 */
export async function appendTo(url: string, offset: number, content: Body, complete: boolean, extra: Record<string, string> = {}, signal?: AbortSignal): Promise<DraftResponse> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/partial-upload',
    'Upload-Offset': String(offset),
    'Upload-Complete': complete ? '?1' : '?0',
    ...extra,
  };
  if (!content) headers['Content-Length'] = '0';
  return read(await fetch(url, init('PATCH', headers, content, signal)));
}

/** Upload Cancellation: "it can send a DELETE request to the upload resource". */
export async function cancel(url: string): Promise<DraftResponse> {
  return read(await fetch(url, init('DELETE', {}, null)));
}

export interface UploadResult {
  url: string;
  final: DraftResponse;
  requests: number;
  resumptions: number;
}

/**
 * A careful upload ("sends an empty upload creation request … then … transmit the representation
 * data"), appending in pieces within the announced limits, resuming from the server's offset after a
 * failed append. `sendPiece` lets a test interrupt a piece on purpose.
 */
export async function carefulUpload(
  endpoint: string,
  bytes: Uint8Array,
  options: { type: string; filename: string; pieceSize?: number; sendPiece?: (url: string, offset: number, piece: Uint8Array, complete: boolean) => Promise<DraftResponse> },
): Promise<UploadResult> {
  let requests = 1;
  const created = await create(endpoint, { complete: false, length: bytes.length, type: options.type, filename: options.filename });
  if (created.status !== 201 || !created.location) throw new Error(`creation failed: ${created.status} ${JSON.stringify(created.body)}`);
  const url = new URL(created.location, endpoint).toString();
  // "The client SHOULD respect any limits … announced in the Upload-Limit header field".
  const maxAppend = Math.min(options.pieceSize ?? Number.POSITIVE_INFINITY, created.limits?.['max-append-size'] ?? Number.POSITIVE_INFINITY);
  if ((created.limits?.['max-size'] ?? Number.POSITIVE_INFINITY) < bytes.length) {
    // "the client SHOULD stop the current request immediately and cancel the upload".
    await cancel(url);
    throw new Error('the file is larger than max-size');
  }
  let offset = created.offset ?? 0;
  let resumptions = 0;
  for (let attempt = 0; attempt < 50; attempt++) {
    const end = Math.min(bytes.length, offset + maxAppend);
    const piece = bytes.subarray(offset, end);
    const complete = end === bytes.length;
    requests += 1;
    const sent = options.sendPiece ? await options.sendPiece(url, offset, piece, complete).catch(() => null) : await appendTo(url, offset, piece, complete).catch(() => null);
    if (sent && sent.status >= 200 && sent.status < 300) {
      // "If the client received a final response with the Upload-Complete: ?1 header field, the upload is complete".
      if (sent.complete === true) return { url, final: sent, requests, resumptions };
      offset = sent.offset ?? end;
      continue;
    }
    if (sent && sent.status >= 400 && sent.status < 500 && sent.status !== 409 && sent.status !== 423) {
      // "For a 4xx (Client Error) status code, the client SHOULD NOT attempt to retry or resume the upload".
      throw new Error(`append refused: ${sent.status} ${JSON.stringify(sent.body)}`);
    }
    // "For a 5xx … or no final response at all due to connectivity issues, the client MAY
    // automatically attempt upload resumption by retrieving the current offset".
    resumptions += 1;
    for (let tries = 0; tries < 100; tries++) {
      requests += 1;
      const head = await offsetOf(url);
      if (head.status >= 200 && head.status < 300 && head.offset !== null) {
        // "If the client is not able to provide the representation data at the given offset, the upload MUST be considered a failure."
        if (head.offset > bytes.length) throw new Error(`the server's offset ${head.offset} is past the file`);
        offset = head.offset;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    // A write the server has not finished holds the upload briefly: a 423 is retried after a pause.
    if (sent?.status === 423) await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('gave up after 50 appends');
}
