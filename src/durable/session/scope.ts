/**
 * @module What every concern of the session (writes, lifecycle, pipeline, events) shares: the
 * object's state and bindings, the SQL store, the event hub, the in-memory claims, and `apply`,
 * the one way an upload's state changes (through the pure state machine).
 */
import type { Result } from '../../domain/errors';
import type { UploadEvent } from '../../domain/upload-machine';
import type { Env } from '../../env';
import type { UploadResult } from '../../contracts/messages';
import type { UploadState } from '../../contracts/upload-states';
import type { R2Store } from '../../storage/r2-store';
import type { SessionClaims } from './claims';
import type { EventHub } from './event-hub';
import type { ManifestStore, UploadLimits, UploadRow } from './manifest-store';

export interface SessionScope {
  readonly ctx: DurableObjectState;
  readonly env: Env;
  readonly store: ManifestStore;
  readonly r2: R2Store;
  readonly hub: EventHub;
  readonly claims: SessionClaims;
  /** Runs `event` through the state machine: records the move (with `result`), then runs its effects. */
  apply(event: UploadEvent, result?: UploadResult): Promise<Result<UploadState>>;
  /** The limits the upload was opened under (the deployment's, for uploads older than that record). */
  limitsOf(upload: UploadRow): UploadLimits;
  /** Records the request (id) now acting on the upload, so what it causes later carries its id. */
  trace(requestId: string | undefined): void;
}
