/**
 * @module Input parsing for the adapters: JSON bodies with a size cap, path parameters and
 * headers, all through zod, all failing as AppErrors with stable codes.
 */
import { concatBytes } from '../domain/bytes';
import type { Context } from 'hono';
import { z } from 'zod';
import { AppError, type ErrorCode } from '../domain/errors';

const MAX_JSON_BYTES = 64 * 1024;

function describe(error: z.ZodError): { message: string; issues: { path: string; message: string }[] } {
  const issues = error.issues.slice(0, 20).map((issue) => ({ path: issue.path.join('.') || '(body)', message: issue.message }));
  return { message: issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues };
}

export function parseWith<T extends z.ZodType>(schema: T, value: unknown, what: string, code: ErrorCode = 'ERR_VALIDATION'): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const { message, issues } = describe(parsed.error);
    throw new AppError(code, `Invalid ${what}: ${message}`, { issues });
  }
  return parsed.data;
}

/**
 * Reads at most `maxBytes` of a request body as UTF-8 text, refusing with 413 as soon as the
 * declared length or the bytes read so far pass the limit: a 90 MB chunked body is never buffered.
 */
export async function readBoundedText(request: Request, maxBytes: number): Promise<string> {
  const tooLarge = () => new AppError('ERR_PAYLOAD_TOO_LARGE', `JSON bodies are limited to ${maxBytes} bytes.`);
  const declared = request.headers.get('content-length');
  if (declared !== null && /^[0-9]+$/.test(declared.trim()) && Number(declared) > maxBytes) throw tooLarge();
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.byteLength;
    if (length > maxBytes) {
      reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(concatBytes(chunks, length));
}

/**
 * A part number from a path: any bad one (0, -1, "x", past the end in the session) answers
 * ERR_PART_NUMBER, so clients handle one code for "no such part".
 */
export function parsePartNumber<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  return parseWith(schema, value, 'part number', 'ERR_PART_NUMBER');
}

/** Reads a JSON body of at most 64 KiB (or `maxBytes`, for long part lists) and validates it. */
export async function parseJsonBody<T extends z.ZodType>(c: Context, schema: T, maxBytes = MAX_JSON_BYTES): Promise<z.output<T>> {
  // No Content-Type is taken as JSON (a bare client); one that is there must say JSON, blank included.
  const type = c.req.header('content-type');
  if (type !== undefined && !/^application\/([a-z.+-]*\+)?json\b/i.test(type)) {
    throw new AppError('ERR_UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
  }
  const text = await readBoundedText(c.req.raw, maxBytes);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError('ERR_INVALID_JSON', 'The request body is not valid JSON.');
  }
  return parseWith(schema, value, 'request body');
}
