/**
 * @module Why a video container is refused: the parsers throw this, the pipeline turns it into a
 * `rejected` verdict with the code (and the budget's ReadBudgetExceeded into "metadata skipped").
 */

export type ContainerErrorCode = 'ERR_VIDEO_TRUNCATED' | 'ERR_VIDEO_CORRUPT' | 'ERR_TYPE_MISMATCH';

export class ContainerError extends Error {
  constructor(
    readonly code: ContainerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ContainerError';
  }
}

export const truncated = (message: string) => new ContainerError('ERR_VIDEO_TRUNCATED', message);
export const corrupt = (message: string) => new ContainerError('ERR_VIDEO_CORRUPT', message);
