/**
 * @module Adaptive concurrency for part uploads. Starts from a default and probes upward while
 * throughput keeps rising; backs off on errors or when latency grows without throughput gains
 * (the link is saturated and requests just queue). Pure: callers feed it measurements.
 */

export interface ConcurrencyOptions {
  initial: number;
  min: number;
  max: number;
}

export interface NetworkHints {
  hardwareConcurrency?: number;
  /** navigator.connection.effectiveType: 'slow-2g' | '2g' | '3g' | '4g' */
  effectiveType?: string;
  saveData?: boolean;
}

/** Bounds from the device and network: fewer parallel parts on slow links and small devices. */
export function concurrencyBounds(hints: NetworkHints, defaults: ConcurrencyOptions = { initial: 4, min: 1, max: 8 }): ConcurrencyOptions {
  let { initial, max } = defaults;
  if (hints.hardwareConcurrency && hints.hardwareConcurrency > 0) max = Math.min(max, Math.max(2, hints.hardwareConcurrency * 2));
  if (hints.saveData || hints.effectiveType === 'slow-2g' || hints.effectiveType === '2g') max = Math.min(max, 1);
  else if (hints.effectiveType === '3g') max = Math.min(max, 2);
  initial = Math.min(initial, max);
  return { initial, min: Math.min(defaults.min, max), max };
}

interface Sample {
  bytes: number;
  ms: number;
}

export class ConcurrencyController {
  private current: number;
  private window: Sample[] = [];
  private lastThroughput = 0;
  private lastLatency = 0;
  private lastChange: 'up' | 'down' | 'none' = 'none';

  constructor(private readonly options: ConcurrencyOptions) {
    this.current = options.initial;
  }

  get limit(): number {
    return this.current;
  }

  /** A part finished: every `current` completions form a window that may move the limit. */
  success(bytes: number, ms: number): void {
    this.window.push({ bytes, ms: Math.max(1, ms) });
    if (this.window.length < this.current) return;
    const bytesTotal = this.window.reduce((sum, s) => sum + s.bytes, 0);
    const latency = this.window.reduce((sum, s) => sum + s.ms, 0) / this.window.length;
    // Throughput with `current` parts in flight ≈ current × bytes / latency.
    const throughput = (this.current * bytesTotal) / this.window.length / latency;
    this.window = [];
    const before = this.current;
    if (this.lastThroughput === 0 || throughput > this.lastThroughput * 1.05) {
      this.current = Math.min(this.options.max, this.current + 1);
    } else if (this.lastChange === 'up' || latency > this.lastLatency * 1.5) {
      // The last probe bought nothing, or requests just queue longer: step back.
      this.current = Math.max(this.options.min, this.current - 1);
    }
    this.lastChange = this.current > before ? 'up' : this.current < before ? 'down' : 'none';
    this.lastThroughput = throughput;
    this.lastLatency = latency;
  }

  /** A part failed: halve (multiplicative decrease), keep at least the minimum. */
  failure(): void {
    this.current = Math.max(this.options.min, Math.floor(this.current / 2));
    this.window = [];
  }
}
