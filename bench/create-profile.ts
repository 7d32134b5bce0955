/**
 * @module Diagnostic: where a create's time goes. Starts the profiling Worker (bench/profile), sends
 * creates from 1 and from 32 callers, and prints the median of each `Server-Timing` entry.
 * `npx tsx bench/create-profile.ts [requests]`
 */
import { cleanup, installSignalHandlers, snapshot, startProfiled } from './lib/servers';
import { percentile } from './lib/stats';

const requests = Number(process.argv[2] ?? 64);

async function batch(server: { url: string }, callers: number): Promise<void> {
  const timings: Record<string, number[]> = {};
  const created: { id: string; uploadToken: string }[] = [];
  let left = requests;
  const body = JSON.stringify({ name: 'bench.pdf', size: 64 * 1024 * 1024, type: 'application/pdf' });
  const caller = async () => {
    while (left-- > 0) {
      const sent = performance.now();
      const response = await fetch(`${server.url}/api/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const answer = (await response.json()) as { id: string; uploadToken: string };
      (timings.client ??= []).push(performance.now() - sent);
      if (response.status === 201) created.push(answer);
      for (const entry of (response.headers.get('server-timing') ?? '').split(',')) {
        const match = /^\s*([\w.]+);dur=([\d.]+)/.exec(entry);
        if (match) (timings[match[1]!] ??= []).push(Number(match[2]));
      }
    }
  };
  await Promise.all(Array.from({ length: callers }, caller));
  const row = Object.entries(timings).map(([k, v]) => `${k} p50 ${percentile(v, 50).toFixed(1)}`);
  console.log(`${callers} caller(s): ${row.join(' | ')}`);
  for (const next of created) await fetch(`${server.url}/api/uploads/${next.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${next.uploadToken}` } }).then((r) => r.arrayBuffer());
}

installSignalHandlers();
snapshot();
const server = await startProfiled();
try {
  await batch(server, 1);
  await batch(server, 1);
  await batch(server, 32);
} finally {
  await server.stop();
  await cleanup();
}
