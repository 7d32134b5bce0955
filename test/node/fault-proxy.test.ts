/**
 * Bad networks: the client library uploads through a seeded TCP fault proxy (test/node/fault-proxy.ts)
 * that delays chunks, stalls connections and resets them mid-body; and part bodies cut off at
 * chosen points must never leave a confirmed part behind.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Uploader, type Manifest } from '../../src/client/index';
import { startDevServer, type DevServer } from '../e2e/dev-server';
import { pdf, sha256 } from '../e2e/fixtures';
import { startFaultProxy, type FaultProxy } from './fault-proxy';

const MiB = 1024 * 1024;
let server: DevServer;
const proxies: FaultProxy[] = [];

beforeAll(async () => {
  server = await startDevServer();
});
afterAll(async () => {
  for (const proxy of proxies) await proxy.close();
  await server?.stop();
});

async function proxy(options: Omit<Parameters<typeof startFaultProxy>[0], 'target'>): Promise<FaultProxy> {
  const started = await startFaultProxy({ target: { port: server.port }, ...options });
  proxies.push(started);
  return started;
}

async function manifestOf(id: string, token: string): Promise<Manifest> {
  const res = await fetch(`${server.url}/api/uploads/${id}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as Manifest;
}

/** Sends one raw HTTP/1.1 PUT of a part through `via`; resolves with the status line, or the socket error. */
function rawPut(via: FaultProxy, path: string, token: string, body: Uint8Array): Promise<{ head: string; answer: string }> {
  const head = `PUT ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
  return new Promise((resolve) => {
    let answer = '';
    const socket = connect(via.port, '127.0.0.1', () => {
      socket.write(head);
      socket.write(body);
    });
    socket.on('data', (data) => (answer += String(data)));
    socket.on('error', (error) => (answer ||= `socket error: ${(error as NodeJS.ErrnoException).code ?? error.message}`));
    socket.on('close', () => resolve({ head, answer: answer.split('\r\n')[0] || 'closed without an answer' }));
  });
}

describe('bad networks', () => {
  it('a 64 MiB upload through delays, stalls and mid-body resets completes with the right bytes', async () => {
    const faulty = await proxy({
      seed: 20261125,
      segmentBytes: 4 * MiB,
      resetRate: 0.25,
      maxResets: 6,
      stallRate: 0.15,
      stallMs: [300, 1500],
      maxStalls: 3,
      delayRate: 0.03,
      maxDelayMs: 30,
    });
    const bytes = pdf(64 * MiB, 81);
    const attempts = new Map<number, { ok: number; failed: number }>();
    const failures: string[] = [];
    const fetchImpl: typeof fetch = async (input, init) => {
      if (init?.method !== 'PUT') return fetch(input, init);
      const part = Number(String(input).split('/').pop());
      const tally = attempts.get(part) ?? { ok: 0, failed: 0 };
      attempts.set(part, tally);
      try {
        const res = await fetch(input, init);
        if (res.ok) tally.ok += 1;
        else {
          tally.failed += 1;
          const code = ((await res.clone().json().catch(() => ({}))) as { error?: { code?: string } }).error?.code;
          failures.push(`${res.status} ${code ?? ''}`.trim());
        }
        return res;
      } catch (error) {
        tally.failed += 1;
        const cause = (error as Error).cause as { code?: string } | undefined;
        failures.push(`network ${cause?.code ?? (error as Error).message}`);
        throw error;
      }
    };
    const upload = new Uploader({ endpoint: faulty.url, fetch: fetchImpl }).add(
      new File([new Uint8Array(bytes)], 'faulty.pdf', { type: 'application/pdf' }),
      { concurrency: 4 },
    );
    const errors: string[] = [];
    upload.on('error', ({ code, message }) => errors.push(`${code}: ${message}`));
    expect(await upload.done, errors.join('; ')).toBe('ready');

    const res = await fetch(`${server.url}/media/${upload.id}`);
    expect(res.status).toBe(200);
    expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(sha256(bytes));
    const manifest = upload.manifest!;
    expect(manifest.confirmedBytes).toBe(bytes.length);
    expect(faulty.stats.resets, 'the proxy really reset connections').toBeGreaterThan(0);

    const failed = [...attempts.values()].reduce((sum, t) => sum + t.failed, 0);
    const kinds = [...new Set(failures)].map((f) => `${failures.filter((x) => x === f).length}× ${f}`).join(', ');
    const puts = [...attempts.values()].reduce((sum, t) => sum + t.ok + t.failed, 0);
    const s = faulty.stats;
    console.log(
      `[fault proxy] 64 MiB through ${s.connections} connections: survived ${s.resets} resets, ${s.stalls} stalls ` +
        `(${s.stalledMs} ms), ${s.delays} delayed chunks (${s.delayedMs} ms); ${puts} part PUTs for 8 parts ` +
        `(${failed} failed and retried${kinds ? `: ${kinds}` : ''}), ${(s.bytesUp / MiB).toFixed(1)} MiB sent for 64 MiB; SHA-256 equal, 0 bytes lost`,
    );
  });

  it('a part body cut off at any point (reset or truncated) never leaves a confirmed part, and the part can be sent again at once', async () => {
    const bytes = pdf(30 * MiB, 82);
    const partSize = 5 * MiB;
    const created = await fetch(`${server.url}/api/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'cut.pdf', size: bytes.length, type: 'application/pdf', partSize }),
    });
    expect(created.status).toBe(201);
    const { id, uploadToken } = (await created.json()) as { id: string; uploadToken: string };
    const cutter = await proxy({ seed: 1 });
    const part = (n: number) => new Uint8Array(bytes.subarray((n - 1) * partSize, n * partSize));
    const cuts = [
      { name: 'reset after the headers', kind: 'reset', body: 0 },
      { name: 'reset after 1 byte', kind: 'reset', body: 1 },
      { name: 'reset half-way', kind: 'reset', body: partSize / 2 },
      { name: 'reset 1 byte short', kind: 'reset', body: partSize - 1 },
      { name: 'body truncated (FIN) half-way', kind: 'end', body: partSize / 2 },
      { name: 'body truncated (FIN) 1 byte short', kind: 'end', body: partSize - 1 },
    ] as const;
    const rows: string[] = [];
    for (const [i, cut] of cuts.entries()) {
      const n = i + 1;
      const path = `/api/uploads/${id}/parts/${n}`;
      const headBytes = Buffer.byteLength(`PUT ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${uploadToken}\r\nContent-Length: ${partSize}\r\nConnection: close\r\n\r\n`);
      cutter.planNext(cut.kind === 'reset' ? { resetAfterBytes: headBytes + cut.body } : { endAfterBytes: headBytes + cut.body });
      const { answer } = await rawPut(cutter, path, uploadToken, part(n));
      // Let the Worker notice the broken body and give up the part's lease.
      await new Promise((r) => setTimeout(r, 200));
      const manifest = await manifestOf(id, uploadToken);
      expect(manifest.parts.map((p) => p.partNumber), cut.name).not.toContain(n);
      expect(manifest.confirmedParts, cut.name).toBe(i);
      expect(manifest.confirmedBytes, cut.name).toBe(i * partSize);
      // Sent properly, straight away: accepted (no lease left behind by the broken PUT).
      const again = await fetch(`${server.url}${path}`, { method: 'PUT', headers: { authorization: `Bearer ${uploadToken}` }, body: part(n) });
      expect(again.status, `${cut.name}: ${await again.clone().text()}`).toBe(200);
      rows.push(`${cut.name} → client saw "${answer}", part ${n} not recorded, re-sent: ${again.status}`);
    }
    expect(cutter.stats.resets + cutter.stats.truncations).toBe(cuts.length);
    // The file is whole and exact: none of the broken bodies got into the object.
    const done = await fetch(`${server.url}/api/uploads/${id}/complete`, { method: 'POST', headers: { authorization: `Bearer ${uploadToken}` } });
    expect(done.status).toBe(202);
    let manifest = await manifestOf(id, uploadToken);
    for (let i = 0; i < 100 && !['ready', 'rejected', 'failed'].includes(manifest.state); i++) {
      await new Promise((r) => setTimeout(r, 200));
      manifest = await manifestOf(id, uploadToken);
    }
    expect(manifest.state).toBe('ready');
    const media = await fetch(`${server.url}/media/${id}`);
    expect(sha256(new Uint8Array(await media.arrayBuffer()))).toBe(sha256(bytes));
    console.log(`[cut part bodies] ${cuts.length} cut-off part bodies, 0 confirmed, each re-sent at once, SHA-256 equal:\n  ${rows.join('\n  ')}`);
  });
});
