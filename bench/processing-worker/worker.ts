/**
 * Bench-only Worker (see ./wrangler.toml): times each processing step of the consumer on the same
 * seeded bytes inside workerd, with the project's own code.
 *
 *   GET  /api/config                  200 (readiness probe of the test harness)
 *   POST /step?name=S&mib=N           runs step S over N MiB in 64 KiB chunks → { ms, bytes }
 *   POST /object?mib=N                stores an (N + 1) MiB object in the local R2 (for the r2-read and slice steps)
 *
 * Steps: sniff (type, completeness and structure checks on the head and tail: per file),
 * sha256-webcrypto (the former single-pass digest), sha256-saveable (src/domain/sha256.ts),
 * scan-builtin (SignatureMatcher), r2-read (reading the object from the local R2 emulator),
 * slice (hashAndScanSlice over part of a larger file: R2 read + saveable SHA-256 + scan, exactly as
 * the consumer runs it), slice-whole (a file that fits in one slice: native SHA-256), clamd-relay
 * (reading the object and relaying it to clamd, nothing else), slice-clamd (a slice of a larger
 * file as the consumer runs it with clamd configured). The clamd steps need `&clamdPort=P`.
 * No auth: never deploy this.
 */
import { looksComplete } from '../../src/domain/completeness';
import { Sha256 } from '../../src/domain/sha256';
import { sniffType } from '../../src/domain/sniff';
import { BuiltinScanner, HEAD_BYTES, SignatureMatcher, structuralFinding } from '../../src/media/builtin-scanner';
import { ClamdScanner } from '../../src/media/clamd-scanner';
import { scanStream, type Scanner } from '../../src/media/scanner';
import { firstSliceState, hashAndScanSlice } from '../../src/pipeline/hash-scan-slice';
import { R2Store } from '../../src/storage/r2-store';

interface Env {
  BUCKET: R2Bucket;
}

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;
const KEY = 'bench/object';

/** 16 MiB of seeded bytes starting like a PDF, reused round-robin as the input. */
const source = (() => {
  const bytes = new Uint8Array(16 * MiB);
  let x = 0x9e3779b9;
  const words = new Uint32Array(bytes.buffer);
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  bytes.set(new TextEncoder().encode('%PDF-1.7\n'));
  return bytes;
})();

function* chunks(total: number): Generator<Uint8Array> {
  for (let at = 0; at < total; at += CHUNK) {
    const from = at % source.length;
    yield source.subarray(from, from + Math.min(CHUNK, total - at));
  }
}

function streamOf(total: number): ReadableStream<Uint8Array> {
  const it = chunks(total);
  return new ReadableStream({
    pull(controller) {
      const next = it.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value.slice());
    },
  });
}

/** Runs one step; returns the bytes it processed when that differs from `bytes`. */
async function step(name: string, bytes: number, env: Env, clamdPort: number): Promise<number | void> {
  const clamd = () => {
    if (!clamdPort) throw new Error(`step ${name} needs &clamdPort=`);
    return new ClamdScanner({ host: '127.0.0.1', port: clamdPort });
  };
  switch (name) {
    case 'sniff': {
      const head = source.subarray(0, HEAD_BYTES);
      const type = sniffType(head);
      looksComplete(type ?? 'application/pdf', head, source.subarray(source.length - 1024), bytes);
      structuralFinding(head, 'application/pdf');
      return;
    }
    case 'sha256-webcrypto': {
      const digest = new crypto.DigestStream('SHA-256');
      await streamOf(bytes).pipeTo(digest);
      await digest.digest;
      return;
    }
    case 'sha256-saveable': {
      const hasher = new Sha256();
      for (const chunk of chunks(bytes)) hasher.update(chunk);
      hasher.digest();
      return;
    }
    case 'scan-builtin': {
      const matcher = new SignatureMatcher();
      for (const chunk of chunks(bytes)) matcher.push(chunk);
      return;
    }
    case 'r2-read': {
      const object = await env.BUCKET.get(KEY, { range: { offset: 0, length: bytes } });
      if (!object) throw new Error('POST /object first');
      const reader = (object.body as ReadableStream<Uint8Array>).getReader();
      while (!(await reader.read()).done);
      return;
    }
    case 'r2-sha256-saveable':
    case 'r2-copy-sha256-saveable': {
      const object = await env.BUCKET.get(KEY, { range: { offset: 0, length: bytes } });
      if (!object) throw new Error('POST /object first');
      const reader = (object.body as ReadableStream<Uint8Array>).getReader();
      const hasher = new Sha256();
      for (let r = await reader.read(); !r.done; r = await reader.read()) hasher.update(name === 'r2-sha256-saveable' ? r.value : r.value.slice());
      hasher.digest();
      return;
    }
    case 'slice':
    case 'slice-whole':
    case 'slice-clamd': {
      // The object is 1 MiB longer than `bytes`: 'slice' is one slice of a larger file (saveable
      // SHA-256), 'slice-whole' the whole object in one slice (native SHA-256).
      const head = await env.BUCKET.head(KEY);
      if (!head) throw new Error('POST /object first');
      const scanners: Scanner[] = [new BuiltinScanner(), ...(name === 'slice-clamd' ? [clamd()] : [])];
      const state = firstSliceState(KEY, head.etag, head.size, 'application/pdf', scanners.map((s) => s.name).join('+'));
      const result = await hashAndScanSlice(new R2Store(env.BUCKET), state, name === 'slice-whole' ? head.size : bytes, scanners, 'application/pdf');
      if (result.kind === 'finding') throw new Error('unexpected finding');
      return result.bytes;
    }
    case 'clamd-relay': {
      const object = await env.BUCKET.get(KEY, { range: { offset: 0, length: bytes } });
      if (!object) throw new Error('POST /object first');
      const verdict = await scanStream(clamd(), object.body as ReadableStream<Uint8Array>, { size: bytes, declaredType: 'application/pdf' });
      if (!verdict.clean) throw new Error('unexpected finding');
      return;
    }
    default:
      throw new Error(`no step ${name}`);
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const bytes = Number(url.searchParams.get('mib') ?? '0') * MiB;
    try {
      if (url.pathname === '/api/config') return new Response('ok');
      if (request.method === 'POST' && url.pathname === '/object') {
        const size = bytes + MiB;
        await env.BUCKET.put(KEY, streamOf(size).pipeThrough(new FixedLengthStream(size)));
        return Response.json({ bytes: size });
      }
      if (request.method === 'POST' && url.pathname === '/step') {
        const started = performance.now();
        const processed = await step(url.searchParams.get('name') ?? '', bytes, env, Number(url.searchParams.get('clamdPort') ?? '0'));
        return Response.json({ ms: performance.now() - started, bytes: processed ?? bytes });
      }
      return Response.json({ error: 'not found' }, { status: 404 });
    } catch (error) {
      return Response.json({ error: String(error) }, { status: 500 });
    }
  },
};
