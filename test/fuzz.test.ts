/**
 * Hostile input, property-based (fast-check): random and malformed requests at every endpoint.
 * Every answer must be a 4xx JSON error `{ error: { code, message } }` whose code is one of
 * ERROR_STATUS with that very status (never a 5xx, never an HTML page), and nothing may change: an
 * unfinished upload and a finished one keep exactly the manifest they had, and the finished
 * one's bytes are still served.
 */
import { env } from 'cloudflare:workers';
import fc from 'fast-check';
import { sign } from 'hono/jwt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config';
import { KeyRing, signCapability } from '../src/domain/capability';
import { parseContentDigest } from '../src/domain/content-digest';
import { ERROR_STATUS } from '../src/domain/errors';
import type { Manifest } from '../src/contracts/messages';
import { api, createUpload, getManifest, MiB, partOf, pdfBytes, putPart, sha256Hex, waitForState, type CreatedUpload } from './helpers';

/**
 * Settings for a long local hunt, read at run time from the Worker's env (wrangler passes the
 * process environment in when CLOUDFLARE_INCLUDE_PROCESS_ENV=true; import.meta.env would be baked
 * into vitest's module cache): FUZZ_SEED replays a run, FUZZ_RUNS sets every property's number of
 * runs. CI sets neither. For example:
 *   CLOUDFLARE_INCLUDE_PROCESS_ENV=true FUZZ_RUNS=2000 npx vitest run test/fuzz.test.ts -t "random methods"
 */
const hunt = env as unknown as { FUZZ_SEED?: string; FUZZ_RUNS?: string };
/** One fast-check seed per run of the file, printed before any property runs, so a failure can be replayed. */
const SEED = Number.isSafeInteger(Number(hunt.FUZZ_SEED)) && hunt.FUZZ_SEED ? Number(hunt.FUZZ_SEED) | 0 : (Date.now() ^ Math.floor(Math.random() * 2 ** 31)) | 0;
const DEFAULT_RUNS = { create: 300, routes: 500, parts: 200, direct: 150, media: 200, paths: 300, names: 25 };
const overrideRuns = Number(hunt.FUZZ_RUNS);
const RUNS: typeof DEFAULT_RUNS = Number.isSafeInteger(overrideRuns) && overrideRuns > 0
  ? (Object.fromEntries(Object.keys(DEFAULT_RUNS).map((k) => [k, overrideRuns])) as typeof DEFAULT_RUNS)
  : DEFAULT_RUNS;
// A long hunt takes minutes: lift the per-test timeout with it.
if (RUNS !== DEFAULT_RUNS) vi.setConfig({ testTimeout: 60 * 60_000 });

interface Probe {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: BodyInit | null;
  /** What is wrong with it, for the failure message. */
  note: string;
}

const codesSeen = new Map<string, number>();
let probes = 0;

async function send(probe: Probe): Promise<Response> {
  probes += 1;
  const hasBody = probe.body !== undefined && probe.body !== null && probe.method !== 'GET' && probe.method !== 'HEAD';
  return api(probe.path, { method: probe.method, headers: probe.headers, ...(hasBody ? { body: probe.body } : {}) });
}

/** The one assertion of this file: a well-formed 4xx error with a known code. */
async function expectClientError(probe: Probe): Promise<string> {
  const res = await send(probe);
  const text = await res.text();
  const where = `${probe.method} ${probe.path.slice(0, 200)} (${probe.note}) → ${res.status} ${text.slice(0, 300)}`;
  if (res.status < 400 || res.status > 499) throw new Error(`not a 4xx: ${where}`);
  if (probe.method === 'HEAD') return `HEAD ${res.status}`;
  if (!(res.headers.get('content-type') ?? '').includes('application/json')) throw new Error(`not JSON: ${where}`);
  let body: { error?: { code?: unknown; message?: unknown } };
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`unparseable JSON: ${where}`);
  }
  const code = body.error?.code;
  if (typeof code !== 'string' || !(code in ERROR_STATUS)) throw new Error(`unknown error code: ${where}`);
  if (ERROR_STATUS[code as keyof typeof ERROR_STATUS] !== res.status) throw new Error(`status does not match the code: ${where}`);
  if (typeof body.error?.message !== 'string' || body.error.message.length === 0) throw new Error(`no message: ${where}`);
  codesSeen.set(code, (codesSeen.get(code) ?? 0) + 1);
  return code;
}

// ---- fixtures: an unfinished upload and a finished one, and their tokens ---------------------

const ring = () => KeyRing.parse(env.UPLOAD_TOKEN_KEYS!);
const inSeconds = (s: number) => Math.floor(Date.now() / 1000) + s;
const UNKNOWN_ID = 'f'.repeat(32);

let target: CreatedUpload; // 3 parts of which part 1 is confirmed
let targetFile: Uint8Array;
let ready: CreatedUpload; // assembled, validated, served
let readyFile: Uint8Array;
let other: CreatedUpload; // another upload: its token must not open the others
let before: { target: Manifest; ready: Manifest };
const tokens: Record<string, string> = {};

beforeAll(async () => {
  // First thing, so the seed is on screen whatever fails later.
  console.log(`[fuzz] seed ${SEED}; replay: CLOUDFLARE_INCLUDE_PROCESS_ENV=true FUZZ_SEED=${SEED} npx vitest run test/fuzz.test.ts`);
  targetFile = pdfBytes(10 * MiB + 10, 9001);
  target = await createUpload({ name: 'target.pdf', size: targetFile.length, type: 'application/pdf', partSize: 5 * MiB });
  expect((await putPart(target, 1, partOf(targetFile, target, 1))).status).toBe(200);
  readyFile = pdfBytes(4321, 9002);
  ready = await createUpload({ name: 'ready.pdf', size: readyFile.length, type: 'application/pdf' });
  expect((await putPart(ready, 1, readyFile)).status).toBe(200);
  expect((await waitForState(ready, ['ready', 'rejected', 'failed'])).state).toBe('ready');
  other = await createUpload({ name: 'other.pdf', size: 100, type: 'application/pdf' });
  before = { target: await getManifest(target), ready: await getManifest(ready) };

  const t = target.uploadToken;
  const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
  Object.assign(tokens, {
    tamperedPayload: flip(t, 5),
    tamperedSignature: flip(t, t.length - 3),
    expired: await signCapability(ring(), { uid: target.id, sub: 'anonymous', exp: inSeconds(-5) }),
    otherUpload: other.uploadToken,
    otherUser: await signCapability(ring(), { uid: other.id, sub: 'mallory', exp: inSeconds(600) }),
    rogueKey: await signCapability(new KeyRing([{ id: 'dev-1', secret: 'not-the-real-secret-but-long-enough-1234' }]), {
      uid: target.id, sub: 'anonymous', exp: inSeconds(600),
    }),
    unknownUpload: await signCapability(ring(), { uid: UNKNOWN_ID, sub: 'anonymous', exp: inSeconds(600) }),
    jwt: await sign({ sub: 'alice', exp: inSeconds(600) }, env.AUTH_JWT_SECRET!),
    swappedHalves: `${t.split('.')[1]}.${t.split('.')[0]}`,
    threeDots: `${t}.${t}`,
    huge: 'A'.repeat(3000) + '.' + 'B'.repeat(3000),
  });
});

/** Nothing the fuzzing sent changed either upload. */
async function expectUnchanged(): Promise<void> {
  expect(await getManifest(target)).toEqual(before.target);
  expect(await getManifest(ready)).toEqual(before.ready);
}

afterAll(async () => {
  await expectUnchanged();
  const media = await api(`/media/${ready.id}`);
  expect(media.status).toBe(200);
  expect(await sha256Hex(await media.arrayBuffer())).toBe(await sha256Hex(readyFile));
  // Object keys never come from input: everything in the bucket is in the server's own layout.
  const keys = (await env.BUCKET.list({ limit: 1000 })).objects.map((o) => o.key);
  for (const key of keys) expect(key).toMatch(/^(originals\/[A-Za-z0-9._-]+\/[0-9a-f]{32}|derived\/[A-Za-z0-9._-]+\/[0-9a-f]{64}\/[a-z]+\.[a-z]+|staging\/[A-Za-z0-9._/-]+)$/);
  const codes = [...codesSeen.entries()].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c}×${n}`).join(' ');
  console.log(
    `[fuzz] ${probes} hostile requests (seed ${SEED}) at every endpoint: 0 answers outside 4xx, every error a known code ` +
      `with its status; both uploads' manifests unchanged, the served file intact, ${keys.length} object keys all server-made. Codes: ${codes}`,
  );
});

// ---- arbitraries ------------------------------------------------------------------------------

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 });
const anyText = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 40 }), printable);
const NASTY_NAMES = ['../../etc/passwd', '..\\..\\boot.ini', '/absolute/x.pdf', '.', '..', 'a\u0000b.pdf', '\u202egpj.exe', 'CON', 'x'.repeat(1024), '%2e%2e%2fx', '名前.pdf', '🙂'.repeat(300), 'e\u0301'.repeat(200)];
const hostileName = fc.oneof(anyText, fc.constantFrom(...NASTY_NAMES));
const hugeOrOdd = fc.oneof(
  fc.integer({ min: -(2 ** 53), max: -1 }),
  fc.double({ noNaN: true }).filter((n) => !Number.isInteger(n)),
  fc.constantFrom(0, -0, 2 ** 53, 2 ** 64, 1e308, Number.MAX_SAFE_INTEGER, 6 * 1024 ** 3),
  fc.string({ maxLength: 12 }),
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.integer(), { maxLength: 3 }),
);

/** Hex ids that are not ids, and ids that are but name nothing. */
const badId = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.stringMatching(/^[0-9a-f]{31}$|^[0-9a-f]{33}$|^[0-9A-F]{32}$/),
  fc.constantFrom('..', '%2e%2e', '..%2f..%2fconfig', 'x/../../config', '%00', 'null', 'undefined', ' '.repeat(32), '0x' + '1'.repeat(30)),
  fc.constant(UNKNOWN_ID),
);
const badPartNumber = fc.oneof(
  fc.integer({ min: -1e9, max: 0 }).map(String),
  fc.integer({ min: 4, max: 999_999 }).map(String),
  fc.bigInt({ min: 10n ** 6n, max: 10n ** 30n }).map(String),
  fc.constantFrom('1.5', '1e3', ' 1', '+1', '0x1', '١', 'NaN', 'Infinity', '01.0', '-0', '%31', '1%00'),
  fc.string({ minLength: 1, maxLength: 10 }).filter((s) => !/^[0-9]+$/.test(s)),
);

/** Authorization headers (or ?token=) that must not open `target`. */
const badAuth = fc.oneof(
  fc.constant<Record<string, string>>({}),
  fc.constantFrom('tamperedPayload', 'tamperedSignature', 'expired', 'otherUpload', 'otherUser', 'rogueKey', 'unknownUpload', 'jwt', 'swappedHalves', 'threeDots', 'huge').map(
    (k) => ({ authorization: `Bearer ${tokens[k]}` }),
  ),
  printable.map((s) => ({ authorization: `Bearer ${s}` })),
  printable.map((s) => ({ authorization: s })),
  fc.constantFrom('Basic dXNlcjpwYXNz', 'Bearer', 'Bearer  ', 'bearer a b', 'Token abc').map((s) => ({ authorization: s })),
);

/** `arbitrary` about once in `every` draws, undefined otherwise. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>, every: number) =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: every - 1 }, { arbitrary, weight: 1 });

const contentTypes = fc.oneof(
  fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/jsonp', 'image/png', ''),
  printable,
);

// ---- properties ------------------------------------------------------------------------------

describe('fuzzing every endpoint with hostile input', () => {
  it('POST /api/uploads: malformed bodies, huge and negative sizes, odd names and types, wrong content types', async () => {
    const allowed = loadConfig(env).allowedTypes;
    const valid = { name: 'ok.pdf', size: 1000, type: 'application/pdf' };
    const defect = fc.oneof(
      hugeOrOdd.map((size) => ({ note: `size ${JSON.stringify(size)}`, body: JSON.stringify({ ...valid, size }) })),
      anyText.filter((t) => !allowed.includes(t.split(';')[0]!.trim().toLowerCase())).map((type) => ({ note: 'type not allowed', body: JSON.stringify({ ...valid, type }) })),
      fc.constantFrom('image/svg+xml', 'text/html', 'application/x-msdownload', 'application/javascript', '*/*', 'image/*').map((type) => ({ note: `type ${type}`, body: JSON.stringify({ ...valid, type }) })),
      fc.oneof(fc.constant(''), fc.constant('  '), fc.constant('x'.repeat(1025)), hugeOrOdd.filter((v) => typeof v !== 'string' || v.trim() === '')).map((name) => ({ note: 'bad name', body: JSON.stringify({ ...valid, name }) })),
      fc.tuple(hostileName, hugeOrOdd).map(([name, size]) => ({ note: 'hostile name, bad size', body: JSON.stringify({ ...valid, name, size }) })),
      fc.oneof(hugeOrOdd, fc.integer({ min: 1, max: 5 * MiB - 1 }), fc.integer({ min: 64 * MiB + 1, max: 2 ** 40 })).map((partSize) => ({ note: `partSize ${JSON.stringify(partSize)}`, body: JSON.stringify({ ...valid, partSize }) })),
      anyText.filter((s) => !/^[0-9a-fA-F]{64}$/.test(s)).map((sha256) => ({ note: 'bad sha256', body: JSON.stringify({ ...valid, sha256 }) })),
      fc.oneof(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 4 }), { minKeys: 33, maxKeys: 40 }),
        fc.dictionary(fc.string({ minLength: 65, maxLength: 70 }), fc.string(), { minKeys: 1, maxKeys: 2 }),
        fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.oneof(fc.integer(), fc.constant(null), fc.string({ minLength: 1025, maxLength: 1100 })), { minKeys: 1, maxKeys: 3 }),
        fc.oneof(fc.string(), fc.integer(), fc.array(fc.string())),
      ).map((metadata) => ({ note: 'bad metadata', body: JSON.stringify({ ...valid, metadata }) })),
      fc.jsonValue({ maxDepth: 3 }).filter((v) => typeof v !== 'object' || v === null || Array.isArray(v) || !('name' in v)).map((v) => ({ note: 'not an upload', body: JSON.stringify(v) })),
      fc.string({ maxLength: 200 }).filter((s) => { try { JSON.parse(s); return false; } catch { return true; } }).map((body) => ({ note: 'not JSON', body })),
      fc.integer({ min: 65 * 1024, max: 300 * 1024 }).map((n) => ({ note: `oversize JSON (${n} bytes)`, body: JSON.stringify({ ...valid, name: 'n'.repeat(n) }) })),
      fc.integer({ min: 1, max: 200 }).map((depth) => ({ note: `nested ${depth} deep`, body: '['.repeat(depth * 50) + ']'.repeat(depth * 50) })),
      fc.constant({ note: 'no body', body: '' }),
      fc.constant({ note: 'duplicate keys, last invalid', body: '{"name":"a.pdf","size":10,"type":"application/pdf","size":-1}' }),
    );
    const probe = fc.record({
      defect,
      contentType: fc.oneof(fc.constant('application/json'), fc.constant('application/json; charset=utf-8'), fc.constant(undefined)),
      auth: sometimes(badAuth.filter((a) => Object.keys(a).length > 0), 5),
    });
    await fc.assert(
      fc.asyncProperty(probe, async ({ defect, contentType, auth }) => {
        await expectClientError({
          method: 'POST',
          path: '/api/uploads',
          headers: { ...(contentType ? { 'content-type': contentType } : {}), ...(auth ?? {}) },
          body: defect.body,
          note: defect.note,
        });
      }),
      { numRuns: RUNS.create, seed: SEED },
    );
    // A right body with a wrong content type is refused too. (A blank one is no content type at all:
    // header values are trimmed on the wire, and a body without one is taken as JSON.)
    await fc.assert(
      fc.asyncProperty(contentTypes.filter((t) => t.trim() !== '' && !/^application\/([a-z.+-]*\+)?json\b/i.test(t)), async (type) => {
        await expectClientError({ method: 'POST', path: '/api/uploads', headers: { 'content-type': type }, body: JSON.stringify(valid), note: `content-type ${type}` });
      }),
      { numRuns: 30, seed: SEED },
    );
    await expectUnchanged();
  });

  it('every upload route with bad ids, bad tokens and bad part numbers', async () => {
    const routes = ['GET /', 'PUT /parts/:n', 'POST /parts/:n/presign', 'PUT /parts/:n/etag', 'POST /complete', 'DELETE /', 'GET /events', 'HEAD /'] as const;
    const probe = fc.record({
      route: fc.constantFrom(...routes),
      id: fc.oneof(fc.constantFrom(target.id, ready.id), badId),
      n: fc.oneof(fc.constantFrom('1', '2', '3'), badPartNumber),
      auth: badAuth,
      viaQuery: fc.boolean(),
      upgrade: fc.constantFrom(undefined, 'websocket', 'h2c'),
      accept: fc.constantFrom(undefined, 'text/event-stream', '*/*'),
      body: fc.oneof(fc.uint8Array({ maxLength: 4096 }), fc.constant(JSON.stringify({ etag: 'abc' })), fc.constant(null)),
      origin: sometimes(fc.constantFrom('https://evil.example', 'null', 'http://uploads.test.evil.example'), 10),
    });
    await fc.assert(
      fc.asyncProperty(probe, async (p) => {
        const [method, template] = p.route.split(' ') as [string, string];
        const token = p.auth.authorization?.replace(/^Bearer\s+/, '');
        const query = p.viaQuery && token ? `?token=${encodeURIComponent(token)}` : '';
        const path = `/api/uploads/${encodeURIComponent(p.id)}${template === '/' ? '' : template.replace(':n', encodeURIComponent(p.n))}${query}`;
        await expectClientError({
          method,
          path,
          headers: {
            ...(p.viaQuery ? {} : p.auth),
            ...(p.upgrade ? { upgrade: p.upgrade } : {}),
            ...(p.accept ? { accept: p.accept } : {}),
            ...(p.origin ? { origin: p.origin } : {}),
          },
          body: p.body,
          note: `${p.route}, id ${JSON.stringify(p.id).slice(0, 40)}, part ${JSON.stringify(p.n)}, auth ${JSON.stringify(p.auth).slice(0, 60)}`,
        });
      }),
      { numRuns: RUNS.routes, seed: SEED },
    );
    await expectUnchanged();
  });

  it('PUT a part with a valid token but a bad part: number, length, digest, no length', async () => {
    const lastSize = targetFile.length - 2 * 5 * MiB; // part 3 is 10 bytes
    const auth = () => ({ authorization: `Bearer ${target.uploadToken}` });
    const digestOf = (b: Uint8Array) => `sha-256=:${btoa(String.fromCharCode(...b))}:`;
    const kind = fc.oneof(
      fc.tuple(badPartNumber, fc.uint8Array({ maxLength: 64 })).map(([n, body]) => ({ n, body, headers: {}, note: 'bad part number' })),
      fc.tuple(fc.constantFrom('1', '2', '3'), fc.uint8Array({ maxLength: 8192 }).filter((b) => b.length !== lastSize)).map(([n, body]) => ({ n, body, headers: {}, note: `part ${n} of ${body.length} bytes` })),
      fc.tuple(fc.uint8Array({ minLength: lastSize, maxLength: lastSize }), fc.uint8Array({ minLength: 32, maxLength: 32 })).map(([body, wrong]) => ({
        n: '3', body, headers: { 'content-digest': digestOf(wrong) }, note: 'part 3, digest of other bytes',
      })),
      // Only digests the server must refuse: an absent or other-algorithm digest makes a valid request.
      fc.tuple(fc.uint8Array({ minLength: lastSize, maxLength: lastSize }), fc.oneof(printable, fc.constantFrom('sha-256=abc', 'sha-256=::', 'md5=AAAA', 'sha-256=:%%%:', 'sha-512=:AAAA:, sha-256=:x:')).filter((d) => !parseContentDigest(d).ok)).map(([body, digest]) => ({
        n: '3', body, headers: { 'content-digest': digest }, note: `part 3, digest ${JSON.stringify(digest)}`,
      })),
      fc.constantFrom('1', '2', '3').map((n) => ({
        n,
        body: new ReadableStream({ start: (c) => { c.enqueue(new Uint8Array(lastSize)); c.close(); } }) as BodyInit,
        headers: {},
        note: 'no Content-Length (a stream)',
      })),
    );
    await fc.assert(
      fc.asyncProperty(kind, async (k) => {
        // A digest that is well-formed but matches the bytes would make a valid request: never generated.
        await expectClientError({ method: 'PUT', path: `/api/uploads/${target.id}/parts/${encodeURIComponent(k.n)}`, headers: { ...auth(), ...k.headers }, body: k.body, note: k.note });
      }),
      { numRuns: RUNS.parts, seed: SEED },
    );
    await expectUnchanged();
  });

  it('direct-to-R2 routes with a valid token but bad input: expiry, ETag bodies, part numbers, finished uploads', async () => {
    const probe = fc.oneof(
      fc.tuple(fc.constantFrom('1', '2', '3'), fc.oneof(fc.integer({ max: 0 }).map(String), fc.integer({ min: 3601, max: 1e9 }).map(String), printable.filter((s) => !/^[0-9]{1,5}$/.test(s) || Number(s) < 1 || Number(s) > 3600))).map(([n, expiresIn]) => ({
        method: 'POST', path: `/api/uploads/${target.id}/parts/${n}/presign?expiresIn=${encodeURIComponent(expiresIn)}`, body: null as string | null, type: undefined as string | undefined, note: `presign expiresIn ${expiresIn}`,
      })),
      badPartNumber.map((n) => ({ method: 'POST', path: `/api/uploads/${target.id}/parts/${encodeURIComponent(n)}/presign`, body: null, type: undefined, note: `presign part ${n}` })),
      fc.tuple(fc.constantFrom('1', '2', '3'), fc.oneof(
        fc.constantFrom('', '""', 'has space', 'quote"inside', 'tab\there', 'x'.repeat(201), '\u00e9tag').map((etag) => JSON.stringify({ etag })),
        fc.oneof(fc.integer(), fc.constant(null), fc.array(fc.string()), fc.boolean()).map((etag) => JSON.stringify({ etag })),
        fc.jsonValue({ maxDepth: 2 }).filter((v) => typeof v !== 'object' || v === null || Array.isArray(v) || !('etag' in v)).map((v) => JSON.stringify(v)),
        fc.string({ maxLength: 50 }).filter((s) => { try { JSON.parse(s); return false; } catch { return true; } }),
        fc.constant(JSON.stringify({ etag: 'e'.repeat(70_000) })),
      )).map(([n, body]) => ({ method: 'PUT', path: `/api/uploads/${target.id}/parts/${n}/etag`, body, type: 'application/json', note: `etag body ${body.slice(0, 60)}` })),
      fc.tuple(badPartNumber, fc.constant(JSON.stringify({ etag: 'abcdef' }))).map(([n, body]) => ({ method: 'PUT', path: `/api/uploads/${target.id}/parts/${encodeURIComponent(n)}/etag`, body, type: 'application/json', note: `etag for part ${n}` })),
      fc.constantFrom('4', '99', '10000').map((n) => ({ method: 'PUT', path: `/api/uploads/${target.id}/parts/${n}/etag`, body: JSON.stringify({ etag: 'abcdef' }), type: 'application/json', note: `etag for part ${n} past the end` })),
      fc.constant({ method: 'PUT', path: `/api/uploads/${target.id}/parts/2/etag`, body: JSON.stringify({ etag: 'abcdef' }), type: 'text/plain', note: 'etag as text/plain' }),
    );
    await fc.assert(
      fc.asyncProperty(probe, async (p) => {
        await expectClientError({
          method: p.method,
          path: p.path,
          headers: { authorization: `Bearer ${target.uploadToken}`, ...(p.type ? { 'content-type': p.type } : {}) },
          body: p.body,
          note: p.note,
        });
      }),
      { numRuns: RUNS.direct, seed: SEED },
    );
    // The finished upload takes no part, presigned or recorded, even with its own token.
    for (const path of [`/api/uploads/${ready.id}/parts/1/presign`, `/api/uploads/${ready.id}/parts/1/etag`]) {
      await expectClientError({
        method: path.endsWith('etag') ? 'PUT' : 'POST',
        path,
        headers: { authorization: `Bearer ${ready.uploadToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ etag: 'abcdef' }),
        note: 'finished upload',
      });
    }
    await expectUnchanged();
  });

  it('GET/HEAD /media: bad ids, unready uploads, unsatisfiable and malformed ranges, unknown variants', async () => {
    const size = readyFile.length;
    const badRange = fc.oneof(
      fc.integer({ min: size, max: 2 ** 40 }).map((start) => `bytes=${start}-`),
      fc.tuple(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 })).map(([a, b]) => `bytes=${a}-${b},${a + 200}-${b + 300}`),
      // (Inverted and zero-length ranges, which RFC 9110 answers differently, are in the catalogue.)
      fc.constantFrom('bytes=', 'bytes=-', 'bytes=abc', 'items=0-1', 'bytes = 0-1', 'bytes=0-1;', 'bytes=--1', 'bytes=1-2-3'),
      printable.filter((r) => !/^bytes=(\d+-\d*|-\d+)$/.test(r.trim()) && r.trim() !== ''),
    );
    const probe = fc.oneof(
      fc.tuple(badId, fc.constantFrom('GET', 'HEAD')).map(([id, method]) => ({ method, path: `/media/${encodeURIComponent(id)}`, headers: {}, note: `id ${id}` })),
      fc.tuple(fc.constantFrom(target.id, other.id), fc.constantFrom('GET', 'HEAD')).map(([id, method]) => ({ method, path: `/media/${id}`, headers: {}, note: 'not ready' })),
      fc.tuple(badRange, fc.option(printable)).map(([range, inm]) => ({
        method: 'GET', path: `/media/${ready.id}`, headers: { range, ...(inm ? { 'if-none-match': inm } : {}) }, note: `range ${range}`,
      })),
      fc.tuple(fc.oneof(printable.filter((v) => v.length > 0), fc.constantFrom('..', '%2e%2e', 'thumb/../../x', 'original', 'THUMB')), fc.constantFrom(ready.id, target.id, UNKNOWN_ID)).map(([variant, id]) => ({
        method: 'GET', path: `/media/${id}/${encodeURIComponent(variant)}`, headers: {}, note: `variant ${variant}`,
      })),
      fc.constantFrom('POST', 'PUT', 'DELETE', 'PATCH').map((method) => ({ method, path: `/media/${ready.id}`, headers: {}, note: `${method} on media` })),
    );
    await fc.assert(
      fc.asyncProperty(probe, async (p) => {
        await expectClientError({ ...p, body: p.method === 'GET' || p.method === 'HEAD' ? null : 'x' });
      }),
      { numRuns: RUNS.media, seed: SEED },
    );
    // And the good ranges around them are served exactly.
    const goodRange = fc.oneof(
      fc.tuple(fc.nat({ max: size - 1 }), fc.nat({ max: size - 1 })).map(([a, b]) => ({ header: `bytes=${Math.min(a, b)}-${Math.max(a, b)}`, from: Math.min(a, b), to: Math.max(a, b) })),
      fc.integer({ min: 1, max: size }).map((n) => ({ header: `bytes=-${n}`, from: size - n, to: size - 1 })),
      fc.nat({ max: size - 1 }).map((a) => ({ header: `bytes=${a}-`, from: a, to: size - 1 })),
    );
    await fc.assert(
      fc.asyncProperty(goodRange, async (r) => {
        probes += 1;
        const res = await api(`/media/${ready.id}`, { headers: { range: r.header } });
        expect(res.status, r.header).toBe(206);
        expect(res.headers.get('content-range'), r.header).toBe(`bytes ${r.from}-${r.to}/${size}`);
        expect(new Uint8Array(await res.arrayBuffer())).toEqual(readyFile.subarray(r.from, r.to + 1));
      }),
      { numRuns: 40, seed: SEED },
    );
    await expectUnchanged();
  });

  it('random methods and paths (traversal, encodings, unicode): a JSON 404/405/4xx, never a page or a 5xx', async () => {
    const segment = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.string({ unit: 'grapheme', maxLength: 8 }),
      fc.constantFrom('..', '.', '%2e%2e', '%2F', '%00', '%ff', 'uploads', 'config', 'parts', 'events', 'complete', '~', '*', ';', '?x=1', '#'),
      fc.constant(target.id),
    );
    const probe = fc.record({
      // (workerd's Request refuses methods outside the standard set, so those never reach a Worker.)
      method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
      prefix: fc.constantFrom('/api/', '/api/uploads/', '/media/', '/', '/api//', '/API/'),
      segments: fc.array(segment, { maxLength: 5 }),
      body: fc.option(fc.string({ maxLength: 100 })),
    });
    await fc.assert(
      fc.asyncProperty(probe, async (p) => {
        // (A leading "//" would make a scheme-relative URL: not a path at all. URL parsers read "\"
        // as "/" in http(s) URLs, so "/\x" is one too: seed 1778886293 drew exactly that.)
        const path = (p.prefix + p.segments.map((s) => s.replace(/[?#]/g, encodeURIComponent)).join('/')).replace(/^[/\\]{2,}/, '/');
        // Routing ignores one trailing slash (`/files/` is how tus clients spell `/files`).
        const pathname = new URL(path, 'http://uploads.test').pathname.replace(/(.)\/$/, '$1');
        // Reads that normalise to the two public documents are allowed to succeed.
        if ((p.method === 'GET' || p.method === 'HEAD') && ['/api/config', '/api/health'].includes(pathname)) return;
        // A path that normalises onto a real route with the right method is a request, not noise.
        if (/^\/api\/uploads\/?$/.test(pathname) && p.method === 'POST') return;
        await expectClientError({ method: p.method, path, body: p.body, note: `${p.method} ${pathname}` });
      }),
      { numRuns: RUNS.paths, seed: SEED },
    );
    await expectUnchanged();
  });

  it('unicode, ../ and control-character names are kept only as a sanitised display name', async () => {
    const created: CreatedUpload[] = [];
    await fc.assert(
      fc.asyncProperty(hostileName.filter((n) => n.length >= 1 && n.length <= 1024 && n.trim() !== ''), async (name) => {
        probes += 1;
        const res = await api('/api/uploads', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name, size: 1000, type: 'application/pdf' }),
        });
        expect(res.status, await res.clone().text()).toBe(201);
        const upload = (await res.json()) as CreatedUpload & { name: string };
        created.push(upload);
        expect(upload.key).toBe(`originals/anonymous/${upload.id}`);
        expect(upload.name).not.toMatch(/[/\\\u0000-\u001f\u007f]/);
        expect(upload.name.length).toBeGreaterThan(0);
        // Cut to length without splitting a character: no replacement characters the input did not have.
        if (!name.includes('\uFFFD')) {
          expect(upload.name, `the name kept for ${JSON.stringify(name.slice(0, 24))}… (${name.length} UTF-16 units) has U+FFFD at its end`).not.toContain('\uFFFD');
        }
        expect(upload.name.length).toBeLessThanOrEqual(255);
        expect(['.', '..']).not.toContain(upload.name);
        // Cleaned up at once, so the owner's quota of active uploads is not what the test measures.
        expect((await api(`/api/uploads/${upload.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${upload.uploadToken}` } })).status).toBe(200);
      }),
      // The known-nasty names always run; random ones on top.
      { numRuns: RUNS.names, seed: SEED, examples: NASTY_NAMES.filter((n) => n.length <= 1024).map((n) => [n] as [string]) },
    );
    expect(created.length).toBeGreaterThanOrEqual(RUNS.names);
    await expectUnchanged();
  });
});
