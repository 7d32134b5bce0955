/**
 * A real webhook receiver on 127.0.0.1 for the tests: records every request and answers by path,
 * as endpoints in the wild do: 200, 500, 410, never, a redirect, or 500 a few times then 200.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ReceivedWebhook {
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

export type Behaviour = 'ok' | 'fail' | 'gone' | 'hang' | 'redirect' | { failFirst: number };

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** How `path` answers from now on. */
  answer(path: string, behaviour: Behaviour): void;
  /** Requests to `path`, optionally only those of one event type. */
  at(path: string, type?: string): ReceivedWebhook[];
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    request.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => resolve(body)).on('error', reject);
  });
}

export async function startWebhookReceiver(behaviours: Record<string, Behaviour>): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const routes = new Map(Object.entries(behaviours));
  const sockets = new Set<Socket>();
  const server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', 'http://receiver').pathname;
    const body = await readBody(request);
    const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)]));
    received.push({ path, headers, body, at: Date.now() });
    const behaviour = routes.get(path) ?? 'ok';
    if (behaviour === 'hang') return; // never answers; the socket is destroyed on close()
    if (behaviour === 'redirect') {
      response.writeHead(302, { location: '/redirected' }).end();
      return;
    }
    if (typeof behaviour === 'object') {
      const id = headers['webhook-id'];
      const seen = received.filter((r) => r.path === path && r.headers['webhook-id'] === id).length;
      response.writeHead(seen <= behaviour.failFirst ? 500 : 200).end();
      return;
    }
    response.writeHead(behaviour === 'ok' ? 200 : behaviour === 'gone' ? 410 : 500).end(behaviour);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const eventType = (r: ReceivedWebhook) => (JSON.parse(r.body) as { type: string }).type;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    answer: (path, behaviour) => routes.set(path, behaviour),
    at: (path, type) => received.filter((r) => r.path === path && (type === undefined || eventType(r) === type)),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
