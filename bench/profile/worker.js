/**
 * Bench-only profiling entry: the project's Worker unchanged (same routes, same Durable Object
 * classes, same bindings), with its bindings wrapped in timers. Every response carries a
 * `Server-Timing` header saying where the request's time went inside the Worker:
 *
 *   rl      the rate-limiting binding          begin   session.claimPart (DO RPC)
 *   r2      R2 uploadPart (receiving the body and storing it)
 *   commit  session.confirmPart (DO RPC)       do      any other DO RPC
 *   worker  the whole request inside the Worker; worker − the rest = routing, auth, JSON
 *   r2.get, r2.head, r2.delete …  other R2 calls (until their answer, not the body read)
 *   ledger  the owner's ledger Durable Object
 *
 * Queue batches (validation, SHA-256 and scan of the assembled file) are timed the same way and
 * logged as one line `BENCH-PROFILE queue {…}` on wrangler's output, with `queue` = the batch's
 * total; the time not in a named call is reading the object's body and the JS around it.
 *
 * Its wrangler config is generated at run time from the project's wrangler.toml with only `name`
 * and `main` changed (bench/lib/servers.ts), so bindings never drift. Never deploy it.
 * Note: workerd's clock advances only across I/O, so pure CPU inside one turn reads as 0 ms.
 * Plain JavaScript on purpose: it imports the Worker's sources, which type-check only under the
 * Workers tsconfig, while the TypeScript under bench/ is checked with the Node one.
 */
import project from '../../src/index';

export * from '../../src/index';

/** @typedef {Record<string, number>} Timings */

/** @template T @param {Timings} timings @param {string} name @param {() => Promise<T>} work @returns {Promise<T>} */
function timed(timings, name, work) {
  const started = performance.now();
  return Promise.resolve()
    .then(work)
    .finally(() => {
      timings[name] = (timings[name] ?? 0) + (performance.now() - started);
    });
}

/**
 * Wraps the methods of `target`: calls `nameOf` names are timed; `nested` wraps what a call returns.
 * @param {object} target @param {Timings} timings @param {(method: string) => string | undefined} nameOf
 * @param {Record<string, (value: object) => object>} [nested]
 */
function wrap(target, timings, nameOf, nested = {}) {
  return new Proxy(target, {
    get(obj, prop) {
      if (prop === 'then') return undefined;
      const value = obj[prop];
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args) => {
        const name = nameOf(prop);
        const call = () => Reflect.apply(value, obj, args); // not value.apply: RPC stubs treat any property as a remote method
        if (nested[prop]) return nested[prop](call());
        return name ? timed(timings, name, async () => call()) : call();
      };
    },
  });
}

/** The part path's two session RPCs, under the report's column names (kept from when they were beginPart/commitPart). @type {Record<string, string>} */
const SESSION_NAMES = { claimPart: 'begin', confirmPart: 'commit' };

/** @param {Record<string, any>} env @param {Timings} timings */
function instrument(env, timings) {
  const out = { ...env };
  const namespace = env.UPLOAD_SESSION;
  if (namespace) {
    const stub = (s) => wrap(s, timings, (m) => SESSION_NAMES[m] ?? 'do');
    out.UPLOAD_SESSION = wrap(namespace, timings, () => undefined, { get: stub, getByName: stub });
  }
  const bucket = env.BUCKET;
  if (bucket) {
    const upload = (u) => wrap(u, timings, (m) => (m === 'uploadPart' ? 'r2' : `r2.${m}`));
    const direct = ['get', 'head', 'put', 'delete', 'createMultipartUpload'];
    out.BUCKET = wrap(bucket, timings, (m) => (direct.includes(m) ? `r2.${m}` : undefined), { resumeMultipartUpload: upload });
  }
  const ledger = env.OWNER_LEDGER;
  if (ledger) {
    const stub = (s) => wrap(s, timings, () => 'ledger');
    out.OWNER_LEDGER = wrap(ledger, timings, () => undefined, { get: stub, getByName: stub });
  }
  for (const name of Object.keys(env)) {
    const binding = env[name];
    if (name.includes('LIMIT') && binding && typeof binding.limit === 'function') out[name] = wrap(binding, timings, () => 'rl');
  }
  return out;
}

const inner = project;

export default {
  ...inner,
  /** @param {Request} request @param {Record<string, any>} env @param {any} ctx */
  async fetch(request, env, ctx) {
    /** @type {Timings} */
    const timings = {};
    const started = performance.now();
    const response = await inner.fetch(request, instrument(env, timings), ctx);
    if (response.status === 101) return response;
    const withTiming = new Response(response.body, response);
    timings.worker = performance.now() - started;
    withTiming.headers.set('server-timing', Object.entries(timings).map(([k, v]) => `${k};dur=${v.toFixed(1)}`).join(', '));
    return withTiming;
  },
  /** @param {{ queue: string, messages: unknown[] }} batch @param {Record<string, any>} env @param {any} ctx */
  async queue(batch, env, ctx) {
    /** @type {Timings} */
    const timings = {};
    const started = performance.now();
    try {
      return await inner.queue(batch, instrument(env, timings), ctx);
    } finally {
      timings.queue = performance.now() - started;
      const rounded = Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v * 10) / 10]));
      console.log(`BENCH-PROFILE queue ${JSON.stringify({ name: batch.queue, messages: batch.messages.length, ...rounded })}`);
    }
  },
};
