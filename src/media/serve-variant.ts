/**
 * @module What `GET /media/:id/:variant` serves: the session's stored derivative, or — for a
 * variant the configuration gained after this upload was processed — one made now from the
 * original under the same memory guard and kept for the next request. Then the format the
 * request's `Accept` takes.
 */
import { loadConfig } from '../config';
import { AppError, unwrap, type Result } from '../domain/errors';
import type { MediaInfo } from '../durable/upload-session';
import { sessionStub } from '../durable/session-stub';
import type { Env } from '../env';
import { makeMissingVariant } from '../pipeline/make-derivatives';
import { derivativeKey } from '../storage/object-keys';
import { R2Store } from '../storage/r2-store';
import { chooseFormat } from './negotiate-format';

export async function variantToServe(env: Env, uploadId: string, variant: string, accept: string | undefined): Promise<MediaInfo> {
  const session = sessionStub(env, uploadId);
  // Typed as the plain Result (the stub's RPC type does not narrow on `ok`).
  const stored = (await session.media(variant)) as unknown as Result<MediaInfo>;
  if (stored.ok) return chooseFormat(stored.value, accept);

  const spec = loadConfig(env).variants.find((v) => v.variant === variant);
  if (stored.error.code !== 'ERR_NOT_FOUND' || !spec) return unwrap(stored);
  const original = unwrap(await session.media());
  const result = unwrap(await session.manifest()).result;
  // Only images that got derivatives at processing time: one skipped then (too large, undecodable) stays skipped.
  if (!result?.sha256 || !result.detectedType?.startsWith('image/') || !result.derivatives?.length) return unwrap(stored);

  const made = await makeMissingVariant(
    {
      uploadId,
      originalKey: original.key,
      sha256: result.sha256,
      detectedType: result.detectedType,
      size: original.size,
      store: new R2Store(env.BUCKET),
      variants: [spec],
      images: env.IMAGES,
    },
    spec,
  );
  if ('reason' in made) throw new AppError('ERR_NOT_FOUND', `The "${variant}" derivative cannot be made: ${made.reason}`);
  const stem = original.name.replace(/\.[^.]*$/, '');
  const info: MediaInfo = {
    key: derivativeKey(original.key, result.sha256, variant),
    type: made.derivative.type,
    name: `${stem}-${variant}.jpg`,
    size: made.derivative.bytes,
    derivative: made.derivative,
    visibility: original.visibility,
  };
  return chooseFormat(info, accept);
}
