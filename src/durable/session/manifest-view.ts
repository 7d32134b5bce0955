/**
 * @module Views of the stored upload: the manifest clients read, progress fields, part receipts,
 * the missing parts. Derived from the store on every call; nothing here is kept twice.
 */
import type { Manifest, PartReceipt, ProgressFields } from '../../contracts/messages';
import type { ManifestStore, PartRow, UploadRow } from './manifest-store';

export function missingParts(upload: UploadRow, parts: PartRow[]): number[] {
  const confirmed = new Set(parts.map((p) => p.partNumber));
  const missing: number[] = [];
  for (let n = 1; n <= (upload.partCount ?? 0); n++) if (!confirmed.has(n)) missing.push(n);
  return missing;
}

export function progressOf(store: ManifestStore): ProgressFields | null {
  const upload = store.upload();
  if (!upload) return null;
  return { ...store.totals(), size: upload.size, partCount: upload.partCount };
}

export function receiptOf(store: ManifestStore, partNumber: number, size: number, etag: string): PartReceipt {
  return { partNumber, size, etag, ...store.totals() };
}

export function manifestOf(store: ManifestStore, upload: UploadRow): Manifest {
  const parts = store.parts();
  const totals = store.totals();
  return {
    id: upload.id,
    state: upload.state,
    ...(upload.reason ? { reason: upload.reason } : {}),
    name: upload.name,
    type: upload.type,
    size: upload.size,
    partSize: upload.partSize,
    partCount: upload.partCount,
    confirmedBytes: totals.confirmedBytes,
    confirmedParts: totals.confirmedParts,
    parts: parts.map((p) => ({ partNumber: p.partNumber, size: p.size })),
    missingParts: missingParts(upload, parts),
    createdAt: new Date(upload.createdAt).toISOString(),
    updatedAt: new Date(upload.updatedAt).toISOString(),
    expiresAt: new Date(upload.expiresAt).toISOString(),
    ...(upload.metadata ? { metadata: upload.metadata } : {}),
    ...(upload.result ? { result: upload.result } : {}),
  };
}
