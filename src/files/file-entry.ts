/**
 * @module The files API's entry for one upload, built from the same description upload events carry,
 * so the index (written from events) and a direct look-up (from the session) show the same thing.
 * Private files carry no URLs: they are served only through signed URLs (POST /api/files/:id/url).
 */
import type { UploadEventSubject, UploadState, Visibility } from '../contracts/messages';

export interface FileDerivative {
  variant: string;
  width: number;
  height: number;
  type: string;
  bytes: number;
  /** Public files only. */
  url?: string;
}

export interface FileEntry {
  id: string;
  owner: string;
  name: string;
  type: string;
  size: number | null;
  state: UploadState;
  reason?: string;
  visibility: Visibility;
  createdAt: string;
  updatedAt: string;
  sha256?: string;
  metadata: Record<string, string>;
  /** Public, ready files only. */
  url?: string;
  derivatives?: FileDerivative[];
}

export function fileEntry(upload: UploadEventSubject): FileEntry {
  const open = upload.visibility === 'public';
  const derivatives = upload.result?.derivatives ?? [];
  return {
    id: upload.id,
    owner: upload.owner,
    name: upload.name,
    type: upload.type,
    size: upload.size,
    state: upload.state,
    ...(upload.reason ? { reason: upload.reason } : {}),
    visibility: upload.visibility,
    createdAt: upload.createdAt,
    updatedAt: upload.updatedAt,
    ...(upload.result?.sha256 ? { sha256: upload.result.sha256 } : {}),
    metadata: upload.metadata,
    ...(open && upload.urls ? { url: upload.urls.original } : {}),
    ...(derivatives.length > 0
      ? {
          derivatives: derivatives.map((d) => ({
            variant: d.variant,
            width: d.width,
            height: d.height,
            type: d.type,
            bytes: d.bytes,
            ...(open ? { url: upload.urls?.derivatives?.[d.variant] ?? d.url } : {}),
          })),
        }
      : {}),
  };
}
