/** @module The default size of a processing slice, shared by the configuration and the cost benchmark (no runtime imports). */

/**
 * Bytes hashed and scanned per processing invocation: 512 MiB costs ~14 CPU-s measured locally
 * (28.6 s/GiB for R2 read, saveable SHA-256 and scan, `npm run bench:processing`), under half of
 * the 30 s a Worker gets by default; docs/processing-limits.md has the arithmetic against
 * `[limits] cpu_ms`.
 */
export const DEFAULT_PROCESSING_SLICE_BYTES = 512 * 1024 * 1024;
