/**
 * @module Video container metadata for the pipeline: picks the reader for the sniffed type (MP4 /
 * QuickTime or WebM / Matroska), runs it under a read budget, and turns its outcome into a verdict
 * — metadata, a rejection with a code, or "kept, metadata skipped" with the reason. Pure.
 */
import { canonicalType } from '../domain/sniff';
import type { MediaMetadata } from '../contracts/messages';
import { BoundedReader, DEFAULT_READ_BUDGET, ReadBudgetExceeded, type RangeSource, type ReadBudget } from './bounded-reader';
import { ContainerError, type ContainerErrorCode } from './container-error';
import { readIsoBmff } from './iso-bmff';
import { readMatroska } from './matroska';

export type ContainerVerdict =
  | { ok: true; media: MediaMetadata }
  | { ok: true; skipped: string }
  | { ok: false; code: ContainerErrorCode; message: string };

/** Sniffed types whose container we read. */
export const VIDEO_CONTAINERS = new Set(['video/mp4', 'video/quicktime', 'video/webm']);

/** Declared types each container family may be uploaded as. */
const DECLARABLE: Record<MediaMetadata['container'], string[]> = {
  mp4: ['video/mp4', 'video/quicktime'],
  quicktime: ['video/mp4', 'video/quicktime'],
  webm: ['video/webm', 'video/x-matroska'],
  matroska: ['video/x-matroska'],
};

export async function readVideoMetadata(
  source: RangeSource,
  size: number,
  sniffedType: string,
  declaredType: string,
  budget: ReadBudget = DEFAULT_READ_BUDGET,
): Promise<ContainerVerdict> {
  const reader = new BoundedReader(source, size, budget);
  try {
    const media = sniffedType === 'video/webm' ? await readMatroska(reader) : await readIsoBmff(reader);
    const declared = canonicalType(declaredType);
    if (!DECLARABLE[media.container].includes(declared)) {
      return {
        ok: false,
        code: 'ERR_TYPE_MISMATCH',
        message: `The file was declared ${declared} but its container is ${media.container === 'matroska' ? 'Matroska (not WebM)' : media.container}.`,
      };
    }
    return { ok: true, media };
  } catch (error) {
    if (error instanceof ContainerError) return { ok: false, code: error.code, message: `The video ${sentence(error.message)}` };
    if (error instanceof ReadBudgetExceeded) {
      return { ok: true, skipped: `Video metadata not read: ${error.message} (after ${reader.reads} reads, ${reader.bytesRead} bytes).` };
    }
    throw error; // storage failures: the job retries
  }
}

/** "the moov box …" → "is refused: the moov box …." */
const sentence = (reason: string) => `is refused: ${reason}${reason.endsWith('.') ? '' : '.'}`;
