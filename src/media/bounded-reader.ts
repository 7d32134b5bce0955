/**
 * @module Ranged reads of a stored file under a budget: container parsers read through this, so a
 * file that lies about its sizes costs at most `maxReads` requests and `maxBytes` bytes. Pure (no
 * runtime imports): storage hands in a `RangeSource`, tests hand in an array or a file.
 */

/** Where the bytes come from: up to `length` bytes at `offset` (fewer only at the end). */
export interface RangeSource {
  readRange(offset: number, length: number): Promise<Uint8Array>;
}

export interface ReadBudget {
  /** Requests to the source, at most. */
  maxReads: number;
  /** Bytes fetched from the source, at most. */
  maxBytes: number;
  /** A miss fetches at least this many bytes, so neighbouring small reads share one request. */
  windowBytes: number;
}

export const DEFAULT_READ_BUDGET: ReadBudget = { maxReads: 48, maxBytes: 8 * 1024 * 1024, windowBytes: 64 * 1024 };

/** The budget ran out before the parser was done: the file is kept, its metadata is not read. */
export class ReadBudgetExceeded extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReadBudgetExceeded';
  }
}

/** Fetched windows kept for reuse; small, since parsers mostly move forward. */
const CACHED_WINDOWS = 4;

export class BoundedReader {
  reads = 0;
  bytesRead = 0;
  private windows: { offset: number; bytes: Uint8Array }[] = [];

  constructor(
    private readonly source: RangeSource,
    /** The whole file's length: nothing is read past it. */
    readonly size: number,
    private readonly budget: ReadBudget = DEFAULT_READ_BUDGET,
  ) {}

  /** Exactly the bytes in [offset, offset + length), clipped at the end of the file. */
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new RangeError(`bad range ${offset}+${length}`);
    }
    const end = Math.min(offset + length, this.size);
    if (offset >= end) return new Uint8Array(0);
    const hit = this.windows.find((w) => w.offset <= offset && end <= w.offset + w.bytes.length);
    if (hit) return hit.bytes.subarray(offset - hit.offset, end - hit.offset);

    const fetchLength = Math.min(Math.max(end - offset, this.budget.windowBytes), this.size - offset);
    if (this.reads + 1 > this.budget.maxReads) {
      throw new ReadBudgetExceeded(`more than ${this.budget.maxReads} reads would be needed`);
    }
    if (this.bytesRead + fetchLength > this.budget.maxBytes) {
      throw new ReadBudgetExceeded(`more than ${this.budget.maxBytes} bytes would have to be read`);
    }
    this.reads++;
    this.bytesRead += fetchLength;
    const bytes = await this.source.readRange(offset, fetchLength);
    this.windows.unshift({ offset, bytes });
    this.windows.length = Math.min(this.windows.length, CACHED_WINDOWS);
    // A source that returns less than asked means the file is shorter than its stated size.
    return bytes.subarray(0, Math.min(end - offset, bytes.length));
  }
}

/** A source over bytes in memory (tests, small files). */
export function bytesSource(bytes: Uint8Array): RangeSource {
  return { readRange: async (offset, length) => bytes.subarray(offset, offset + length) };
}
