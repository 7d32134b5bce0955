/**
 * @module The S3 POST-policy path (Uppy's single-request uploads): a `multipart/form-data` POST of
 * the fields `/s3/params` signed (`key`, `token`) and then the file, streamed into the upload's
 * fixed R2 parts without ever holding the whole file. Fields after the file are ignored, as S3
 * ignores them.
 *
 * The size is known only when the body ends, so whole parts go through the stream writer as they
 * fill, the remainder (less than one part) waits in memory, and once the body has ended the size is
 * declared and the remainder written as the last part. Nothing needs staging in R2, and the first
 * write only counts once the file arrived whole: a cut-off POST keeps nothing and can be re-sent.
 */
import type { Context } from 'hono';
import { loadConfig } from '../../config';
import { AppError, unwrap } from '../../domain/errors';
import { sessionStub } from '../../durable/session-stub';
import { isAccepting } from '../../contracts/upload-states';
import type { AppEnv } from '../app-env';
import { checkCapability } from '../auth';
import { uploadIdSchema } from '../schemas';
import { writeStream } from '../stream-writer';
import { parseWith } from '../validation';
import { boundaryOf, FormDataError, readFormData, type FormPart } from './form-data-stream';

/** Fields before the file: `key`, `token`, and whatever else a client adds (ignored). */
const MAX_FIELDS = 32;
const MAX_FIELD_BYTES = 4096;
/** Room for the fields and the multipart envelope around the file. */
const ENVELOPE_BYTES = MAX_FIELDS * (MAX_FIELD_BYTES + 512);

export interface FormUploadResult {
  id: string;
  size: number;
  state: string;
}

/**
 * Splits a byte stream: whole parts of `partSize` are passed on as they fill; the rest (less than
 * a part) is kept back in `remainder`. Counts the bytes and stops past `maxBytes`. Any failure of
 * the source is kept in `failure`, so the caller can tell a cut-off body from a refused one.
 */
class WholeParts {
  readonly stream: ReadableStream<Uint8Array>;
  failure: unknown = null;
  total = 0;
  private held: Uint8Array;
  private heldLength = 0;

  constructor(source: ReadableStream<Uint8Array>, partSize: number, maxBytes: number) {
    const reader = source.getReader();
    this.held = new Uint8Array(partSize);
    const fail = (controller: ReadableStreamDefaultController<Uint8Array>, error: unknown) => {
      this.failure = error;
      controller.error(error);
    };
    this.stream = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          for (;;) {
            let chunk: ReadableStreamReadResult<Uint8Array>;
            try {
              chunk = await reader.read();
            } catch (error) {
              return fail(controller, error);
            }
            if (chunk.done) return controller.close();
            this.total += chunk.value.length;
            if (this.total > maxBytes) {
              reader.cancel().catch(() => undefined);
              return fail(controller, new AppError('ERR_FILE_TOO_LARGE', `The file is larger than the limit of ${maxBytes} bytes.`, { maxFileSize: maxBytes }));
            }
            let bytes = chunk.value;
            let passed = false;
            while (bytes.length > 0) {
              const take = Math.min(bytes.length, partSize - this.heldLength);
              this.held.set(bytes.subarray(0, take), this.heldLength);
              this.heldLength += take;
              bytes = bytes.subarray(take);
              if (this.heldLength === partSize) {
                // The writer copies a chunk as soon as it reads it: hand this buffer over, start a new one.
                controller.enqueue(this.held);
                this.held = new Uint8Array(partSize);
                this.heldLength = 0;
                passed = true;
              }
            }
            if (passed) return;
          }
        },
        cancel: (reason) => reader.cancel(reason),
      },
      { highWaterMark: 0 },
    );
  }

  get remainder(): Uint8Array {
    return this.held.subarray(0, this.heldLength);
  }
}

function formError(error: FormDataError): AppError {
  if (error.reason === 'limit') return new AppError('ERR_PAYLOAD_TOO_LARGE', error.message);
  if (error.reason === 'truncated') return new AppError('ERR_BAD_REQUEST', `${error.message} Nothing was kept; send the form again.`);
  return new AppError('ERR_BAD_REQUEST', `The form body is not valid multipart/form-data: ${error.message}`);
}

async function receiveFile(c: Context<AppEnv>, fields: Map<string, string>, part: FormPart): Promise<FormUploadResult> {
  const env = c.env;
  const id = parseWith(uploadIdSchema, fields.get('key'), 'form field "key"');
  const token = fields.get('token');
  if (!token) throw new AppError('ERR_UNAUTHORIZED', 'The form needs the "token" field from GET /s3/params, before the file.');
  await checkCapability(env, token, id);

  const session = sessionStub(env, id);
  const requestId = c.get('requestId');
  const manifest = unwrap(await session.manifest());
  if (!isAccepting(manifest.state) || manifest.size !== null || manifest.confirmedBytes > 0) {
    throw new AppError('ERR_UPLOAD_STATE', `This form was used already (the upload is ${manifest.state}); ask /s3/params for a new one.`, {
      state: manifest.state,
    });
  }

  const { maxFileSize } = loadConfig(env);
  const splitter = new WholeParts(part.body, manifest.partSize, maxFileSize);
  const whole = await writeStream(env, id, 0, splitter.stream, { verify: async () => splitter.failure === null, requestId });
  if (!whole.accepted) {
    const failure = splitter.failure;
    if (failure instanceof AppError) {
      // Too large: this upload can never succeed.
      await session.abort(requestId);
      throw failure;
    }
    if (failure instanceof FormDataError) throw formError(failure);
    throw new AppError('ERR_BAD_REQUEST', 'The file did not arrive whole (the request ended early). Nothing was kept; send the form again.');
  }

  const size = whole.offset + splitter.remainder.length;
  if (size === 0) {
    await session.abort(requestId);
    throw new AppError('ERR_EMPTY_FILE', 'Empty (0-byte) files cannot be uploaded.');
  }
  unwrap(await session.declareSize(size, requestId));
  if (splitter.remainder.length > 0) {
    const last = await writeStream(env, id, whole.offset, new Blob([splitter.remainder]).stream(), { requestId });
    if (!last.complete) throw new AppError('ERR_STORAGE', 'The end of the file could not be stored; send the form again.');
  }
  // Assembly starts by itself when the last part lands; a file of whole parts needs asking.
  const { state } = unwrap(await session.complete(requestId));
  return { id, size, state };
}

/** `POST` of an S3-style form: the fields, then the file. Answers 201 with the file's URL. */
export async function formUpload(c: Context<AppEnv>): Promise<Response> {
  const boundary = boundaryOf(c.req.header('content-type'));
  if (!boundary) {
    throw new AppError('ERR_UNSUPPORTED_MEDIA_TYPE', 'Send multipart/form-data: the fields from GET /s3/params, then the file as "file".');
  }
  const { maxFileSize } = loadConfig(c.env);
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > maxFileSize + ENVELOPE_BYTES) {
    throw new AppError('ERR_FILE_TOO_LARGE', `The file is larger than the limit of ${maxFileSize} bytes.`, { maxFileSize });
  }
  const body = c.req.raw.body;
  if (!body) throw new AppError('ERR_BAD_REQUEST', 'The form body is empty.');

  const fields = new Map<string, string>();
  try {
    for await (const part of readFormData(body, boundary, { maxParts: MAX_FIELDS + 1 })) {
      // S3 matches field names case-insensitively.
      const name = part.name.toLowerCase();
      if (name === 'file') {
        const result = await receiveFile(c, fields, part);
        const location = new URL(`/media/${result.id}`, c.req.url).toString();
        c.header('Location', location);
        return c.json({ key: result.id, location, size: result.size, state: result.state }, 201);
      }
      fields.set(name, await part.text(MAX_FIELD_BYTES));
    }
  } catch (error) {
    throw error instanceof FormDataError ? formError(error) : error;
  }
  throw new AppError('ERR_VALIDATION', 'The form has no "file" field.');
}
