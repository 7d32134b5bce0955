/** CPU and memory of the server processes during one measured piece of work, per GiB moved. */
import type { GroupUsage, ProcessMeter } from '../lib/procs';
import { GiB } from '../lib/stats';

/** A run that says nothing about performance (the server restarted, the upload stalled): retry it. */
export class VoidRun extends Error {
  override name = 'VoidRun';
}

/**
 * The server's processes changed during a measurement: `wrangler dev` rebuilt and restarted the
 * Worker because a source file changed (someone edited src/ meanwhile). The run is void; retry it.
 */
export class ServerRestarted extends VoidRun {
  constructor(what: string) {
    super(`${what}: the server's workerd processes changed during the measurement (wrangler dev reloaded after a source change)`);
  }
}

export interface Usage {
  /** Server-side groups (workerd, workerd:runtime, workerd:proxy, wrangler:node, tus). */
  groups: Record<
    string,
    {
      /** Until the bytes were stored (ours: the last part's 200; the others: their end). */
      cpuSeconds: number;
      cpuSecondsPerGiB: number;
      /** Until the end of the measured work (ours: ready, i.e. assembly, validation and scanning included). */
      totalCpuSeconds: number;
      totalCpuSecondsPerGiB: number;
      /** Peak RSS until ready. */
      peakRss: number;
      /** Peak RSS during the transfer (ours: until the last part's 200). */
      transferPeakRss: number;
      baselineRss: number;
      exactPeak: boolean;
    }
  >;
  /** The benchmark process itself (the client), until the bytes were stored. */
  clientCpuSecondsPerGiB: number;
  clientCpuSeconds: number;
  /** Cores' worth of CPU that other processes on the machine used meanwhile (noise). */
  backgroundCores: number;
}

export function usageOf(measured: ReturnType<ProcessMeter['stop']>, bytes: number, what = 'measurement'): Usage {
  if (measured.restarted) throw new ServerRestarted(what);
  const gib = bytes / GiB;
  const groups: Usage['groups'] = {};
  for (const g of measured.groups as GroupUsage[]) {
    groups[g.name] = {
      cpuSeconds: g.markedCpuSeconds,
      cpuSecondsPerGiB: g.markedCpuSeconds / gib,
      totalCpuSeconds: g.cpuSeconds,
      totalCpuSecondsPerGiB: g.cpuSeconds / gib,
      peakRss: g.peakRss,
      transferPeakRss: g.markedPeakRss,
      baselineRss: g.baselineRss,
      exactPeak: g.exactPeak,
    };
  }
  return { groups, clientCpuSeconds: measured.markedClientCpuSeconds, clientCpuSecondsPerGiB: measured.markedClientCpuSeconds / gib, backgroundCores: measured.backgroundCores };
}
