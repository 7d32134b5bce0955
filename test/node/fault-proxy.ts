/**
 * A small TCP fault proxy for tests (node:net): sits between a client and a server and, seeded and
 * bounded, delays chunks, stalls connections and resets them part-way through what the client
 * sends (so mostly in the middle of a request body). HTTP-agnostic: it counts bytes, not requests.
 *
 *   const proxy = await startFaultProxy({ target: { port: 8787 }, seed: 7, resetRate: 0.2, stallRate: 0.1 });
 *   fetch(`${proxy.url}/api/...`)   // some connections die mid-body, some stall, chunks lag
 *   proxy.stats                     // what it did
 *   proxy.planNext({ resetAfterBytes: 1000 })  // a deterministic fault for the next connection
 */
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface FaultProxyOptions {
  target: { host?: string; port: number };
  /**
   * Seed of the fault decisions (mulberry32). Each connection draws from its own generator,
   * seeded by (seed, connection number), so faults are a pure function of the seed, the order
   * connections are opened in, and the byte offsets: the same run replays the same faults.
   */
  seed?: number;
  /** The client→server stream of a connection is cut into segments of this many bytes (4 MiB). */
  segmentBytes?: number;
  /** Chance, per segment, of a reset (RST both ways) at a random byte of that segment. */
  resetRate?: number;
  /** Chance, per segment, of a stall (nothing forwarded) at a random byte, lasting `stallMs`. */
  stallRate?: number;
  stallMs?: [number, number];
  /** Chance that a chunk (either direction) is held back for 1…`maxDelayMs` ms. */
  delayRate?: number;
  maxDelayMs?: number;
  /** Bounds: after this many resets / stalls, no more (so a transfer can always finish). */
  maxResets?: number;
  maxStalls?: number;
  listenPort?: number;
}

/** A fault planned for one connection by `planNext` (instead of the seeded dice). */
export interface ConnectionPlan {
  /** Reset both sides once this many client→server bytes have been forwarded (0: right away). */
  resetAfterBytes?: number;
  /** Half-close towards the server (FIN) after this many client bytes: a truncated request. */
  endAfterBytes?: number;
  /** Stop forwarding for `ms` once this many client bytes went through. */
  stall?: { afterBytes: number; ms: number };
}

export interface FaultStats {
  connections: number;
  resets: number;
  truncations: number;
  stalls: number;
  stalledMs: number;
  delays: number;
  delayedMs: number;
  bytesUp: number;
  bytesDown: number;
}

export interface FaultProxy {
  url: string;
  port: number;
  stats: FaultStats;
  /** Faults on (true, the default) or off (pure pass-through). */
  setEnabled(enabled: boolean): void;
  /** The next accepted connection gets exactly this plan (and no random faults). */
  planNext(plan: ConnectionPlan): void;
  close(): Promise<void>;
}

/** mulberry32: a tiny, good-enough seeded PRNG. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const seed = options.seed ?? 1;
  const segment = options.segmentBytes ?? 4 * 1024 * 1024;
  const host = options.target.host ?? '127.0.0.1';
  const stats: FaultStats = {
    connections: 0, resets: 0, truncations: 0, stalls: 0, stalledMs: 0, delays: 0, delayedMs: 0, bytesUp: 0, bytesDown: 0,
  };
  let enabled = true;
  let planned: ConnectionPlan | undefined;
  const sockets = new Set<Socket>();

  /** The faults of one connection: a fixed plan, or seeded dice rolled segment by segment. */
  function faultsFor(connection: number, fixed: ConnectionPlan | undefined) {
    const random = seededRandom(Math.imul(seed, 1_000_003) + connection);
    const delayRandom = seededRandom(Math.imul(seed ^ 0x5bd1e995, 1_000_033) + connection);
    const between = (min: number, max: number) => Math.floor(min + random() * (max - min + 1));
    const plan: ConnectionPlan = fixed ? { ...fixed } : {};
    let rolledUpTo = 0;
    return {
      plan,
      /** Rolls the dice for every segment that `upTo` bytes reach into. */
      roll(upTo: number) {
        if (fixed) return;
        while (rolledUpTo <= upTo) {
          const resetRoll = random();
          const resetAt = rolledUpTo + between(0, segment - 1);
          const stallRoll = random();
          const stallAt = rolledUpTo + between(0, segment - 1);
          const [sMin, sMax] = options.stallMs ?? [300, 1500];
          const stallMs = between(sMin, sMax);
          if (enabled && plan.resetAfterBytes === undefined && resetRoll < (options.resetRate ?? 0)) plan.resetAfterBytes = resetAt;
          if (enabled && plan.stall === undefined && stallRoll < (options.stallRate ?? 0)) plan.stall = { afterBytes: stallAt, ms: stallMs };
          rolledUpTo += segment;
        }
      },
      async delay() {
        if (fixed || !enabled || delayRandom() >= (options.delayRate ?? 0)) return;
        const ms = 1 + Math.floor(delayRandom() * (options.maxDelayMs ?? 20));
        stats.delays += 1;
        stats.delayedMs += ms;
        await sleep(ms);
      },
    };
  }

  /** Client → server: applies the connection's faults to the bytes the client sends. */
  async function pumpUp(from: Socket, to: Socket, faults: ReturnType<typeof faultsFor>, kill: () => void): Promise<void> {
    let forwarded = 0;
    const { plan } = faults;
    try {
      for await (const data of from) {
        const chunk = data as Buffer;
        faults.roll(forwarded + chunk.length);
        if (plan.stall && forwarded + chunk.length > plan.stall.afterBytes) {
          const { ms } = plan.stall;
          plan.stall = undefined;
          if (stats.stalls < (options.maxStalls ?? Infinity)) {
            stats.stalls += 1;
            stats.stalledMs += ms;
            await sleep(ms);
          }
        }
        const cut = plan.resetAfterBytes ?? plan.endAfterBytes;
        if (cut !== undefined && forwarded + chunk.length >= cut) {
          const isReset = plan.resetAfterBytes !== undefined;
          if (!isReset || stats.resets < (options.maxResets ?? Infinity)) {
            const head = chunk.subarray(0, Math.max(0, cut - forwarded));
            if (head.length > 0 && !to.destroyed) to.write(head);
            stats.bytesUp += head.length;
            if (isReset) {
              stats.resets += 1;
              // Let the head reach the server before the RST, so the cut falls where planned.
              await sleep(5);
              kill();
            } else {
              stats.truncations += 1;
              to.end();
              from.destroy();
            }
            return;
          }
          plan.resetAfterBytes = undefined;
        }
        await faults.delay();
        if (to.destroyed) return;
        forwarded += chunk.length;
        stats.bytesUp += chunk.length;
        if (!to.write(chunk)) await Promise.race([once(to, 'drain'), once(to, 'close')]);
      }
      if (!to.destroyed) to.end();
    } catch {
      kill();
    }
  }

  /** Server → client: only delays. */
  async function pumpDown(from: Socket, to: Socket, faults: ReturnType<typeof faultsFor>, kill: () => void): Promise<void> {
    try {
      for await (const data of from) {
        await faults.delay();
        if (to.destroyed) return;
        stats.bytesDown += (data as Buffer).length;
        if (!to.write(data)) await Promise.race([once(to, 'drain'), once(to, 'close')]);
      }
      if (!to.destroyed) to.end();
    } catch {
      kill();
    }
  }

  const server: Server = createServer((client) => {
    stats.connections += 1;
    const faults = faultsFor(stats.connections, planned);
    planned = undefined;
    const upstream = connect(options.target.port, host);
    sockets.add(client);
    sockets.add(upstream);
    let killed = false;
    const kill = () => {
      if (killed) return;
      killed = true;
      // RST, not FIN: the peer sees "connection reset", as when a network path dies.
      if (!client.destroyed) client.resetAndDestroy();
      if (!upstream.destroyed) upstream.resetAndDestroy();
    };
    client.on('error', kill);
    upstream.on('error', kill);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
    upstream.once('connect', () => {
      void pumpUp(client, upstream, faults, kill);
      void pumpDown(upstream, client, faults, kill);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listenPort ?? 0, '127.0.0.1', resolve);
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stats,
    setEnabled(value) {
      enabled = value;
    },
    planNext(plan) {
      planned = plan;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
