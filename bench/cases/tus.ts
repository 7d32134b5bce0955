/**
 * The peer: the same file to @tus/server (+ @tus/file-store) with tus-js-client, 8 MiB chunks
 * (sequential PATCHes, tus-js-client's default of one upload stream), read from disk slice by slice.
 */
import { createReadStream } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as tus from 'tus-js-client';
import { ProcessMeter } from '../lib/procs';
import type { BenchServer } from '../lib/servers';
import { mbps } from '../lib/stats';
import type { CeilingRun } from './ceiling';
import { usageOf } from './usage';

export async function uploadTus(server: BenchServer & { dir: string }, path: string, chunkSize: number): Promise<CeilingRun> {
  const { size } = await stat(path);
  const partMs: number[] = [];
  const meter = new ProcessMeter(server.groups);
  meter.start();
  const startedAt = performance.now();
  let chunkStart = startedAt;
  await new Promise<void>((resolve, reject) => {
    const upload = new tus.Upload(createReadStream(path), {
      endpoint: `${server.url}/files`,
      chunkSize,
      uploadSize: size,
      metadata: { filename: 'bench.pdf', filetype: 'application/pdf' },
      storeFingerprintForResuming: false,
      retryDelays: null,
      onChunkComplete: () => {
        const now = performance.now();
        partMs.push(now - chunkStart);
        chunkStart = now;
      },
      onSuccess: () => resolve(),
      onError: reject,
    });
    upload.start();
  });
  const seconds = (performance.now() - startedAt) / 1000;
  const measured = meter.stop();
  // Check, then free the space: the store keeps the file and a .json of its metadata beside it.
  const names = await readdir(server.dir);
  const stored = names.filter((n) => !n.endsWith('.json'));
  const storedSize = stored.length === 1 ? (await stat(join(server.dir, stored[0]!))).size : -1;
  for (const name of names) await rm(join(server.dir, name), { force: true, recursive: true });
  const usage = usageOf(measured, size, 'tus upload');
  if (storedSize !== size) throw new Error(`tus stored ${storedSize} bytes (${stored.length} files), not ${size}`);
  return { size, seconds, totalSeconds: seconds, mbps: mbps(size, seconds), partMs, usage };
}
