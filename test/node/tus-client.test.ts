/**
 * tus-js-client (the reference client) against `wrangler dev`: tus 1.0 and the IETF draft, chunk
 * sizes that are not multiples of the part size, interrupted PATCHes, checksums, termination,
 * and the same upload seen through the native API and its events.
 */
import * as tus from 'tus-js-client';
import { describe, expect, it } from 'vitest';
import { useDevServer } from '../e2e/use-dev-server';
import { pdf, sha256 } from '../e2e/fixtures';

const MiB = 1024 * 1024;
const server = useDevServer();

function upload(bytes: Buffer, options: Partial<tus.UploadOptions> = {}): { done: Promise<string>; upload: tus.Upload } {
  let resolve!: (url: string) => void;
  let reject!: (error: Error) => void;
  const done = new Promise<string>((res, rej) => ((resolve = res), (reject = rej)));
  const up: tus.Upload = new tus.Upload(bytes, {
    endpoint: `${server().url}/files/`,
    metadata: { filename: 'tus.pdf', filetype: 'application/pdf' },
    retryDelays: [100, 300, 1000],
    ...options,
    onSuccess: () => resolve(up.url!),
    onError: (error) => reject(error),
  });
  up.start();
  return { done, upload: up };
}

/** The native manifest for a tus upload URL: the id is the last path segment, the token is in the query. */
async function manifestOf(url: string): Promise<{ id: string; token: string; state: string; result?: { url: string } }> {
  const parsed = new URL(url);
  const id = parsed.pathname.split('/').pop()!;
  const token = parsed.searchParams.get('token')!;
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`${server().url}/api/uploads/${id}`, { headers: { authorization: `Bearer ${token}` } });
    const manifest = (await res.json()) as { state: string; result?: { url: string } };
    if (['ready', 'rejected', 'failed'].includes(manifest.state)) return { id, token, ...manifest };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('never finished');
}

async function download(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return sha256(new Uint8Array(await res.arrayBuffer()));
}

describe('tus 1.0 with tus-js-client', () => {
  it('answers OPTIONS with versions, extensions and limits', async () => {
    const res = await fetch(`${server().url}/files/`, { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('tus-version')).toBe('1.0.0');
    expect(res.headers.get('tus-extension')).toContain('creation-with-upload');
    expect(res.headers.get('tus-checksum-algorithm')).toContain('sha1');
    expect(Number(res.headers.get('tus-max-size'))).toBeGreaterThan(0);
  });

  it('a 40 MiB upload in 7 MiB chunks (not a multiple of the part size) arrives byte-identical', async () => {
    const bytes = pdf(40 * MiB + 11, 91);
    const { done } = upload(bytes, { chunkSize: 7 * MiB });
    const url = await done;
    const manifest = await manifestOf(url);
    expect(manifest.state).toBe('ready');
    expect(await download(url)).toBe(sha256(bytes));
    expect(await download(new URL(manifest.result!.url, server().url).toString())).toBe(sha256(bytes));
  });

  it('resumes from the server offset after a PATCH is interrupted', async () => {
    const bytes = pdf(24 * MiB + 5, 92);
    const first = upload(bytes, { chunkSize: 20 * MiB });
    // Abort mid-PATCH once some bytes are on their way.
    await new Promise<void>((resolve) => {
      first.upload.options.onProgress = (sent) => {
        if (sent > 9 * MiB) resolve();
      };
    });
    await first.upload.abort();
    const url = first.upload.url!;
    const head = await fetch(url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    const offset = Number(head.headers.get('upload-offset'));
    expect(head.headers.get('cache-control')).toBe('no-store');
    expect(offset).toBeLessThan(bytes.length);
    // A new client resumes from that URL and sends only the rest.
    const second = upload(bytes, { uploadUrl: url, chunkSize: 20 * MiB });
    await second.done;
    expect((await manifestOf(url)).state).toBe('ready');
    expect(await download(url)).toBe(sha256(bytes));
    console.log(`proved: interrupted at ${offset} of ${bytes.length} bytes (server offset), resumed, identical`);
  });

  it('refuses a body whose checksum does not match with 460, and keeps nothing of it', async () => {
    const create = await fetch(`${server().url}/files/`, {
      method: 'POST',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '1000', 'Upload-Metadata': `filetype ${btoa('application/pdf')}` },
    });
    expect(create.status).toBe(201);
    const url = create.headers.get('location')!;
    const body = new Uint8Array(pdf(1000, 93));
    const patch = (checksum: string) =>
      fetch(url, {
        method: 'PATCH',
        headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream', 'Upload-Checksum': checksum },
        body,
      });
    expect((await patch(`sha1 ${btoa('x'.repeat(20))}`)).status).toBe(460);
    const head = await fetch(url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    expect(head.headers.get('upload-offset')).toBe('0');
    const sha1 = Buffer.from(await crypto.subtle.digest('SHA-1', body)).toString('base64');
    const good = await patch(`sha1 ${sha1}`);
    expect(good.status).toBe(204);
    expect(good.headers.get('upload-offset')).toBe('1000');
    expect((await patch('crc32 AAAA')).status).toBe(400);
  });

  it('enforces the protocol: version, content type, offset', async () => {
    const create = await fetch(`${server().url}/files/`, {
      method: 'POST',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '100', 'Upload-Metadata': `filetype ${btoa('application/pdf')}` },
    });
    const url = create.headers.get('location')!;
    expect(create.headers.get('upload-expires')).toMatch(/GMT$/);
    const patch = (headers: Record<string, string>) => fetch(url, { method: 'PATCH', headers, body: new Uint8Array(pdf(100, 94)) });
    expect((await patch({ 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' })).status).toBe(412);
    expect((await patch({ 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Content-Type': 'text/plain' })).status).toBe(415);
    expect((await patch({ 'Tus-Resumable': '1.0.0', 'Upload-Offset': '5', 'Content-Type': 'application/offset+octet-stream' })).status).toBe(409);
    const disallowed = await fetch(`${server().url}/files/`, {
      method: 'POST',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '100', 'Upload-Metadata': `filetype ${btoa('text/html')}` },
    });
    expect(disallowed.status).toBe(415);
  });

  it('creation-with-upload takes the first bytes with the POST; a second writer gets 423', async () => {
    const bytes = pdf(3000, 99);
    const create = await fetch(`${server().url}/files/`, {
      method: 'POST',
      headers: {
        'Tus-Resumable': '1.0.0',
        'Upload-Length': String(bytes.length),
        'Upload-Metadata': `filetype ${btoa('application/pdf')}`,
        'Content-Type': 'application/offset+octet-stream',
      },
      body: new Uint8Array(bytes.subarray(0, 1000)),
    });
    expect(create.status).toBe(201);
    expect(create.headers.get('upload-offset')).toBe('1000');
    const url = create.headers.get('location')!;

    // A PATCH that is still sending holds the upload: a second one is refused with 423.
    let push!: ReadableStreamDefaultController<Uint8Array>;
    const slow = new ReadableStream<Uint8Array>({ start: (controller) => void (push = controller) });
    const first = fetch(url, {
      method: 'PATCH',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '1000', 'Content-Type': 'application/offset+octet-stream' },
      body: slow,
      duplex: 'half',
    } as RequestInit);
    push.enqueue(new Uint8Array(bytes.subarray(1000, 1500)));
    let second: Response | undefined;
    for (let i = 0; i < 50 && second?.status !== 423; i++) {
      await new Promise((r) => setTimeout(r, 50));
      second = await fetch(url, {
        method: 'PATCH',
        headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '1000', 'Content-Type': 'application/offset+octet-stream' },
        body: new Uint8Array(bytes.subarray(1000)),
      });
    }
    expect(second?.status).toBe(423);
    push.enqueue(new Uint8Array(bytes.subarray(1500)));
    push.close();
    const done = await first;
    expect(done.status).toBe(204);
    expect(done.headers.get('upload-offset')).toBe(String(bytes.length));
    expect((await manifestOf(url)).state).toBe('ready');
    expect(await download(url)).toBe(sha256(bytes));
  });

  it('DELETE terminates; HEAD then answers 410', async () => {
    const bytes = pdf(6 * MiB, 95);
    const first = upload(bytes, { chunkSize: 5 * MiB });
    await new Promise<void>((resolve) => (first.upload.options.onChunkComplete = () => resolve()));
    await first.upload.abort();
    const url = first.upload.url!;
    const del = await fetch(url, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0' } });
    expect(del.status).toBe(204);
    expect([404, 410]).toContain((await fetch(url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } })).status);
  });

  it('parallelUploads: 3 partial uploads concatenated by a final one, byte-identical; partials removed', async () => {
    const bytes = pdf(30 * MiB + 7, 98);
    const partials: string[] = [];
    const { done } = upload(bytes, {
      parallelUploads: 3,
      chunkSize: 6 * MiB,
      onUploadUrlAvailable: () => undefined,
      onBeforeRequest: (req) => {
        if (req.getMethod() === 'PATCH' && !partials.includes(req.getURL())) partials.push(req.getURL());
      },
    });
    const url = await done;
    expect(partials).toHaveLength(3);
    expect((await manifestOf(url)).state).toBe('ready');
    expect(await download(url)).toBe(sha256(bytes));
    for (const partial of partials) {
      expect([404, 410]).toContain((await fetch(partial, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } })).status);
    }
  });

  it('supports deferred length', async () => {
    const bytes = pdf(12 * MiB + 1, 96);
    const { done } = upload(bytes, { chunkSize: 5 * MiB, uploadLengthDeferred: true });
    const url = await done;
    expect((await manifestOf(url)).state).toBe('ready');
    expect(await download(url)).toBe(sha256(bytes));
  });

  it('the same upload is observed over our events WebSocket while tus-js-client sends it', async () => {
    const bytes = pdf(20 * MiB + 9, 97);
    const messages: { type: string; state?: string; confirmedBytes?: number }[] = [];
    let socket: WebSocket | undefined;
    const opened = new Promise<void>((resolve) => {
      const { done, upload: up } = upload(bytes, {
        chunkSize: 6 * MiB,
        onUploadUrlAvailable: () => {
          const url = new URL(up.url!);
          const id = url.pathname.split('/').pop()!;
          socket = new WebSocket(`${server().url.replace('http', 'ws')}/api/uploads/${id}/events?token=${encodeURIComponent(url.searchParams.get('token')!)}`);
          socket.addEventListener('message', (event) => messages.push(JSON.parse(String(event.data))));
          socket.addEventListener('open', () => resolve());
        },
      });
      void done;
    });
    await opened;
    for (let i = 0; i < 300 && !messages.some((m) => m.type === 'state' && m.state === 'ready'); i++) await new Promise((r) => setTimeout(r, 100));
    socket?.close();
    const progress = messages.filter((m) => m.type === 'progress').map((m) => m.confirmedBytes!);
    expect(messages[0]!.type).toBe('snapshot');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((v, i) => i === 0 || v >= progress[i - 1]!)).toBe(true);
    expect(progress.at(-1)).toBe(bytes.length);
    expect(messages.filter((m) => m.type === 'state').map((m) => m.state)).toContain('ready');
  });

  it('the IETF draft (ietf-draft-05 and -03) completes over the same session', async () => {
    for (const protocol of ['ietf-draft-05', 'ietf-draft-03'] as const) {
      const bytes = pdf(9 * MiB + 3, protocol.length);
      // `protocol` is in tus-js-client's runtime options but not (yet) in its published types.
      const { done } = upload(bytes, { protocol, chunkSize: 4 * MiB } as Partial<tus.UploadOptions>);
      const url = await done;
      expect((await manifestOf(url)).state, protocol).toBe('ready');
      expect(await download(url)).toBe(sha256(bytes));
    }
  });
});
