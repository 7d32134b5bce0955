/**
 * @module The processing consumer: checks an assembled upload's magic bytes against its declared
 * type and reports the outcome to the session. Idempotent: the session ignores a second verdict,
 * so a re-delivered message is harmless. Failures retry with backoff, then go to the DLQ.
 */
import { matchesDeclaredType, SNIFF_BYTES, sniffType } from '../domain/sniff';
import { unwrap } from '../domain/errors';
import type { Env } from '../env';
import type { ProcessMessage } from '../protocol/messages';
import { sessionStub } from '../durable/session-stub';
import type { ProcessingOutcome } from '../durable/upload-session';
import { R2Store } from '../storage/r2-store';

async function verdict(message: ProcessMessage, store: R2Store): Promise<ProcessingOutcome> {
  const head = await store.readHead(message.key, SNIFF_BYTES);
  if (!head) return { ok: false, code: 'ERR_OBJECT_MISSING', message: 'The assembled file is missing from storage.' };
  const detected = sniffType(head);
  if (!matchesDeclaredType(message.declaredType, detected)) {
    return {
      ok: false,
      code: 'ERR_TYPE_MISMATCH',
      message: `The file was declared ${message.declaredType} but its content is ${detected ?? 'of an unknown type'}.`,
    };
  }
  return { ok: true, detectedType: detected };
}

export async function processUpload(message: ProcessMessage, env: Env): Promise<void> {
  const session = sessionStub(env, message.uploadId);
  const target = unwrap(await session.processingTarget());
  if (target.state !== 'validating' && target.state !== 'processing') return; // already decided
  const store = new R2Store(env.BUCKET);
  const outcome = await verdict(message, store);
  // Nothing rejected stays stored: delete before the verdict, so a retry finds the same end state.
  if (!outcome.ok) await store.delete(message.key);
  unwrap(await session.finishProcessing(outcome));
}
