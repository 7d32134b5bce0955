/**
 * The upload state machine, table-driven: every (state, event) pair has a defined outcome, and the
 * invariants of the security review hold as rules of the machine.
 */
import { describe, expect, it } from 'vitest';
import { decide, UPLOAD_EVENT_TYPES, type Decision, type UploadEvent, type UploadEventType } from '../../src/domain/upload-machine';
import { UNSTORED_STATES, UPLOAD_STATES, type UploadState } from '../../src/contracts/upload-states';

const eventOf = (type: UploadEventType): UploadEvent =>
  type === 'assemblyFailed' || type === 'rejected' || type === 'failed' ? { type, reason: `ERR_TEST: ${type}` } : ({ type } as UploadEvent);

/** Compact outcome: the state moved to, '=' for stay, or the refusal code. */
function outcome(d: Decision): string {
  if (d.kind === 'move') return d.to;
  if (d.kind === 'stay') return d.effects.some((e) => e.type === 'cleanUp') ? '=clean' : '=';
  return d.code;
}

// Rows: states; columns in UPLOAD_EVENT_TYPES order:
// partConfirmed, completeRequested, assembled, assemblyFailed, processingStarted, processed, rejected, failed, cancelled, deadlinePassed
const TABLE: Record<UploadState, string[]> = {
  created:    ['uploading',      'assembling',     '=',          '=',      '=',          '=',      '=',        'failed', 'aborted', 'expired'],
  uploading:  ['=',              'assembling',     '=',          '=',      '=',          '=',      '=',        'failed', 'aborted', 'expired'],
  assembling: ['ERR_UPLOAD_STATE', '=',            'validating', 'failed', '=',          '=',      'rejected', 'failed', 'aborted', '='],
  validating: ['ERR_UPLOAD_STATE', '=',            '=',          '=',      'processing', 'ready',  'rejected', 'failed', 'aborted', '='],
  processing: ['ERR_UPLOAD_STATE', '=',            '=',          '=',      '=',          'ready',  'rejected', 'failed', 'aborted', '='],
  ready:      ['ERR_UPLOAD_STATE', '=',            '=',          '=',      '=',          '=',      '=',        '=',      'aborted', '='],
  aborted:    ['ERR_UPLOAD_GONE', 'ERR_UPLOAD_GONE', '=clean',   '=',      '=',          '=clean', '=clean',   '=clean', '=',       '='],
  expired:    ['ERR_UPLOAD_GONE', 'ERR_UPLOAD_GONE', '=',        '=',      '=',          '=',      '=',        '=',      '=',       '='],
  rejected:   ['ERR_UPLOAD_STATE', 'ERR_UPLOAD_STATE', '=',      '=',      '=',          '=',      '=',        '=',      'aborted', '='],
  failed:     ['ERR_UPLOAD_STATE', 'ERR_UPLOAD_STATE', '=',      '=',      '=',          '=',      '=',        '=',      'aborted', '='],
};

describe('upload state machine', () => {
  it('the table covers every state and every event', () => {
    expect(Object.keys(TABLE).sort()).toEqual([...UPLOAD_STATES].sort());
    for (const row of Object.values(TABLE)) expect(row).toHaveLength(UPLOAD_EVENT_TYPES.length);
  });

  for (const state of UPLOAD_STATES) {
    it(`from ${state}`, () => {
      const got = UPLOAD_EVENT_TYPES.map((type) => outcome(decide({ state, partial: false }, eventOf(type))));
      expect(got).toEqual(TABLE[state]);
    });
  }

  it('a finished tus partial upload is ready without processing, and expires unless concatenated', () => {
    expect(outcome(decide({ state: 'assembling', partial: true }, { type: 'assembled' }))).toBe('ready');
    expect(outcome(decide({ state: 'ready', partial: true }, { type: 'deadlinePassed' }))).toBe('expired');
    expect(outcome(decide({ state: 'ready', partial: false }, { type: 'deadlinePassed' }))).toBe('=');
  });

  it('every way into a state without a servable file cleans up, tells the app and drops claims', () => {
    for (const state of UPLOAD_STATES) {
      for (const partial of [false, true]) {
        for (const type of UPLOAD_EVENT_TYPES) {
          const d = decide({ state, partial }, eventOf(type));
          if (d.kind !== 'move' || !UNSTORED_STATES.includes(d.to)) continue;
          const effects = d.effects.map((e) => e.type);
          expect(effects, `${state} --${type}--> ${d.to}`).toEqual(expect.arrayContaining(['cleanUp', 'notify', 'dropClaims', 'broadcastState']));
          expect(d.reason, `${state} --${type}--> ${d.to}`).toBeTruthy();
        }
      }
    }
  });

  it('cancellation is accepted in every state (idempotent once gone)', () => {
    for (const state of UPLOAD_STATES) {
      expect(decide({ state, partial: false }, { type: 'cancelled' }).kind).not.toBe('refuse');
    }
  });

  it('only the pipeline makes an upload ready, and it is told', () => {
    for (const state of UPLOAD_STATES) {
      for (const type of UPLOAD_EVENT_TYPES) {
        const d = decide({ state, partial: false }, eventOf(type));
        if (d.kind === 'move' && d.to === 'ready') {
          expect(type).toBe('processed');
          expect(d.effects).toContainEqual({ type: 'notify', notice: 'upload.ready' });
        }
      }
    }
  });

  it('every move is broadcast to subscribers', () => {
    for (const state of UPLOAD_STATES) {
      for (const partial of [false, true]) {
        for (const type of UPLOAD_EVENT_TYPES) {
          const d = decide({ state, partial }, eventOf(type));
          if (d.kind === 'move') expect(d.effects.map((e) => e.type)).toContain('broadcastState');
        }
      }
    }
  });
});
