/**
 * @module The upload's rules as one pure state machine: from (upload, event) to a decision —
 * move to a state with effects, stay (an idempotent repeat, possibly with effects), or refuse.
 * Every (state, event) pair has an outcome (test/unit/upload-machine.test.ts covers them all).
 * The session applies decisions and runs their effects; nothing else changes an upload's state.
 */
import { isAccepting, isBusy, isGone, isInPipeline, type UploadState } from '../contracts/upload-states';

export type UploadEvent =
  /** A part (or a streamed part) was recorded. */
  | { type: 'partConfirmed' }
  /** Every part is in and the size is known: assemble. */
  | { type: 'completeRequested' }
  /** R2 assembled the object, and it has the declared size. */
  | { type: 'assembled' }
  /** Assembly gave up after its last attempt. */
  | { type: 'assemblyFailed'; reason: string }
  | { type: 'processingStarted' }
  | { type: 'processed' }
  /** The bytes were refused (type, malware, size mismatch, corrupt image…). */
  | { type: 'rejected'; reason: string }
  /** The pipeline gave up (dead letter, watchdog), or the bytes could not be fetched (URL import). */
  | { type: 'failed'; reason: string }
  /** The client deleted the upload (any state). */
  | { type: 'cancelled' }
  /** The upload's expiry passed. */
  | { type: 'deadlinePassed' };

export type UploadEventType = UploadEvent['type'];

export const UPLOAD_EVENT_TYPES: readonly UploadEventType[] = [
  'partConfirmed',
  'completeRequested',
  'assembled',
  'assemblyFailed',
  'processingStarted',
  'processed',
  'rejected',
  'failed',
  'cancelled',
  'deadlinePassed',
];

/** What the app is told about (webhooks). */
export type LifecycleNotice = 'upload.ready' | 'upload.rejected' | 'upload.failed' | 'upload.expired' | 'upload.deleted';

export type Effect =
  /** Tell subscribers the new state (with reason and result). */
  | { type: 'broadcastState' }
  /** Run assembly from the alarm, now. */
  | { type: 'scheduleAssembly' }
  /** Hand the assembled object to the processing queue (with the watchdog alarm). */
  | { type: 'enqueueProcessing' }
  /** Wake at the upload's expiry (a finished tus partial upload waits to be concatenated). */
  | { type: 'scheduleExpiry' }
  /** Drop every claim on parts and streams: later writes are refused. */
  | { type: 'dropClaims' }
  /** An expired upload keeps a tombstone without its parts. */
  | { type: 'forgetParts' }
  /**
   * Remove everything the upload stored (multipart upload, original, staging, derivatives nothing
   * else references) and give its quota back; `later` hands it to the cleanup queue. Idempotent;
   * once done, the cron sweep stops watching the upload.
   */
  | { type: 'cleanUp'; later?: boolean }
  /** The upload no longer needs the cron sweep's attention. */
  | { type: 'unwatch' }
  | { type: 'notify'; notice: LifecycleNotice };

export type Decision =
  | { kind: 'move'; to: UploadState; reason: string | null; effects: Effect[] }
  | { kind: 'stay'; effects: Effect[] }
  | { kind: 'refuse'; code: 'ERR_UPLOAD_STATE' | 'ERR_UPLOAD_GONE'; message: string };

export interface MachineUpload {
  state: UploadState;
  /** A tus partial upload: assembled, never processed or served; concatenated or expired. */
  partial: boolean;
}

const stay = (...effects: Effect[]): Decision => ({ kind: 'stay', effects });
const move = (to: UploadState, reason: string | null, ...effects: Effect[]): Decision => ({ kind: 'move', to, reason, effects });
const refuse = (upload: MachineUpload, what: string): Decision =>
  isGone(upload.state)
    ? { kind: 'refuse', code: 'ERR_UPLOAD_GONE', message: `The upload was ${upload.state}.` }
    : { kind: 'refuse', code: 'ERR_UPLOAD_STATE', message: `The upload is ${upload.state} and ${what}.` };

/** Ending without a servable file: always clean up, always tell the app. */
const end = (to: UploadState, reason: string | null, notice: LifecycleNotice, { later = false, extra = [] as Effect[] } = {}): Decision =>
  move(to, reason, { type: 'dropClaims' }, ...extra, { type: 'broadcastState' }, { type: 'cleanUp', later }, { type: 'notify', notice });

export function decide(upload: MachineUpload, event: UploadEvent): Decision {
  const { state } = upload;
  switch (event.type) {
    case 'partConfirmed':
      if (state === 'created') return move('uploading', null, { type: 'broadcastState' });
      if (state === 'uploading') return stay();
      return refuse(upload, 'accepts no parts');

    case 'completeRequested':
      if (isAccepting(state)) return move('assembling', null, { type: 'broadcastState' }, { type: 'scheduleAssembly' });
      if (isBusy(state) || state === 'ready') return stay(); // idempotent: already on its way
      return refuse(upload, 'cannot be completed');

    case 'assembled':
      if (state === 'assembling') {
        return upload.partial
          ? move('ready', null, { type: 'broadcastState' }, { type: 'scheduleExpiry' })
          : move('validating', null, { type: 'broadcastState' }, { type: 'enqueueProcessing' });
      }
      // Cancelled while R2 assembled: the object that just appeared must go too.
      if (state === 'aborted') return stay({ type: 'cleanUp' });
      return stay();

    case 'assemblyFailed':
      if (state === 'assembling') return end('failed', event.reason, 'upload.failed');
      return stay();

    case 'processingStarted':
      if (state === 'validating') return move('processing', null, { type: 'broadcastState' });
      return stay();

    case 'processed':
      if (isInPipeline(state)) return move('ready', null, { type: 'broadcastState' }, { type: 'unwatch' }, { type: 'notify', notice: 'upload.ready' });
      // A pipeline run finished for an upload cancelled meanwhile: what it wrote must go.
      if (state === 'aborted') return stay({ type: 'cleanUp' });
      return stay();

    case 'rejected':
    case 'failed': {
      const to = event.type;
      if (isBusy(state)) return end(to, event.reason, to === 'rejected' ? 'upload.rejected' : 'upload.failed');
      // Bytes that cannot arrive (a URL import whose source failed) fail the upload while it takes parts.
      if (to === 'failed' && isAccepting(state)) return end('failed', event.reason, 'upload.failed');
      if (state === 'aborted') return stay({ type: 'cleanUp' });
      return stay();
    }

    case 'cancelled':
      // Cancelling always succeeds (tus: "the Server MUST … respond with 204"): in every state.
      if (isGone(state)) return stay();
      return end('aborted', 'Deleted by the client.', 'upload.deleted');

    case 'deadlinePassed':
      if (isAccepting(state) || (state === 'ready' && upload.partial)) {
        // Expiry is not a user's request: the cleanup queue does the R2 work.
        return end('expired', 'The upload was not finished before it expired.', 'upload.expired', { later: true, extra: [{ type: 'forgetParts' }] });
      }
      return stay();
  }
}
