/**
 * @module A streaming `multipart/form-data` reader (RFC 7578 over RFC 2046): parts come one at a
 * time, each with its body as a stream, so a file field of any size passes through with only the
 * current network chunk (plus the delimiter's length held back) in memory. Pure: Web Streams and
 * TextDecoder only, no runtime bindings.
 */
import { concatBytes } from '../../domain/bytes';

export type FormDataFailure = 'malformed' | 'truncated' | 'limit';

export class FormDataError extends Error {
  readonly reason: FormDataFailure;

  constructor(reason: FormDataFailure, message: string) {
    super(message);
    this.name = 'FormDataError';
    this.reason = reason;
  }
}

export interface FormPart {
  /** The field name (`Content-Disposition: form-data; name="…"`). */
  name: string;
  /** Set for file fields (may be an empty string when the browser sent no name). */
  filename: string | null;
  contentType: string | null;
  /**
   * The part's bytes. Read it to the end (or not at all: the reader skips what is left when the
   * next part is asked for). Errors with a FormDataError when the body ends inside the part.
   */
  body: ReadableStream<Uint8Array>;
  /** The whole part as UTF-8 text, for small fields; a `limit` error past `maxBytes`. */
  text(maxBytes?: number): Promise<string>;
}

export interface FormReadLimits {
  /** Bytes of one part's header block (default 8 KiB). */
  maxHeaderBytes?: number;
  /** Parts in one body (default 100). */
  maxParts?: number;
}

const CR = 13;
const LF = 10;
const DASH = 45;
const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/**
 * The boundary of a `multipart/form-data` Content-Type, or null when it is not one. RFC 2046
 * §5.1.1: 1 to 70 characters from a small set, quoted when it holds special characters.
 */
export function boundaryOf(contentType: string | null | undefined): string | null {
  if (!contentType) return null;
  const [type, ...params] = splitParams(contentType);
  if (type?.toLowerCase() !== 'multipart/form-data') return null;
  const boundary = params.find(([name]) => name === 'boundary')?.[1];
  if (!boundary || boundary.length > 70 || !/^[0-9A-Za-z'()+_,./:=? -]*[0-9A-Za-z'()+_,./:=?-]$/.test(boundary)) return null;
  return boundary;
}

/** `value; a=b; c="d"` → ['value', [['a','b'], ['c','d']]] (names lower-cased). */
function splitParams(header: string): [string | undefined, ...[string, string][]] {
  const semicolon = header.indexOf(';');
  const head = (semicolon < 0 ? header : header.slice(0, semicolon)).trim();
  const params: [string, string][] = [];
  const re = /;\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
  for (const match of header.slice(Math.max(semicolon, 0)).matchAll(re)) {
    let value = match[2]!.trim();
    if (value.startsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    params.push([match[1]!.toLowerCase(), value]);
  }
  return [head, ...params];
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  const first = needle[0]!;
  const last = haystack.length - needle.length;
  for (let i = haystack.indexOf(first, from); i !== -1 && i <= last; i = haystack.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The state machine over one body: where the buffer is, and whether the current part ended. */
class PartReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  /** A delimiter is CRLF "--" boundary; the first one may start the body, hence the leading CRLF. */
  private buffer: Uint8Array = Uint8Array.of(CR, LF);
  private ended = false;
  /** True while a part's body has bytes left to hand out. */
  inBody = false;
  readonly delimiter: Uint8Array;

  constructor(stream: ReadableStream<Uint8Array>, boundary: string, private readonly maxHeaderBytes: number) {
    this.reader = stream.getReader();
    this.delimiter = encoder.encode(`\r\n--${boundary}`);
  }

  /** Reads one more chunk into the buffer; false at the end of the body. */
  private async more(): Promise<boolean> {
    if (this.ended) return false;
    const { done, value } = await this.reader.read();
    if (done) {
      this.ended = true;
      return false;
    }
    this.buffer = concat(this.buffer, value);
    return true;
  }

  private async need(bytes: number, what: string): Promise<void> {
    while (this.buffer.length < bytes) {
      if (!(await this.more())) throw new FormDataError('truncated', `The form body ended inside ${what}.`);
    }
  }

  /** Skips the preamble up to and including the first delimiter. */
  async start(): Promise<void> {
    for (;;) {
      const at = indexOf(this.buffer, this.delimiter);
      if (at >= 0) {
        this.buffer = this.buffer.subarray(at + this.delimiter.length);
        return;
      }
      // Keep what could be the start of a delimiter; the rest is preamble.
      this.buffer = this.buffer.subarray(Math.max(0, this.buffer.length - this.delimiter.length + 1));
      if (!(await this.more())) throw new FormDataError('malformed', 'The form body has no boundary delimiter.');
    }
  }

  /**
   * Just after a delimiter: null for the close delimiter ("--"), otherwise the next part's
   * headers (names lower-cased).
   */
  async headers(): Promise<Map<string, string> | null> {
    await this.need(2, 'a delimiter');
    if (this.buffer[0] === DASH && this.buffer[1] === DASH) return null;
    // RFC 2046: the delimiter line may end in linear white space before its CRLF.
    let i = 0;
    for (;;) {
      await this.need(i + 2, 'a delimiter');
      const byte = this.buffer[i]!;
      if (byte === CR && this.buffer[i + 1] === LF) break;
      if ((byte !== 0x20 && byte !== 0x09) || i > 64) throw new FormDataError('malformed', 'A boundary delimiter is followed by garbage.');
      i += 1;
    }
    this.buffer = this.buffer.subarray(i + 2);

    let end: number;
    for (let from = 0; ; ) {
      await this.need(2, 'part headers');
      // An empty header block: the blank line comes first.
      if (this.buffer[0] === CR && this.buffer[1] === LF) {
        end = -2;
        break;
      }
      end = indexOf(this.buffer, Uint8Array.of(CR, LF, CR, LF), from);
      if (end >= 0) break;
      if (this.buffer.length > this.maxHeaderBytes) throw new FormDataError('limit', `Part headers are limited to ${this.maxHeaderBytes} bytes.`);
      from = Math.max(0, this.buffer.length - 3);
      if (!(await this.more())) throw new FormDataError('truncated', 'The form body ended inside part headers.');
    }
    if (end > this.maxHeaderBytes) throw new FormDataError('limit', `Part headers are limited to ${this.maxHeaderBytes} bytes.`);
    const block = end < 0 ? '' : new TextDecoder().decode(this.buffer.subarray(0, end));
    this.buffer = this.buffer.subarray(end + 4);
    const headers = new Map<string, string>();
    for (const line of block.split('\r\n')) {
      if (line === '') continue;
      const colon = line.indexOf(':');
      if (colon < 1) throw new FormDataError('malformed', 'A part header line has no name.');
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    this.inBody = true;
    return headers;
  }

  /**
   * The next bytes of the current part's body, or null when the part has ended (the delimiter
   * after it consumed). Bytes that might begin a delimiter are held back until it is clear.
   */
  async body(): Promise<Uint8Array | null> {
    if (!this.inBody) return null;
    for (;;) {
      const at = indexOf(this.buffer, this.delimiter);
      if (at >= 0) {
        const chunk = this.buffer.subarray(0, at);
        this.buffer = this.buffer.subarray(at + this.delimiter.length);
        this.inBody = false;
        return chunk.length > 0 ? chunk : null;
      }
      const safe = this.buffer.length - (this.delimiter.length - 1);
      if (safe > 0) {
        const chunk = this.buffer.subarray(0, safe);
        this.buffer = this.buffer.subarray(safe);
        return chunk;
      }
      if (!(await this.more())) {
        this.inBody = false;
        throw new FormDataError('truncated', 'The form body ended inside a part.');
      }
    }
  }

  async skipBody(): Promise<void> {
    while ((await this.body()) !== null);
  }

  release(): void {
    this.buffer = EMPTY;
    try {
      this.reader.releaseLock();
    } catch {
      // A read is still pending (the consumer left mid-part): the stream is abandoned anyway.
    }
  }
}

function partOf(headers: Map<string, string>, reader: PartReader): FormPart {
  const disposition = headers.get('content-disposition');
  if (!disposition) throw new FormDataError('malformed', 'A part has no Content-Disposition header.');
  const [kind, ...params] = splitParams(disposition);
  if (kind?.toLowerCase() !== 'form-data') throw new FormDataError('malformed', 'A part is not "Content-Disposition: form-data".');
  const param = (name: string) => params.find(([n]) => n === name)?.[1];
  const name = param('name');
  if (name === undefined) throw new FormDataError('malformed', 'A part has no field name.');
  let filename = param('filename') ?? null;
  const extended = param('filename*');
  if (extended !== undefined) {
    // RFC 5987 (some non-browser clients): charset'lang'percent-encoded.
    const match = /^utf-8'[^']*'(.*)$/i.exec(extended);
    try {
      if (match) filename = decodeURIComponent(match[1]!);
    } catch {
      // Keep the plain filename.
    }
  }
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const chunk = await reader.body();
          if (chunk === null) controller.close();
          else controller.enqueue(chunk);
        } catch (error) {
          controller.error(error);
        }
      },
    },
    { highWaterMark: 0 },
  );
  return {
    name,
    filename,
    contentType: headers.get('content-type') ?? null,
    body,
    async text(maxBytes = 64 * 1024) {
      const chunks: Uint8Array[] = [];
      let total = 0;
      const streamReader = body.getReader();
      for (;;) {
        const { done, value } = await streamReader.read();
        if (done) break;
        total += value.length;
        if (total > maxBytes) {
          streamReader.releaseLock();
          throw new FormDataError('limit', `The field "${name}" is longer than ${maxBytes} bytes.`);
        }
        chunks.push(value);
      }
      return new TextDecoder().decode(concatBytes(chunks, total));
    },
  };
}

/**
 * The parts of a `multipart/form-data` body, in order. Each part's body must be read before the
 * next part is taken (what is left unread is skipped then). Fails with a FormDataError.
 */
export async function* readFormData(body: ReadableStream<Uint8Array>, boundary: string, limits: FormReadLimits = {}): AsyncGenerator<FormPart, void, undefined> {
  const maxParts = limits.maxParts ?? 100;
  const reader = new PartReader(body, boundary, limits.maxHeaderBytes ?? 8 * 1024);
  try {
    await reader.start();
    for (let count = 1; ; count++) {
      const headers = await reader.headers();
      if (headers === null) return;
      if (count > maxParts) throw new FormDataError('limit', `A form may have at most ${maxParts} parts.`);
      yield partOf(headers, reader);
      if (reader.inBody) await reader.skipBody();
    }
  } finally {
    reader.release();
  }
}
