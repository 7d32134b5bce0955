/**
 * Issue 4's derivative benchmark: the media pipeline's derivative step for a 12 MP JPEG with the default
 * VARIANTS (DEFAULT_VARIANTS: thumb 320, display 1280, w640 and w1920 px, lossy JPEG, EXIF orientation
 * applied), run by the default ImageEngine (PhotonEngine) inside workerd, beside sharp (libvips) making the
 * same sizes at the same qualities in this Node process, on the same machine in the same run. The step's
 * other formats (WebP, AVIF) come from the Images binding, outside the engine and this benchmark, on
 * neither side.
 *
 *   npm run bench:derivatives -- [--runs 5] [--seed 1] [--variants thumb,display] [--save DIR]
 *
 * The inputs are generated with sharp, deterministically (seeded): 4000×3000, a smooth gradient plus
 * noise so it compresses like a photo (~3 MB at quality 90), baseline 4:2:0, once without EXIF and once
 * with EXIF orientation 6 (stored 4000×3000, shown 3000×4000).
 *
 * workerd runs a bench-only Worker (bench/derivatives-worker/) under `wrangler dev` on a free loopback
 * port. Each image is uploaded once and kept in the isolate; each timed request runs one derive(). The
 * Worker measures derive() with Date.now(); before trusting that, a calibration request spins the CPU and
 * its in-Worker time is compared with the round trip seen from Node (in production Workers the clock does
 * not advance during CPU work; locally it should). If the clock does not advance, the per-run time is the
 * round trip minus the median no-op round trip instead, and the report says which was used.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { readImageInfo } from '../src/media/image-info';
import { DEFAULT_VARIANTS, type VariantSpec } from '../src/media/variants';
import type { DeriveTiming } from './derivatives-worker/worker';

const root = resolve(import.meta.dirname, '..');
const WORKER_CONFIG = join(root, 'bench/derivatives-worker/wrangler.toml');
const WIDTH = 4000;
const HEIGHT = 3000;
const INPUT_QUALITY = 90;

// ---------------------------------------------------------------------------------------------- options

const USAGE = `npm run bench:derivatives -- [options]
  --runs <n>    timed runs per engine and image, after one untimed warm-up run (default 5)
  --seed <n>    seed of the generated test image (default 1)
  --variants <names>  comma-separated subset of the default variants (${DEFAULT_VARIANTS.map((v) => v.variant).join(', ')}; default all)
  --save <dir>  also write the inputs and every engine's derivatives there, for inspection`;

function options() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      seed: { type: 'string', default: '1' },
      variants: { type: 'string' },
      save: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const runs = Number(values.runs);
  const seed = Number(values.seed);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer\n${USAGE}`);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer\n${USAGE}`);
  const names = values.variants?.split(',').map((n) => n.trim());
  const specs = names ? DEFAULT_VARIANTS.filter((v) => names.includes(v.variant)) : DEFAULT_VARIANTS;
  if (names && specs.length !== names.length) throw new Error(`--variants names a variant that is not a default one\n${USAGE}`);
  return { runs, seed, specs, save: values.save ? resolve(values.save) : undefined };
}

// ---------------------------------------------------------------------------------------------- inputs

/** mulberry32: a small, fast, seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Raw RGB: gradients and slow waves (the "scene") plus ±12 of per-pixel noise (the "sensor"). */
function photoLikePixels(seed: number): Buffer {
  const random = prng(seed);
  const out = Buffer.allocUnsafe(WIDTH * HEIGHT * 3);
  const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
  let o = 0;
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const noise = (random() - 0.5) * 24;
      out[o++] = clamp((204 * x) / WIDTH + 30 * Math.sin(x / 37 + y / 53) + noise);
      out[o++] = clamp((178 * y) / HEIGHT + 40 * Math.sin((x + y) / 91) + noise);
      out[o++] = clamp(128 + 100 * Math.sin(x / 400) * Math.cos(y / 300) + (random() - 0.5) * 24);
    }
  }
  return out;
}

interface Input {
  name: string;
  label: string;
  bytes: Buffer;
}

async function makeInputs(seed: number): Promise<Input[]> {
  const raw = photoLikePixels(seed);
  const encode = () => sharp(raw, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } }).jpeg({ quality: INPUT_QUALITY, progressive: false, chromaSubsampling: '4:2:0' });
  const inputs: Input[] = [
    { name: 'upright', label: '4000×3000 baseline, no EXIF', bytes: await encode().toBuffer() },
    { name: 'orient6', label: '4000×3000 baseline, EXIF orientation 6', bytes: await encode().withMetadata({ orientation: 6 }).toBuffer() },
  ];
  // What the pipeline will see: check the generator did what this benchmark claims.
  for (const [input, orientation] of [[inputs[0]!, 1], [inputs[1]!, 6]] as const) {
    const info = readImageInfo(input.bytes);
    if (!info || info.type !== 'image/jpeg' || info.width !== WIDTH || info.height !== HEIGHT || info.progressive || info.orientation !== orientation) {
      throw new Error(`generated ${input.name} is not what it should be: ${JSON.stringify(info)}`);
    }
  }
  return inputs;
}

// ---------------------------------------------------------------------------------------------- workerd

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

interface Worker {
  url: string;
  /** wrangler's pid, the root of the process group (wrangler and workerd). */
  pid: number;
  stop(): Promise<void>;
}

/**
 * Resident memory, now (VmRSS) or at its peak (VmHWM), of the workerd processes under `rootPid`, from
 * /proc (Linux; undefined elsewhere). It covers the whole runtime (JS heap, WASM, the input bytes,
 * workerd itself), not one request.
 */
function workerdRss(rootPid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const parent = new Map<number, number>();
    const names = new Map<number, string>();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        names.set(Number(entry), stat.slice(stat.indexOf('(') + 1, close));
        parent.set(Number(entry), Number(stat.slice(close + 2).split(' ')[1]));
      } catch {
        // Exited meanwhile.
      }
    }
    const descends = (pid: number): boolean => {
      for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === rootPid) return true;
      return false;
    };
    let peak: number | undefined;
    for (const [pid, name] of names) {
      if (name !== 'workerd' || !descends(pid)) continue;
      const kib = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      if (kib) peak = Math.max(peak ?? 0, Number(kib) * 1024);
    }
    return peak;
  } catch {
    return undefined;
  }
}

/** `wrangler dev` of the bench-only Worker in its own process group, so the whole tree can be killed. */
async function startWorker(): Promise<Worker> {
  const port = await freePort();
  const persistDir = mkdtempSync(join(tmpdir(), 'bench-derivatives-'));
  const child: ChildProcess = spawn(
    join(root, 'node_modules/.bin/wrangler'),
    ['dev', '--config', WORKER_CONFIG, '--port', String(port), '--ip', '127.0.0.1', '--persist-to', persistDir],
    {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: `${join(root, 'node_modules/.bin')}:${process.env.PATH}`, WRANGLER_SEND_METRICS: 'false', CI: '1' },
    },
  );
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const kill = (sig: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // Already gone.
    }
  };
  // Ctrl-C or a crash of this script must not leave workerd behind.
  const onSignal = (sig: NodeJS.Signals) => {
    kill('SIGKILL');
    rmSync(persistDir, { recursive: true, force: true });
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  const onExit = () => kill('SIGKILL');
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', onExit);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    kill('SIGTERM');
    await Promise.race([exited, sleep(5_000)]);
    kill('SIGKILL');
    await Promise.race([exited, sleep(5_000)]);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
    rmSync(persistDir, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`wrangler dev exited early:\n${output}`);
    }
    try {
      if ((await fetch(`${url}/noop`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev did not become ready in 60 s:\n${output}`);
    }
    await sleep(200);
  }
  return { url, pid: child.pid!, stop };
}

async function call<T>(url: string, init?: RequestInit): Promise<{ body: T; roundTripMs: number }> {
  const start = performance.now();
  const res = await fetch(url, init);
  const text = await res.text();
  const roundTripMs = performance.now() - start;
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${res.status} ${text}`);
  return { body: JSON.parse(text) as T, roundTripMs };
}

// ---------------------------------------------------------------------------------------------- sharp

interface Output {
  variant: string;
  width: number;
  height: number;
  bytes: number;
}

/** What the pipeline does, the way one would write it with sharp: one pipeline per derivative, from the file. */
async function sharpDerive(input: Buffer, specs: VariantSpec[], chromaSubsampling = '4:2:0'): Promise<{ outputs: Output[]; buffers: Map<string, Buffer> }> {
  const buffers = new Map<string, Buffer>();
  const outputs: Output[] = [];
  for (const spec of specs) {
    const { data, info } = await sharp(input)
      .rotate() // EXIF orientation; the output carries no metadata (sharp strips it by default)
      .resize({ width: spec.width, withoutEnlargement: true })
      .jpeg({ quality: spec.quality, progressive: false, chromaSubsampling })
      .toBuffer({ resolveWithObject: true });
    buffers.set(spec.variant, data);
    outputs.push({ variant: spec.variant, width: info.width, height: info.height, bytes: data.length });
  }
  return { outputs, buffers };
}

// ---------------------------------------------------------------------------------------------- quality check

/**
 * PSNR (dB) of a derivative against an uncompressed reference of the same size (sharp: orient, lanczos3
 * resize, raw). Not a benchmark of its own: it shows both engines made the same upright picture at a
 * comparable quality, so the byte sizes can be compared (an unrotated output would score ~10 dB).
 */
async function psnr(input: Buffer, derivative: Buffer): Promise<number> {
  const meta = await sharp(derivative).metadata();
  const ref = await sharp(input).rotate().resize(meta.width, meta.height, { fit: 'fill' }).removeAlpha().raw().toBuffer();
  const got = await sharp(derivative).removeAlpha().raw().toBuffer();
  if (ref.length !== got.length) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = ref[i]! - got[i]!;
    sum += d * d;
  }
  return 10 * Math.log10((255 * 255) / (sum / ref.length));
}

// ---------------------------------------------------------------------------------------------- report

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const stats = (xs: number[]) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
const ms = (n: number) => `${n.toFixed(n < 10 ? 1 : 0)} ms`;
const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
const pad = (s: string, n: number) => s.padEnd(n);
const timesLine = (xs: number[]) => {
  const s = stats(xs);
  return `median ${ms(s.median)}  min ${ms(s.min)}  max ${ms(s.max)}`;
};
/** The load average, flagged when other work competes for the cores (the timings are then noisier). */
const loadLine = (label: string) => {
  const [one, five] = loadavg();
  const busy = one! > cpus().length * 0.75;
  return `${label}: load average ${one!.toFixed(2)} (1 min), ${five!.toFixed(2)} (5 min) on ${cpus().length} cores${busy ? ' — the machine is busy with other work: expect noisy timings' : ''}`;
};
const sizesLine = (outputs: Output[]) => outputs.map((o) => `${o.variant} ${o.width}×${o.height} ${kb(o.bytes)}`).join(', ');

// ---------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const { runs, seed, specs, save } = options();
  const started = performance.now();
  sharp.cache(false); // libvips' operation cache would otherwise serve repeated runs from memory
  // sharp's default thread pool is 1 on glibc without jemalloc, else the core count: time 1 thread
  // (workerd runs a request on one) and, on a multi-core machine, all cores.
  const defaultThreads = sharp.concurrency();
  const sharpThreads = [...new Set([1, cpus().length])];

  const workerPromise = startWorker();
  workerPromise.catch(() => {}); // awaited below; avoid an unhandled rejection while inputs are generated
  let worker: Worker | undefined;
  try {
    const inputs = await makeInputs(seed);
    worker = await workerPromise;
    const { url } = worker;

    console.log(`Derivative step for a 12 MP JPEG: ${specs.map((s) => `${s.variant} ${s.width} px q${s.quality}`).join(', ')} (JPEG; WebP/AVIF come from the Images binding, on neither side)`);
    console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips})`);
    console.log(`Runs: ${runs} timed per engine and image (interleaved), after 1 untimed warm-up; seed ${seed}; sharp's default thread pool here: ${defaultThreads}`);
    console.log(`${loadLine('Load before')}\n`);

    // The no-op round trip, and whether the Worker's clock moves during pure CPU work.
    const noop: number[] = [];
    for (let i = 0; i < 20; i++) {
      const start = performance.now();
      await (await fetch(`${url}/noop`)).text();
      noop.push(performance.now() - start);
    }
    const baseline = median(noop.slice(5));
    const idleRss = workerdRss(worker.pid, 'VmRSS');
    let n = 5_000_000;
    let spin = await call<{ dateMs: number; perfMs: number }>(`${url}/spin?n=${n}`, { method: 'POST' });
    // Scale the spin to ~300 ms of CPU by the round trip (which is right whatever the Worker's clock does).
    n = Math.max(1, Math.round((n * 300) / Math.max(1, spin.roundTripMs - baseline)));
    spin = await call<{ dateMs: number; perfMs: number }>(`${url}/spin?n=${n}`, { method: 'POST' });
    const outside = spin.roundTripMs - baseline;
    const clockAdvances = spin.body.dateMs > 0 && Math.abs(spin.body.dateMs - outside) <= Math.max(15, 0.1 * outside);
    console.log(
      `workerd clock check: a ${ms(outside)} CPU spin (round trip ${ms(spin.roundTripMs)} − no-op ${ms(baseline)}) read ${ms(spin.body.dateMs)} on Date.now() ` +
        `and ${ms(spin.body.perfMs)} on performance.now() inside the Worker → ${clockAdvances ? 'the clock advances during CPU work: timing with Date.now() inside the Worker' : 'the clock does NOT advance: timing with round trip − no-op round trip'}\n`,
    );

    const ratios: string[] = [];
    for (const input of inputs) {
      await call(`${url}/image?name=${input.name}`, { method: 'PUT', body: new Uint8Array(input.bytes) });

      // One untimed warm-up each (photon's WASM instantiation, JIT; libvips' first use), then `runs`
      // rounds, interleaved so that load from elsewhere on the machine hits every engine alike.
      const derive = () => call<DeriveTiming>(`${url}/derive?name=${input.name}&variants=${specs.map((s) => s.variant).join(',')}`, { method: 'POST' });
      const timedSharp = async (threads: number) => {
        sharp.concurrency(threads);
        const start = performance.now();
        const result = await sharpDerive(input.bytes, specs);
        return { ...result, ms: performance.now() - start };
      };
      const first = await derive();
      for (const t of sharpThreads) await timedSharp(t);
      const inWorker: number[] = [];
      const roundTrip: number[] = [];
      const sharpTimes = new Map<number, number[]>(sharpThreads.map((t) => [t, []]));
      let last = first.body;
      let sharpLast: Awaited<ReturnType<typeof sharpDerive>> | undefined;
      for (let i = 0; i < runs; i++) {
        const r = await derive();
        inWorker.push(r.body.dateMs);
        roundTrip.push(r.roundTripMs - baseline);
        last = r.body;
        for (const t of sharpThreads) {
          const s = await timedSharp(t);
          sharpTimes.get(t)!.push(s.ms);
          sharpLast = s;
        }
      }
      sharp.concurrency(defaultThreads);
      const engineTimes = clockAdvances ? inWorker : roundTrip;
      const photonBuffers = new Map<string, Buffer>();
      for (const d of last.derivatives) {
        const res = await fetch(`${url}/derivative?name=${input.name}&variant=${d.variant}`);
        photonBuffers.set(d.variant, Buffer.from(await res.arrayBuffer()));
      }
      // Untimed: sharp without chroma subsampling, which is what photon's own encoder wrote (before ours), for scale.
      const sharp444 = await sharpDerive(input.bytes, specs, '4:4:4');

      const scores = async (buffers: Map<string, Buffer>) =>
        new Map(await Promise.all([...buffers].map(async ([variant, b]) => [variant, { psnr: await psnr(input.bytes, b), chroma: (await sharp(b).metadata()).chromaSubsampling }] as const)));
      const ours = await scores(photonBuffers);
      const theirs = await scores(sharpLast!.buffers);
      const quality = (scored: typeof ours) => [...scored].map(([variant, q]) => `${variant} ${q.psnr.toFixed(1)} dB ${q.chroma}`).join(', ');
      const engineMedian = median(engineTimes);
      const ratio = (t: number) => engineMedian / median(sharpTimes.get(t)!);
      const threadsLabel = (t: number) => `sharp (${t} thread${t === 1 ? '' : 's'})`;

      console.log(`${input.label} (${kb(input.bytes.length)})`);
      const warmUp = ms(clockAdvances ? first.body.dateMs : first.roundTripMs - baseline);
      console.log(`  ${pad('photon-engine (workerd)', 26)} ${timesLine(engineTimes)}   warm-up run ${warmUp}${input === inputs[0] ? ' (cold isolate)' : ''}`);
      console.log(`  ${pad('', 26)} ${clockAdvances ? `cross-check, round trip − no-op: ${timesLine(roundTrip)}` : `in-Worker Date.now() read: ${timesLine(inWorker)}`}`);
      console.log(`  ${pad('', 26)} ${sizesLine(last.derivatives)}`);
      console.log(`  ${pad('', 26)} peak WASM memory (photonMemoryBytes) ${mib(last.photonMemoryBytes)}`);
      console.log(`  ${pad('', 26)} PSNR vs reference, chroma: ${quality(ours)}`);
      for (const t of sharpThreads) console.log(`  ${pad(threadsLabel(t), 26)} ${timesLine(sharpTimes.get(t)!)}`);
      console.log(`  ${pad('', 26)} ${sizesLine(sharpLast!.outputs)}`);
      console.log(`  ${pad('', 26)} PSNR vs reference, chroma: ${quality(theirs)}`);
      console.log(`  ${pad('', 26)} (at 4:4:4, as photon's own encoder wrote: ${sizesLine(sharp444.outputs)})`);
      console.log(`  ratio photon-engine / sharp: ${sharpThreads.map((t) => `${ratio(t).toFixed(1)}× vs ${threadsLabel(t)}`).join(', ')}`);
      const sizeRatio = (variant: string, outputs: Output[]) => {
        const a = last.derivatives.find((d) => d.variant === variant)?.bytes ?? Number.NaN;
        const b = outputs.find((d) => d.variant === variant)?.bytes ?? Number.NaN;
        return `${variant} ${(a / b).toFixed(2)}×`;
      };
      const psnrDelta = (variant: string) => `${variant} ${((ours.get(variant)?.psnr ?? Number.NaN) - (theirs.get(variant)?.psnr ?? Number.NaN)).toFixed(2)} dB`;
      console.log(
        `  output bytes photon-engine / sharp: ${specs.map((s) => sizeRatio(s.variant, sharpLast!.outputs)).join(', ')} ` +
          `(vs sharp 4:4:4: ${specs.map((s) => sizeRatio(s.variant, sharp444.outputs)).join(', ')})`,
      );
      console.log(`  PSNR photon-engine − sharp, same quality setting: ${specs.map((s) => psnrDelta(s.variant)).join(', ')}\n`);
      ratios.push(`${input.name} ${sharpThreads.map((t) => `${ratio(t).toFixed(1)}× (${t} thr)`).join(' / ')}`);

      if (save) {
        mkdirSync(save, { recursive: true });
        writeFileSync(join(save, `${input.name}.jpg`), input.bytes);
        for (const [variant, b] of photonBuffers) writeFileSync(join(save, `${input.name}-${variant}-photon.jpg`), b);
        for (const [variant, b] of sharpLast!.buffers) writeFileSync(join(save, `${input.name}-${variant}-sharp.jpg`), b);
      }
    }
    const memory = await call<{ photonMemoryBytes: number }>(`${url}/memory`);
    console.log(`Summary, photon-engine time / sharp time (medians): ${ratios.join('; ')}`);
    console.log(`Peak WASM memory of the isolate after all runs: ${mib(memory.body.photonMemoryBytes)} (WASM memory never shrinks)`);
    const rss = workerdRss(worker.pid, 'VmHWM');
    if (rss !== undefined) {
      console.log(`Peak RSS of the workerd process (whole runtime: JS heap, inputs and WASM included): ${mib(rss)}${idleRss === undefined ? '' : `, ${mib(idleRss)} idle before the first image`}`);
    }
    console.log(loadLine('Load after'));
    if (save) console.log(`Inputs and derivatives written to ${save}`);
    console.log(`Total ${(performance.now() - started) / 1000 < 1 ? '<1' : ((performance.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await (worker ?? (await workerPromise.catch(() => undefined)))?.stop();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
