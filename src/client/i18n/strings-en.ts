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
  'reason.offline': 'Offline: the upload continues when the network is back.',
  'reason.connection': 'Connection problems: retrying shortly.',
  'reason.fileChanged': '“{name}” changed or is no longer readable; select it again to continue.',
  'reason.cancelled': 'Cancelled',
  'reason.serverRejected': 'The server rejected the file.',
  'reason.serverEnded': 'The upload ended on the server ({state}).',
  'reason.ERR_TYPE_MISMATCH': 'The file’s content does not match its type.',
  'reason.ERR_MALWARE_FOUND': 'The file was flagged by the virus scanner.',
} as const;

export type StringKey = keyof typeof en;
export type Strings = Record<StringKey, string>;
