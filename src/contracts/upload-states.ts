/**
 * @module The upload's states and their groups, defined once. Pure: imported by the state
 * machine, the session, the adapters, the consumers and the browser client alike.
 */

export const UPLOAD_STATES = [
  'created',
  'uploading',
  'assembling',
  'validating',
  'processing',
  'ready',
  'aborted',
  'expired',
  'rejected',
  'failed',
] as const;

export type UploadState = (typeof UPLOAD_STATES)[number];

type Group = readonly UploadState[];

/** Parts (and streamed bytes) are accepted. */
export const ACCEPTING_STATES: Group = ['created', 'uploading'];
/** Every part is in; the server is turning them into a checked file. */
export const BUSY_STATES: Group = ['assembling', 'validating', 'processing'];
/** The processing pipeline owns the upload (validation, scanning, derivatives). */
export const PIPELINE_STATES: Group = ['validating', 'processing'];
/** Nothing more happens to the upload (but a ready one may still be deleted). */
export const FINAL_STATES: Group = ['ready', 'aborted', 'expired', 'rejected', 'failed'];
/** Ended without a servable file: nothing it stored may remain. */
export const UNSTORED_STATES: Group = ['aborted', 'expired', 'rejected', 'failed'];
/** Later writes answer 410 Gone. */
export const GONE_STATES: Group = ['aborted', 'expired'];
/** The pipeline looked at the bytes and refused them, or gave up. */
export const REFUSED_STATES: Group = ['rejected', 'failed'];

export const isAccepting = (state: UploadState): boolean => ACCEPTING_STATES.includes(state);
export const isBusy = (state: UploadState): boolean => BUSY_STATES.includes(state);
export const isInPipeline = (state: UploadState): boolean => PIPELINE_STATES.includes(state);
export const isFinal = (state: UploadState): boolean => FINAL_STATES.includes(state);
export const isGone = (state: UploadState): boolean => GONE_STATES.includes(state);
export const isRefused = (state: UploadState): boolean => REFUSED_STATES.includes(state);
