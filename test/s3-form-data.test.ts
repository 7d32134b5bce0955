/**
 * The streaming multipart/form-data reader: bodies the runtime itself encodes (FormData), split at
 * every possible place, files that contain near-delimiters, preamble and epilogue, and the ways a
 * body can be wrong (cut off, no boundary, headers too long, too many parts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boundaryOf, FormDataError, readFormData } from '../src/api/s3/form-data-stream';
import { seededBytes } from './seeded-bytes';

const encoder = new TextEncoder();

/** A stream that hands out `bytes` in chunks of the given sizes (cycling), like a network would. */
function chunked(bytes: Uint8Array, sizes: number[]): ReadableStream<Uint8Array> {
  let offset = 0;
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      const size = Math.max(1, sizes[i++ % sizes.length]!);
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
}

async function encode(form: FormData): Promise<{ bytes: Uint8Array; boundary: string }> {
  const response = new Response(form);
  const boundary = boundaryOf(response.headers.get('content-type'));
  expect(boundary).toBeTruthy();
  return { bytes: new Uint8Array(await response.arrayBuffer()), boundary: boundary! };
}

interface ReadPart {
  name: string;
  filename: string | null;
  contentType: string | null;
  bytes: Uint8Array;
}

async function readAll(stream: ReadableStream<Uint8Array>, boundary: string): Promise<ReadPart[]> {
  const parts: ReadPart[] = [];
  for await (const part of readFormData(stream, boundary)) {
    parts.push({ name: part.name, filename: part.filename, contentType: part.contentType, bytes: new Uint8Array(await new Response(part.body).arrayBuffer()) });
  }
  return parts;
}

async function failure(promise: Promise<unknown>): Promise<FormDataError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FormDataError);
  return error as FormDataError;
}

describe('boundaryOf', () => {
  it('reads plain and quoted boundaries of multipart/form-data only', () => {
    expect(boundaryOf('multipart/form-data; boundary=----WebKitFormBoundaryAbC123')).toBe('----WebKitFormBoundaryAbC123');
    expect(boundaryOf('Multipart/Form-Data;boundary="a b:c"')).toBe('a b:c');
    expect(boundaryOf('multipart/form-data; charset=utf-8; boundary=xyz')).toBe('xyz');
    expect(boundaryOf('multipart/mixed; boundary=xyz')).toBeNull();
    expect(boundaryOf('application/json')).toBeNull();
    expect(boundaryOf('multipart/form-data')).toBeNull();
    expect(boundaryOf(`multipart/form-data; boundary=${'a'.repeat(71)}`)).toBeNull();
    expect(boundaryOf('multipart/form-data; boundary="ends in space "')).toBeNull();
    expect(boundaryOf(undefined)).toBeNull();
  });
});

describe('readFormData', () => {
  it('reads fields and a file as the runtime encodes them, however the body is split', async () => {
    const file = seededBytes(200_000, 5);
    const form = new FormData();
    form.set('key', '0123456789abcdef0123456789abcdef');
    form.set('token', 'payload.signature');
    form.set('note', 'ünïcødé ✓');
    form.set('file', new File([file], 'report "final".pdf', { type: 'application/pdf' }));
    const { bytes, boundary } = await encode(form);
    for (const sizes of [[bytes.length], [1], [2, 3, 5, 7], [boundary.length + 3], [65_536, 17]]) {
      const parts = await readAll(chunked(bytes, sizes), boundary);
      expect(parts.map((p) => [p.name, p.filename, p.contentType])).toEqual([
        ['key', null, null],
        ['token', null, null],
        ['note', null, null],
        ['file', 'report %22final%22.pdf', 'application/pdf'],
      ]);
      expect(new TextDecoder().decode(parts[2]!.bytes)).toBe('ünïcødé ✓');
      expect(parts[3]!.bytes).toEqual(file);
    }
  });

  it('round-trips any fields and file content under any chunking (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9_]{0,9}$/), fc.string({ maxLength: 40 })), { maxLength: 5 }),
        fc.uint8Array({ maxLength: 3000 }),
        fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        async (fields, content, sizes, lure) => {
          const form = new FormData();
          for (const [name, value] of fields) form.append(name, value);
          // Sprinkle things that look like the start of a delimiter through the file.
          const file = lure ? new Uint8Array([...content, ...encoder.encode('\r\n--'), ...content.slice(0, 10), 13, 10, 45]) : content;
          form.append('file', new File([file], 'f.bin'));
          const { bytes, boundary } = await encode(form);
          const parts = await readAll(chunked(bytes, sizes), boundary);
          expect(parts.length).toBe(fields.length + 1);
          fields.forEach(([name, value], i) => {
            expect(parts[i]!.name).toBe(name);
            // FormData normalises line breaks in field values to CRLF.
            expect(new TextDecoder().decode(parts[i]!.bytes)).toBe(value.replace(/\r\n|\r|\n/g, '\r\n'));
          });
          expect(parts.at(-1)!.bytes).toEqual(file);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('holds back bytes that almost make a delimiter, and emits them when they do not', async () => {
    const content = 'a\r\n--XyA\r\n--Xy\r\n-\r\n-\r';
    const body = `--XyZ\r\nContent-Disposition: form-data; name="f"; filename="x"\r\n\r\n${content}\r\n--XyZ--\r\n`;
    for (const sizes of [[1], [2], [5]]) {
      const parts = await readAll(chunked(encoder.encode(body), sizes), 'XyZ');
      expect(new TextDecoder().decode(parts[0]!.bytes)).toBe(content);
    }
  });

  it('skips preamble and epilogue, allows padding after a delimiter, and parts without headers', async () => {
    const good = 'preamble\r\n--b1 \t\r\nContent-Disposition: form-data; name="a"\r\n\r\nA\r\n--b1\r\ncontent-disposition: FORM-DATA; name=b\r\n\r\nB\r\n--b1--\r\nepilogue';
    const parts = await readAll(chunked(encoder.encode(good), [4]), 'b1');
    expect(parts.map((p) => [p.name, new TextDecoder().decode(p.bytes)])).toEqual([['a', 'A'], ['b', 'B']]);
    // A part with no headers at all has no name: refused.
    const headless = '--b1\r\n\r\nno headers\r\n--b1--';
    expect((await failure(readAll(chunked(encoder.encode(headless), [3]), 'b1'))).reason).toBe('malformed');
  });

  it('skips a body the consumer does not read', async () => {
    const form = new FormData();
    form.set('file', new File([seededBytes(100_000, 2)], 'skip.bin'));
    form.set('after', 'still here');
    const { bytes, boundary } = await encode(form);
    const seen: string[] = [];
    for await (const part of readFormData(chunked(bytes, [999]), boundary)) {
      seen.push(part.name === 'after' ? await part.text() : part.name);
    }
    expect(seen).toEqual(['file', 'still here']);
  });

  it('fails a cut-off body inside the file, with the bytes before the cut delivered', async () => {
    const form = new FormData();
    form.set('file', new File([seededBytes(50_000, 3)], 'cut.bin'));
    const { bytes, boundary } = await encode(form);
    const cut = bytes.slice(0, 30_000);
    const parts = readFormData(chunked(cut, [4096]), boundary);
    const first = await parts.next();
    expect(first.done).toBe(false);
    const reader = first.value!.body.getReader();
    let received = 0;
    const error = await (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return null;
        received += value.length;
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FormDataError);
    expect((error as FormDataError).reason).toBe('truncated');
    expect(received).toBeGreaterThan(20_000);
  });

  it('refuses a body without the boundary, a missing close, over-long headers and too many parts', async () => {
    expect((await failure(readAll(chunked(encoder.encode('no delimiter at all'), [5]), 'b'))).reason).toBe('malformed');
    expect((await failure(readAll(chunked(encoder.encode('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nA'), [5]), 'b'))).reason).toBe('truncated');
    expect((await failure(readAll(chunked(encoder.encode('--b\r\nContent-Disposition: form-data; name="a"'), [5]), 'b'))).reason).toBe('truncated');
    const longHeader = `--b\r\nContent-Disposition: form-data; name="a"\r\nX-Long: ${'x'.repeat(10_000)}\r\n\r\nA\r\n--b--`;
    expect((await failure(readAll(chunked(encoder.encode(longHeader), [1000]), 'b'))).reason).toBe('limit');
    const many = Array.from({ length: 5 }, (_, i) => `--b\r\nContent-Disposition: form-data; name="f${i}"\r\n\r\n${i}\r\n`).join('') + '--b--';
    const limited = (async () => {
      for await (const part of readFormData(chunked(encoder.encode(many), [64]), 'b', { maxParts: 3 })) await part.text();
    })();
    expect((await failure(limited)).reason).toBe('limit');
    expect((await failure(readAll(chunked(encoder.encode('--b\r\nContent-Type: text/plain\r\n\r\nA\r\n--b--'), [64]), 'b'))).reason).toBe('malformed');
    expect((await failure(readAll(chunked(encoder.encode('--b\r\nContent-Disposition: attachment; name="a"\r\n\r\nA\r\n--b--'), [64]), 'b'))).reason).toBe('malformed');
    expect((await failure(readAll(chunked(encoder.encode('--bgarbage\r\n'), [64]), 'b'))).reason).toBe('malformed');
  });

  it('caps a field read as text', async () => {
    const body = `--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n${'x'.repeat(100)}\r\n--b--`;
    const read = (async () => {
      for await (const part of readFormData(chunked(encoder.encode(body), [7]), 'b')) await part.text(50);
    })();
    expect((await failure(read)).reason).toBe('limit');
  });
});
