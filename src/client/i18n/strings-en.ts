/**
 * @module The one table of every string a person sees (page, component, client messages), in
 * English: the reference every other language is checked against and falls back to.
 * Placeholders are `{name}`; the values are formatted by the translator (sizes, times with Intl).
 */
export const en = {
  'page.title': 'Upload files',
  'page.subtitle': 'Resumable, in parallel, straight to the edge. Close the tab and come back: it picks up where it stopped.',

  'zone.label': 'File upload',
  'zone.drop': 'Drop files here',
  'zone.or': 'or',
  'zone.choose': 'choose files',
  'zone.chooseOne': 'choose a file',
  'zone.paste': 'You can also paste images.',
  'zone.loading': 'Loading limits…',
  'zone.limits': '{types} · up to {size} each',
  'zone.unreachable': 'The upload service is not reachable right now.',

  'list.label': 'Uploads',
  'pending.title': 'Unfinished uploads',
  'pending.reselect': 'Select this file again to resume',

  'action.pause': 'Pause',
  'action.resume': 'Resume',
  'action.cancel': 'Cancel',
  'action.dismiss': 'Dismiss',
  'action.discard': 'Discard',
  'action.retry': 'Retry',
  /** Accessible name of a button on one file's card. */
  'action.label': '{action} {name}',

  'state.idle': 'Waiting',
  'state.validating': 'Checking',
  'state.uploading': 'Uploading',
  'state.paused': 'Paused',
  'state.processing': 'Processing',
  'state.ready': 'Ready',
  'state.failed': 'Failed',
  'state.rejected': 'Rejected',
  'state.cancelled': 'Cancelled',

  'progress.label': 'Upload progress of {name}',
  'progress.value': '{percent}, {confirmed} of {total}',
  'progress.speed': '{size}/s',
  'progress.left': '{duration} left',
  'progress.almostDone': 'less than a second left',
  'progress.processing': 'Checking and preparing the file…',

  'result.open': 'Open file',
  'result.derivative': '{variant} of {name} ({width}×{height})',
  'result.resized': 'Resized before upload: {original} → {size}',

  /** What the polite live region says when a file changes state (never on progress ticks). */
  'announce.state': '{name}: {state}.',
  'announce.stateReason': '{name}: {state}. {reason}',
  'announce.removed': '{name} removed from the list.',

  'reason.typeNotAllowed': '“{name}” is a {type} file; accepted are {kinds}.',
  'reason.typeUnknown': '“{name}” is of an unknown type; accepted are {kinds}.',
  'reason.empty': '“{name}” is empty.',
  'reason.tooLarge': '“{name}” is {size}; the limit is {limit}.',
  'reason.mismatch': '“{name}” says it is {type}, but its content looks like {sniffed}.',
  'reason.mismatchUnknown': '“{name}” says it is {type}, but its content does not match.',
  'reason.tooMany': 'Only one file at a time here; “{name}” was not added.',
  'reason.paused': 'Paused',
  'reason.queued': 'Waiting for other uploads to finish.',
  'reason.offline': 'Offline: the upload continues when the network is back.',
  'reason.connection': 'Connection problems: retrying shortly.',
  'reason.fileChanged': '“{name}” changed or is no longer readable; select it again to continue.',
  'reason.cancelled': 'Cancelled',
  'reason.serverRejected': 'The server rejected the file.',
  'reason.serverEnded': 'The upload ended on the server ({state}).',
  /** A request that got no answer at all (offline, DNS, CORS). */
  'reason.network': 'The upload service could not be reached. Check the connection and try again.',
  'reason.httpStatus': 'The upload service answered with an error (HTTP {status}).',
  'reason.unexpected': 'Something went wrong: {detail}',
  /** A server's error code in words; a code not listed here shows the server's own message. */
  'reason.ERR_TYPE_MISMATCH': 'The file’s content does not match its type.',
  'reason.ERR_MALWARE_FOUND': 'The file was flagged by the virus scanner.',
  'reason.ERR_UNAUTHORIZED': 'Sign in to upload files.',
  'reason.ERR_TOKEN_INVALID': 'Your permission to upload is not valid. Reload the page and try again.',
  'reason.ERR_TOKEN_EXPIRED': 'Your permission to upload has expired. Reload the page and try again.',
  'reason.ERR_TOKEN_SCOPE': 'Your permission does not cover this upload.',
  'reason.ERR_ORIGIN_NOT_ALLOWED': 'This site may not upload to this service.',
  'reason.ERR_QUOTA_STORAGE': 'Your storage is full.',
  'reason.ERR_QUOTA_ACTIVE_UPLOADS': 'Too many uploads at once. Try again when one has finished.',
  'reason.ERR_RATE_LIMITED': 'Too many requests. Try again in a moment.',
  'reason.ERR_FILE_TOO_LARGE': 'The file is larger than the service allows.',
  'reason.ERR_TYPE_NOT_ALLOWED': 'The service does not accept this type of file.',
  'reason.ERR_EMPTY_FILE': 'The file is empty.',
  'reason.ERR_UPLOAD_GONE': 'The upload expired on the server. Add the file again.',
  'reason.ERR_UPLOAD_NOT_FOUND': 'The server no longer knows this upload. Add the file again.',
  'reason.ERR_IMAGE_CORRUPT': 'The image is damaged and cannot be read.',
  'reason.ERR_IMAGE_TRUNCATED': 'The image is incomplete.',
  'reason.ERR_VIDEO_CORRUPT': 'The video is damaged and cannot be read.',
  'reason.ERR_VIDEO_TRUNCATED': 'The video is incomplete.',
  'reason.ERR_CHECKSUM_MISMATCH': 'The file arrived damaged. Try again.',
  'reason.ERR_SIZE_MISMATCH': 'The file arrived with a different size than announced. Try again.',
  'reason.ERR_ASSEMBLY_FAILED': 'The server could not put the file together. Try again.',
  'reason.ERR_PROCESSING_FAILED': 'The server could not process the file.',
  'reason.ERR_INTERNAL': 'The upload service had a problem. Try again later.',
  'reason.ERR_STORAGE': 'The storage behind the upload service had a problem. Try again later.',
} as const;

export type StringKey = keyof typeof en;
export type Strings = Record<StringKey, string>;
