/**
 * @module Upload metrics for Workers Analytics Engine. One data point per event, written only when
 * a dataset is bound (`METRICS`); without one every call is a no-op, so callers never check.
 *
 * Layout (Analytics Engine allows 20 blobs, 20 doubles, 1 index per point):
 * - index1: the event (`upload_created`, `upload_ready`, `upload_rejected`, `upload_failed`,
 *   `processing_slice`), so sampling keeps events of each kind;
 * - blob1: the event again, blob2: the detail (content type for created/ready, the reason code
 *   for rejected/failed), blob3: the request id that caused it (when known);
 * - double1: bytes (declared at creation; the file's at ready/rejected; the slice's for slices),
 *   double2: wall time in ms of the processing invocation, double3: parts sent again after they
 *   were confirmed (at ready), double4: time from creation to ready in ms (at ready).
 */

export type MetricEvent = 'upload_created' | 'upload_ready' | 'upload_rejected' | 'upload_failed' | 'processing_slice';

export interface MetricPoint {
  event: MetricEvent;
  detail?: string;
  requestId?: string;
  bytes?: number;
  durationMs?: number;
  partRetries?: number;
  timeToReadyMs?: number;
}

/** The part of the Analytics Engine binding we use (a recording fake in tests implements just this). */
export interface MetricsSink {
  writeDataPoint(point: AnalyticsEngineDataPoint): void;
}

export interface Metrics {
  record(point: MetricPoint): void;
}

const NO_METRICS: Metrics = { record: () => {} };

/** The data point for one event, in the layout above. */
export function dataPoint(point: MetricPoint): AnalyticsEngineDataPoint {
  return {
    indexes: [point.event],
    blobs: [point.event, point.detail ?? '', point.requestId ?? ''],
    doubles: [point.bytes ?? 0, point.durationMs ?? 0, point.partRetries ?? 0, point.timeToReadyMs ?? 0],
  };
}

/** Metrics writing to `env.METRICS`, or the no-op when it is not bound. */
export function metricsFor(env: { METRICS?: MetricsSink }): Metrics {
  const sink = env.METRICS;
  if (!sink) return NO_METRICS;
  return {
    record(point) {
      try {
        sink.writeDataPoint(dataPoint(point));
      } catch (error) {
        // Metrics are best effort: a failed write must never fail an upload.
        console.warn(JSON.stringify({ event: 'metrics_write_failed', error: String(error).slice(0, 200) }));
      }
    },
  };
}
