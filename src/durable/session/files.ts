/**
 * @module The files API's side of the session: an upload as the app's backend sees it (with owner
 * and visibility), and the details the app may change after creation (name, metadata,
 * visibility), each change told to the app as `upload.updated`.
 */
import { ok, type Result } from '../../domain/errors';
import type { Manifest, Visibility } from '../../contracts/messages';
import { isGone } from '../../contracts/upload-states';
import { manifestOf } from './manifest-view';
import { flushNotices, recordNotice } from './notify-app';
import type { SessionScope } from './scope';
import { uploadGone, uploadNotFound } from './transitions';

export interface FileView {
  manifest: Manifest;
  owner: string;
  visibility: Visibility;
}

export interface FileChanges {
  name?: string;
  metadata?: Record<string, string>;
  visibility?: Visibility;
}

export function fileView(scope: SessionScope): Result<FileView> {
  const upload = scope.store.upload();
  if (!upload) return uploadNotFound();
  return ok({ manifest: manifestOf(scope.store, upload), owner: upload.owner, visibility: upload.visibility });
}

export async function updateFile(scope: SessionScope, changes: FileChanges): Promise<Result<FileView>> {
  const upload = scope.store.upload();
  if (!upload) return uploadNotFound();
  if (isGone(upload.state)) return uploadGone(upload);
  scope.ctx.storage.transactionSync(() => {
    scope.store.setDetails(changes.name ?? upload.name, changes.metadata ?? upload.metadata, changes.visibility ?? upload.visibility);
    recordNotice(scope, 'upload.updated');
  });
  await flushNotices(scope);
  return fileView(scope);
}
