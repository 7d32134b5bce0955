/**
 * @module Progress when quiet (issue 17 item 4): one part after ≥ 1 s of silence, the time from
 * the part's `200` at the client to the first `progress` event covering it at a WebSocket
 * subscriber. The hub's throttle is leading-edge, so after a quiet period this is the broadcast
 * itself, not the throttle window.
 */
import type { BenchServer } from '../lib/servers';
import { MiB } from '../lib/stats';

export interface IdleProgressRun {
  /** ms from each part's 200 to the progress event covering it (negative: the event came first). */
  latencyMs: number[];
}

const PART = 5 * MiB;

export async function idleProgress(server: BenchServer, parts: number, quietMs = 1200): Promise<IdleProgressRun> {
  const body = JSON.stringify({ name: 'idle.pdf', size: PART * parts, type: 'application/pdf', partSize: PART });
  const created = (await (await fetch(`${server.url}/api/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).json()) as {
    id: string;
    uploadToken: string;
  };
  const heard: { at: number; confirmedBytes: number }[] = [];
  const url = new URL(`/api/uploads/${created.id}/events`, server.url);
  url.protocol = 'ws:';
  url.searchParams.set('token', created.uploadToken);
  const ws = new WebSocket(url);
  ws.addEventListener('message', (event) => {
    const at = performance.now();
    try {
      const message = JSON.parse(String(event.data)) as { type: string; confirmedBytes?: number };
      if (message.type === 'progress' && message.confirmedBytes !== undefined) heard.push({ at, confirmedBytes: message.confirmedBytes });
    } catch {
      // "pong"
    }
  });
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve, { once: true });
    ws.addEventListener('error', () => reject(new Error('events WebSocket failed')), { once: true });
  });
  const bytes = new Uint8Array(PART);
  bytes.set(new TextEncoder().encode('%PDF-1.7\n'));
  const latencyMs: number[] = [];
  try {
    for (let n = 1; n <= parts; n++) {
      await new Promise((r) => setTimeout(r, quietMs));
      const response = await fetch(`${server.url}/api/uploads/${created.id}/parts/${n}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${created.uploadToken}`, 'content-type': 'application/octet-stream' },
        body: bytes,
      });
      const answeredAt = performance.now();
      if (!response.ok) throw new Error(`part ${n}: ${response.status} ${await response.text()}`);
      await response.arrayBuffer();
      const covered = n * PART;
      const deadline = Date.now() + 5000;
      while (!heard.some((h) => h.confirmedBytes >= covered) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
      const match = heard.find((h) => h.confirmedBytes >= covered);
      if (match) latencyMs.push(match.at - answeredAt);
    }
  } finally {
    ws.close(1000, 'done');
    await fetch(`${server.url}/api/uploads/${created.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${created.uploadToken}` } }).then((r) => r.arrayBuffer());
  }
  return { latencyMs };
}
