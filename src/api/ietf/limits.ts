/**
 * @module The limits this server applies to resumable uploads, as the IETF draft's `Upload-Limit`
 * announces them: the same numbers the tus handlers enforce (file size limit, the Workers body
 * cap per request), so OPTIONS, creation and offset retrieval never promise more than is allowed.
 */
import type { AppConfig } from '../../config';
import { MAX_CHUNK_BYTES } from '../tus/protocol';
import type { UploadLimits } from './protocol';

/**
 * min-size is 1: empty files are refused (R2 cannot complete a multipart upload with no parts).
 * min-append-size is 1: an append that carries no bytes and does not complete the upload only
 * keeps a resource alive (the draft's Slowloris concern). `max-age` is the remaining lifetime of
 * an existing upload, or a new upload's lifetime when there is none yet (OPTIONS).
 */
export function uploadLimits(config: AppConfig, expiresAt?: string | number): UploadLimits {
  const maxAge = expiresAt === undefined ? config.uploadTtlSeconds : Math.max(0, Math.floor((new Date(expiresAt).getTime() - Date.now()) / 1000));
  return {
    'max-size': config.maxFileSize,
    'min-size': 1,
    'max-append-size': Math.min(MAX_CHUNK_BYTES, config.maxFileSize),
    'min-append-size': 1,
    'max-age': maxAge,
  };
}
