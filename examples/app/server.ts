/**
 * @module An example app with the upload service behind it: a login stub, an upload grant minted per
 * signed-in user, a page using the client library with that grant, a webhook receiver that verifies
 * every delivery, and the user's files from the files API (private ones opened through signed URLs).
 * Plain node:http and the server SDK; run with `npm run example` beside `npm run dev` (README.md here).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServerClient, createUploadGrant, signedMediaUrl, verifyWebhook, type UploadWebhookEvent } from 'edge-upload-pipeline/server';

export interface ExampleAppOptions {
  port?: number;
  /** The upload service, e.g. http://127.0.0.1:8787. */
  uploadsUrl: string;
  /** The service's AUTH_JWT_SECRET, API key, WEBHOOK_SECRET and MEDIA_URL_KEYS. */
  authJwtSecret: string;
  apiKey: string;
  webhookSecret: string;
  mediaUrlKeys: string;
}

export interface ExampleApp {
  url: string;
  /** Verified webhook events, one per webhook-id (deliveries are at least once). */
  events: Map<string, UploadWebhookEvent>;
  /** Deliveries refused because their signature did not verify. */
  refused: number;
  close(): Promise<void>;
}

const MiB = 1024 * 1024;

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    request.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(body)).on('error', reject);
  });
}

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(user: string | null): string {
  if (!user) {
    return `<!doctype html><meta charset="utf-8"><title>Example app</title>
<h1>Sign in</h1><form method="post" action="/login"><label>Name <input name="name" required pattern="[a-z0-9-]{1,32}"></label> <button>Sign in</button></form>`;
  }
  return `<!doctype html><meta charset="utf-8"><title>Example app</title>
<h1>Hello, ${escape(user)}</h1>
<p><label>File <input type="file" id="file"></label> <label><input type="checkbox" id="private"> Private</label></p>
<p id="status">Choose a file.</p>
<h2>Your files</h2><ul id="files"></ul>
<script type="module">
  import { Uploader } from '/client/uploader.js';
  const { uploadsUrl } = await (await fetch('/app-config')).json();
  const $ = (id) => document.getElementById(id);
  // The service asks for a creator JWT when an upload is created: the app mints one per upload (its grant).
  const uploader = new Uploader({
    endpoint: uploadsUrl,
    getAuthToken: async () => (await (await fetch('/grant?visibility=' + ($('private').checked ? 'private' : 'public'))).json()).token,
  });
  async function refresh() {
    const { files } = await (await fetch('/my-files')).json();
    $('files').replaceChildren(...files.map((f) => {
      const li = document.createElement('li');
      li.dataset.id = f.id;
      li.dataset.state = f.state;
      li.dataset.notified = String(f.notified);
      const a = document.createElement('a');
      a.href = '/open/' + f.id;
      a.textContent = f.name;
      li.append(a, ' ' + f.state + ' · ' + f.visibility + (f.notified ? ' · webhook received' : ''));
      return li;
    }));
  }
  $('file').addEventListener('change', async () => {
    const upload = uploader.add($('file').files[0]);
    upload.on('state', ({ state }) => ($('status').textContent = state));
    $('status').textContent = await upload.done;
    await refresh();
  });
  await refresh();
  setInterval(refresh, 1000);
</script>`;
}

export async function startExampleApp(options: ExampleAppOptions): Promise<ExampleApp> {
  const sessionKey = randomBytes(32);
  const files = createServerClient({ baseUrl: options.uploadsUrl, apiKey: options.apiKey }).files;
  const events = new Map<string, UploadWebhookEvent>();
  const state = { refused: 0 };

  const sign = (name: string) => `${name}.${createHmac('sha256', sessionKey).update(name).digest('base64url')}`;
  function userOf(request: IncomingMessage): string | null {
    const cookie = /(?:^|;\s*)session=([^;]+)/.exec(request.headers.cookie ?? '')?.[1];
    const name = cookie?.split('.')[0];
    if (!cookie || !name) return null;
    const expected = Buffer.from(sign(name));
    const given = Buffer.from(cookie);
    return expected.length === given.length && timingSafeEqual(expected, given) ? name : null;
  }
  const json = (response: ServerResponse, status: number, body: unknown): void =>
    void response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://app');
    const user = userOf(request);
    if (request.method === 'POST' && url.pathname === '/webhooks') {
      const body = await readBody(request);
      let event: UploadWebhookEvent;
      try {
        event = verifyWebhook(body, request.headers, options.webhookSecret);
      } catch {
        state.refused += 1;
        return json(response, 400, { error: 'invalid signature' });
      }
      // At least once: the same webhook-id may come again; the first one counts.
      const id = String(request.headers['webhook-id']);
      if (!events.has(id)) events.set(id, event);
      return void response.writeHead(204).end();
    }
    if (request.method === 'POST' && url.pathname === '/login') {
      const name = new URLSearchParams(await readBody(request)).get('name') ?? '';
      if (!/^[a-z0-9-]{1,32}$/.test(name)) return json(response, 400, { error: 'a name of a-z, 0-9 and -' });
      return void response.writeHead(303, { location: '/', 'set-cookie': `session=${sign(name)}; HttpOnly; SameSite=Lax; Path=/` }).end();
    }
    if (url.pathname === '/') return void response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(user));
    if (url.pathname === '/app-config') return json(response, 200, { uploadsUrl: options.uploadsUrl });
    if (url.pathname === '/client/uploader.js') {
      // The client library, from the upload service, served from this origin like the app's own scripts.
      const library = await fetch(`${options.uploadsUrl}/client/uploader.js`);
      return void response.writeHead(library.status, { 'content-type': 'text/javascript' }).end(Buffer.from(await library.arrayBuffer()));
    }
    if (!user) return json(response, 401, { error: 'sign in first' });
    if (url.pathname === '/grant') {
      const visibility = url.searchParams.get('visibility') === 'private' ? 'private' : 'public';
      const token = await createUploadGrant({
        secret: options.authJwtSecret,
        subject: user,
        expiresIn: 300,
        allowedTypes: ['image/*', 'application/pdf'],
        maxFileSize: 100 * MiB,
        maxFiles: 1,
        visibility,
        metadata: { app: 'example' },
      });
      return json(response, 200, { token });
    }
    if (url.pathname === '/my-files') {
      const { files: list } = await files.list({ owner: user, limit: 50 });
      const notified = new Set([...events.values()].filter((e) => e.type === 'upload.ready').map((e) => e.data.upload.id));
      return json(response, 200, { files: list.map((f) => ({ ...f, notified: notified.has(f.id) })) });
    }
    const open = /^\/open\/([0-9a-f]{32})$/.exec(url.pathname);
    if (open) {
      const file = await files.get(open[1]!).catch(() => null);
      if (!file || file.owner !== user) return json(response, 404, { error: 'no such file' });
      const target =
        file.visibility === 'private'
          ? (await signedMediaUrl({ baseUrl: options.uploadsUrl, keys: options.mediaUrlKeys, id: file.id, expiresIn: 300 })).url
          : `${options.uploadsUrl}/media/${file.id}`;
      return void response.writeHead(302, { location: target }).end();
    }
    return json(response, 404, { error: 'not found' });
  }

  const server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      console.error('example app', request.url, error);
      if (!response.headersSent) json(response, 500, { error: 'something went wrong' });
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    events,
    get refused() {
      return state.refused;
    },
    // Idle keep-alive connections (a browser's) would hold close() open: end them too.
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The upload service's development settings (dev.env): its public, development-only secrets. */
export function readDevEnv(): Record<string, string> {
  return Object.fromEntries(
    readFileSync(new URL('../../dev.env', import.meta.url), 'utf8')
      .split('\n')
      .map((line) => /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
}

/** `npm run example`: the development settings of dev.env, or the environment's. */
async function main(): Promise<void> {
  const dev = readDevEnv();
  const setting = (name: string) => process.env[name] ?? dev[name] ?? '';
  const app = await startExampleApp({
    port: Number(process.env.PORT ?? 3000),
    uploadsUrl: process.env.UPLOADS_URL ?? 'http://127.0.0.1:8787',
    authJwtSecret: setting('AUTH_JWT_SECRET'),
    apiKey: setting('API_KEYS').split(',')[0]!,
    webhookSecret: setting('WEBHOOK_SECRET'),
    mediaUrlKeys: setting('MEDIA_URL_KEYS'),
  });
  console.log(`example app on ${app.url}`);
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) await main();
