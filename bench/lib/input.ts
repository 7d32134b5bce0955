/**
 * Benchmark inputs: seeded pseudo-random files on disk (the test fixtures' xorshift generator,
 * 8 MiB at a time, so a 4 GiB file never sits in memory), starting with `%PDF-1.7\n` so the
 * server's validation accepts them as application/pdf.
 *
 * Files of 4 GiB and more are written as 1 GiB segments: Node 22's `fs.openAsBlob()` reports such a
 * file's size modulo 2^32 (a 4 GiB file looks empty) and `Blob.slice()` aborts the process past
 * 2^32, so `segmentedFile()` stitches file-backed Blobs of the segments instead.
 */
import { createWriteStream, openAsBlob, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { randomBytes } from '../../test/e2e/fixtures';
import { GiB } from './stats';

const CHUNK = 8 * 1024 * 1024;
const MAGIC = Buffer.from('%PDF-1.7\n');
/** Node 22's Blob cannot describe a file this large (see above). */
export const BLOB_LIMIT = 4 * GiB;
const SEGMENT = GiB;

/** Writes `size` seeded bytes across `paths`, `segment` bytes per file (the last takes the rest). */
export async function writeSeededPdf(paths: string[], size: number, seed: number, segment = size): Promise<void> {
  let out: WriteStream | undefined;
  const close = async () => {
    if (!out) return;
    out.end();
    await once(out, 'finish');
  };
  for (let offset = 0, i = 0; offset < size; offset += CHUNK, i++) {
    if (offset % segment === 0) {
      await close();
      out = createWriteStream(paths[offset / segment]!);
    }
    const chunk = randomBytes(Math.min(CHUNK, size - offset), seed * 7919 + i + 1);
    if (offset === 0) MAGIC.copy(chunk);
    if (!out!.write(chunk)) await once(out!, 'drain');
  }
  await close();
}

/** Makes (once per size) the input files of a run inside `dir`. */
export class Inputs {
  private readonly made = new Map<number, Promise<string[]>>();
  constructor(
    private readonly dir: string,
    private readonly seed: number,
  ) {}

  /** The file's path (below 4 GiB), or its 1 GiB segments (from 4 GiB on). */
  file(size: number): Promise<string | string[]> {
    let paths = this.made.get(size);
    if (!paths) {
      const base = join(this.dir, `input-${size}-${this.seed}.pdf`);
      const segmented = size >= BLOB_LIMIT;
      const targets = segmented ? Array.from({ length: Math.ceil(size / SEGMENT) }, (_, i) => `${base}.${i}`) : [base];
      paths = writeSeededPdf(targets, size, this.seed, segmented ? SEGMENT : size).then(() => targets);
      this.made.set(size, paths);
    }
    return paths.then((p) => (p.length === 1 && size < BLOB_LIMIT ? p[0]! : p));
  }

  /** A single file, for the cases that need a path (the ceiling's put(), tus). */
  async path(size: number): Promise<string> {
    const file = await this.file(size);
    if (typeof file !== 'string') throw new Error(`files of 4 GiB and more can only be uploaded by the "ours" and "memory" cases (Node 22 Blob limit)`);
    return file;
  }
}

/**
 * A Blob-like view of a file split into segments: what the client library uses of a File (size,
 * type, slice → a file-backed Blob, arrayBuffer of a slice). Parts never cross more than two
 * segments, so every slice stays far below Node's limits.
 */
export async function segmentedFile(paths: string[], type: string): Promise<Blob> {
  const blobs = await Promise.all(paths.map((p) => openAsBlob(p, { type })));
  const starts: number[] = [];
  let size = 0;
  for (const b of blobs) {
    starts.push(size);
    size += b.size;
  }
  const slice = (start = 0, end = size): Blob => {
    const pieces: Blob[] = [];
    blobs.forEach((b, i) => {
      const from = Math.max(start, starts[i]!);
      const to = Math.min(end, starts[i]! + b.size);
      if (from < to) pieces.push(b.slice(from - starts[i]!, to - starts[i]!));
    });
    return pieces.length === 1 ? pieces[0]! : new Blob(pieces, { type });
  };
  const view = {
    size,
    type,
    slice,
    arrayBuffer: () => slice(0, size).arrayBuffer(),
    stream: () => {
      throw new Error('segmentedFile: stream the slices instead');
    },
  };
  return view as unknown as Blob;
}
