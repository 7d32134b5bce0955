/**
 * Cloudflare's published prices used by the cost benchmark (bench/cost.ts): the one place they
 * are kept. Paid plans, USD, beyond the monthly included amounts (which the benchmark ignores:
 * it prices the marginal upload). Check the sources when they may have changed and update `asOf`.
 */
export const PRICES = {
  asOf: '2026-11-29',
  sources: [
    'https://developers.cloudflare.com/r2/pricing/',
    'https://developers.cloudflare.com/workers/platform/pricing/',
    'https://developers.cloudflare.com/durable-objects/platform/pricing/',
    'https://developers.cloudflare.com/queues/platform/pricing/',
    'https://developers.cloudflare.com/images/pricing/',
    'the project design notes (/work/shared/DESIGN.md: R2 storage and Class A prices)',
  ],
  r2: {
    /** Standard storage, per GB-month (10⁹ bytes). Infrequent Access: 0.01 (30-day minimum, $0.01/GB retrieval). */
    storagePerGbMonth: 0.015,
    /** Class A (writes, lists, multipart create/part/complete), per million. IA: 9.00. */
    classAPerMillion: 4.5,
    /** Class B (reads, heads), per million. IA: 0.90. */
    classBPerMillion: 0.36,
    /** Egress: free. */
  },
  workers: {
    requestsPerMillion: 0.3,
    /** Per million CPU milliseconds. */
    cpuMsPerMillion: 0.02,
  },
  durableObjects: {
    requestsPerMillion: 0.15,
    /** Per million GB-s; an active object is billed at 128 MB whatever it uses. */
    durationPerMillionGbSeconds: 12.5,
    /** SQLite storage: rows written per million (rows read: $0.001/M, negligible here). */
    rowsWrittenPerMillion: 1.0,
  },
  queues: {
    /** Per million operations; each 64 KB of a message is written, read and deleted: 3 operations. */
    operationsPerMillion: 0.4,
  },
  images: {
    /** Per 1,000 unique transformations (derivatives made by the Images binding). */
    transformationsPerThousand: 0.5,
  },
} as const;
