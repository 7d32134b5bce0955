/**
 * @module Input parsing for the adapters: JSON bodies with a size cap, path parameters and
 * headers, all through zod, all failing as AppErrors with stable codes.
 */
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
 * A part number from a path: any bad one (0, -1, "x", past the end in the session) answers
 * ERR_PART_NUMBER, so clients handle one code for "no such part".
 */
export function parsePartNumber<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  return parseWith(schema, value, 'part number', 'ERR_PART_NUMBER');
}

/** Reads a JSON body of at most 64 KiB (or `maxBytes`, for long part lists) and validates it. */
export async function parseJsonBody<T extends z.ZodType>(c: Context, schema: T, maxBytes = MAX_JSON_BYTES): Promise<z.output<T>> {
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > maxBytes) throw new AppError('ERR_PAYLOAD_TOO_LARGE', `JSON bodies are limited to ${maxBytes} bytes.`);
  const type = c.req.header('content-type') ?? '';
  if (type && !/^application\/([a-z.+-]*\+)?json\b/i.test(type)) {
    throw new AppError('ERR_UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
  }
  const text = await c.req.text();
  if (text.length > maxBytes) throw new AppError('ERR_PAYLOAD_TOO_LARGE', `JSON bodies are limited to ${maxBytes} bytes.`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError('ERR_INVALID_JSON', 'The request body is not valid JSON.');
  }
  return parseWith(schema, value, 'request body');
}
