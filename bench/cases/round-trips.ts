/**
 * @module Round trips per upload (issue 17 item 7): the client library in its native and its
 * direct-to-R2 mode, every request delayed by an added round-trip time (a fetch wrapper: each
 * request waits `rttMs` before it is sent, as one far-away round trip would cost; connection
 * setup is not modelled). Reports, per mode, the time to `ready` and the requests made for one
 * large file and for many small files at once.
 */
import { openAsBlob } from 'node:fs';
import { Uploader } from '../../src/client/index';
import type { BenchServer } from '../lib/servers';

export interface RoundTripRun {
  mode: 'native' | 'direct';
  files: number;
  /** Seconds from the first add() to the last upload's `ready`. */
  toReadySeconds: number;
  /** Every request the client made (config, creates, presigns, parts, ETags, completes, reads). */
  requests: number;
  /** Requests per file. */
  perFile: number;
}

export async function roundTrips(server: BenchServer, mode: 'native' | 'direct', source: { path: string } | { count: number; bytes: Uint8Array<ArrayBuffer> }, rttMs = 150): Promise<RoundTripRun> {
  let requests = 0;
  const far: typeof fetch = async (input, init) => {
    requests += 1;
    await new Promise((r) => setTimeout(r, rttMs));
    return fetch(input, init);
  };
  const uploader = new Uploader({ endpoint: server.url, fetch: far });
  const files: Blob[] = 'path' in source ? [await openAsBlob(source.path, { type: 'application/pdf' })] : Array.from({ length: source.count }, () => new Blob([source.bytes], { type: 'application/pdf' }));
  const started = performance.now();
  const uploads = files.map((file, i) => uploader.add(file, { name: `rtt-${i}.pdf`, direct: mode === 'direct' }));
  const states = await Promise.all(uploads.map((u) => u.done));
  const toReadySeconds = (performance.now() - started) / 1000;
  const notReady = uploads.filter((u) => u.state !== 'ready');
  if (notReady.length) {
    const reasons = [...new Set(notReady.map((u) => `${u.state} ${u.reasonCode ?? ''}: ${u.reason ?? ''}`))].join('; ');
    throw new Error(`round trips (${mode}): ${notReady.length} upload(s) did not end ready (${reasons})`);
  }
  return { mode, files: files.length, toReadySeconds, requests, perFile: requests / files.length };
}
