/**
 * @module Tells the embedding app about an upload's lifecycle (the machine's `notify` effect):
 * hands the notice to the events queue when the deployment has one; webhook delivery is that
 * queue's consumer's job, never the session's (nothing slow runs inside a state change).
 */
import type { LifecycleNotice } from '../../domain/upload-machine';
import type { UploadRow } from './manifest-store';
import type { SessionScope } from './scope';

export async function notifyApp(_scope: SessionScope, _upload: UploadRow, _notice: LifecycleNotice): Promise<void> {
  // No events queue is configured in this deployment: there is no one to tell.
}
