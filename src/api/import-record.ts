/**
 * @module The record of one import from a URL: where the bytes come from, how to resume, and how it
 * ended (with its `ERR_IMPORT_…` reason). Kept as a small JSON object beside the upload's staging
 * object (under `staging/`, which the lifecycle rules expire after 7 days) because the session has
 * no place for it yet; the upload's bytes, progress and state stay in the session as for any upload.
 */
import type { ErrorBody } from '../domain/errors';
import { stagingKey } from '../storage/object-keys';
import type { R2Store } from '../storage/r2-store';

export interface ImportRecord {
  v: 1;
  uploadId: string;
  owner: string;
  /** The URL the client asked for; every attempt (and every redirect) is checked again. */
  sourceUrl: string;
  /** The size the source declared, or null when it did not (the upload learns it at the end). */
  size: number | null;
  /** The source serves byte ranges: an interrupted import continues from the upload's offset. */
  acceptsRanges: boolean;
  /** Sent as If-Range on resumption, so a changed file is never spliced onto the old bytes. */
  validator: string | null;
  /** Epoch milliseconds after which the import fails with ERR_IMPORT_TIMEOUT (IMPORT_TIMEOUT_SECONDS after it began). */
  deadline: number;
  state: 'running' | 'done' | 'failed';
  /** Attempts so far (the first, automatic retries after a broken connection, resumptions). */
  attempts: number;
  reason?: ErrorBody;
  /** A failed import that can still continue (POST …/import) from the upload's offset. */
  resumable?: boolean;
  updatedAt: string;
}

export const importRecordKey = (uploadKey: string): string => `${stagingKey(uploadKey)}.import.json`;

export async function readImportRecord(store: R2Store, uploadKey: string): Promise<ImportRecord | null> {
  const bytes = await store.readAll(importRecordKey(uploadKey));
  if (!bytes) return null;
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as ImportRecord;
  } catch {
    return null;
  }
}

export async function writeImportRecord(store: R2Store, uploadKey: string, record: ImportRecord): Promise<ImportRecord> {
  const next = { ...record, updatedAt: new Date().toISOString() };
  await store.put(importRecordKey(uploadKey), new TextEncoder().encode(JSON.stringify(next)), 'application/json');
  return next;
}
