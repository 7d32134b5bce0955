/**
 * Asks the runtime workerd's V8 inspector how big the Worker's isolate heap is (CDP
 * `Runtime.getHeapUsage`), to tell the isolate's own memory apart from the rest of the process's
 * RSS (the local R2/D1/Durable Object emulation, SQLite, native buffers). wrangler dev starts the
 * runtime with `--inspector-addr=127.0.0.1:0`; the port is found among the process's listening
 * sockets (/proc/<pid>/fd → /proc/net/tcp) by asking each for `/json`.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const line of readFileSync(`/proc/${pid}/net/tcp`, 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // local_address is "0100007F:PORT" in hex; state 0A = LISTEN; the inode is field 9.
    if (fields[3] === '0A' && inodes.has(fields[9]!)) ports.push(Number.parseInt(fields[1]!.split(':')[1]!, 16));
  }
  return ports;
}

/** The inspector's WebSocket URL of the first target, or undefined when none of the ports is an inspector. */
export async function inspectorTarget(pid: number): Promise<string | undefined> {
  for (const port of listeningPorts(pid)) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/json`, { signal: AbortSignal.timeout(1000) });
      if (!response.ok) continue;
      const targets = (await response.json()) as { webSocketDebuggerUrl?: string }[];
      const target = targets.find((t) => t.webSocketDebuggerUrl);
      if (target) return target.webSocketDebuggerUrl!.replace('localhost', '127.0.0.1');
    } catch {
      // not an inspector
    }
  }
  return undefined;
}

export interface HeapUsage {
  /** Live JS objects, bytes. */
  usedSize: number;
  /** The V8 heap as allocated, bytes. */
  totalSize: number;
  /** ArrayBuffer backing stores outside the V8 heap (request bodies, WASM memory), bytes. */
  backingStorageSize: number;
}

/**
 * One inspector session on the isolate: `usage()` asks for its heap now; `sample()` polls it
 * every `everyMs` until the returned stop function is called and gives the largest readings.
 */
export class HeapProbe {
  private next = 1;
  private constructor(private readonly ws: WebSocket) {}

  static async open(pid: number): Promise<HeapProbe | undefined> {
    const url = await inspectorTarget(pid);
    if (!url) return undefined;
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error(`inspector ${url}: cannot connect`)), { once: true });
    });
    const probe = new HeapProbe(ws);
    // workerd answers Runtime.getHeapUsage only once the Runtime domain is enabled.
    await probe.call('Runtime.enable');
    return probe;
  }

  private call(method: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const id = this.next++;
      const timer = setTimeout(() => {
        this.ws.removeEventListener('message', onMessage);
        reject(new Error(`inspector: ${method} timed out`));
      }, 10_000);
      const onMessage = (event: MessageEvent) => {
        const message = JSON.parse(String(event.data)) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
        if (message.id !== id) return;
        clearTimeout(timer);
        this.ws.removeEventListener('message', onMessage);
        if (message.error) reject(new Error(`inspector: ${method}: ${message.error.message}`));
        else resolve(message.result ?? {});
      };
      this.ws.addEventListener('message', onMessage);
      this.ws.send(JSON.stringify({ id, method }));
    });
  }

  /** The heap now; after a full garbage collection when `collect` (what stays, not what waits for GC). */
  async usage(collect = false): Promise<HeapUsage> {
    if (collect) await this.call('HeapProfiler.collectGarbage').catch(() => undefined);
    const usage = await this.call('Runtime.getHeapUsage');
    return { usedSize: Number(usage.usedSize), totalSize: Number(usage.totalSize), backingStorageSize: Number(usage.backingStorageSize ?? 0) };
  }

  /** Polls until stopped; the stop function resolves to the largest of each reading. */
  sample(everyMs = 250): () => Promise<HeapUsage> {
    const peak: HeapUsage = { usedSize: 0, totalSize: 0, backingStorageSize: 0 };
    let running = true;
    const loop = (async () => {
      while (running) {
        const now = await this.usage().catch(() => undefined);
        if (now) for (const key of Object.keys(peak) as (keyof HeapUsage)[]) peak[key] = Math.max(peak[key], now[key]);
        await new Promise((resolve) => setTimeout(resolve, everyMs));
      }
    })();
    return async () => {
      running = false;
      await loop;
      return peak;
    };
  }

  close(): void {
    this.ws.close();
  }
}
