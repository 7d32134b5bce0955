/** @module A scanner that streams an object to a clamd daemon over TCP (`cloudflare:sockets`) with the INSTREAM command. */
import { connect } from 'cloudflare:sockets';
import { checkLength, ScannerUnavailableError, type ScanInfo, type ScanSession, type Scanner, type ScanVerdict } from './scanner';

export type ClamdOptions = {
  host: string;
  port: number;
  /** Longest wait for any one step (connecting, one chunk accepted, the answer): a stall, not the whole scan. */
  timeoutMs?: number;
  /**
   * INSTREAM chunk size: stream chunks are gathered into frames of this many bytes, each sent
   * with its length prefix in one socket write (the last one shorter).
   */
  chunkSize?: number;
};

export const DEFAULT_TIMEOUT_MS = 30_000;
/**
 * Each socket write costs the isolate far more than copying its bytes: relaying R2's 64 KiB
 * chunks as they came (prefix and piece, two writes each) cost ~50 CPU-s per GiB in workerd;
 * 1 MiB frames cut the writes 32-fold (`npm run bench:processing`, clamd-relay).
 */
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;
/**
 * Bytes of the previous slice sent again before each later slice: a body signature up to this
 * long that straddles two slices is seen whole by one INSTREAM. ClamAV's byte signatures are far
 * shorter; 1 MiB costs 0.2 % more relaying at 512 MiB slices.
 */
export const CLAMD_OVERLAP = 1024 * 1024;
/** clamd's replies are one short line; anything longer is not clamd. */
const MAX_REPLY_BYTES = 4096;

/** `z` selects NUL-terminated commands and replies. */
const INSTREAM = new TextEncoder().encode('zINSTREAM\0');
/** A zero-length chunk ends the stream. */
const END_OF_STREAM = new Uint8Array(4);


const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Reads clamd's one reply: up to the NUL terminator, or to the end of the connection. */
async function readReply(readable: ReadableStream<Uint8Array>): Promise<string> {
  const reader = readable.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let length = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const nul = value.indexOf(0);
      const part = nul === -1 ? value : value.subarray(0, nul);
      length += part.length;
      if (length > MAX_REPLY_BYTES) throw new Error('the answer is too long to be from clamd');
      text += decoder.decode(part, { stream: true });
      if (nul !== -1) break;
    }
  } finally {
    reader.releaseLock();
  }
  return (text + decoder.decode()).trim();
}

/**
 * Scans with clamd's INSTREAM: `zINSTREAM\0`, then chunks each prefixed by a 4-byte big-endian
 * length, then a zero length; clamd answers `stream: OK` or `stream: <NAME> FOUND`. Anything
 * else (an ERROR such as `INSTREAM size limit exceeded`, a refused connection, a stall) throws
 * ScannerUnavailableError. Bytes are relayed with backpressure as they are pushed, never buffered.
 *
 * One INSTREAM per scan: the pipeline opens one per processing slice (the slice plus the
 * `overlap` before it), so no invocation relays more than a slice, whatever the file's size.
 * clamd refuses streams over its StreamMaxLength (at most 4 GB): set it to at least
 * PROCESSING_SLICE_BYTES + CLAMD_OVERLAP, and MaxFileSize/MaxScanSize likewise.
 */
export class ClamdScanner implements Scanner {
  readonly name = 'clamd';
  readonly overlap = CLAMD_OVERLAP;
  private readonly host: string;
  private readonly port: number;
  private readonly timeoutMs: number;
  private readonly chunkSize: number;

  constructor(options: ClamdOptions) {
    const { host, port, timeoutMs = DEFAULT_TIMEOUT_MS, chunkSize = DEFAULT_CHUNK_SIZE } = options;
    if (!host) throw new RangeError('clamd host is required');
    if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new RangeError(`bad clamd port ${port}`);
    if (!(timeoutMs > 0)) throw new RangeError(`bad clamd timeout ${timeoutMs}`);
    if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > 64 * 1024 * 1024) throw new RangeError(`bad chunk size ${chunkSize}`);
    this.host = host;
    this.port = port;
    this.timeoutMs = timeoutMs;
    this.chunkSize = chunkSize;
  }

  /** Waits for one step, failing as unavailable after timeoutMs; a fresh timer per step, so none leaks. */
  private async within<T>(step: string, promise: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ScannerUnavailableError(this.name, `timed out after ${this.timeoutMs} ms (${step})`)),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private verdict(reply: string): ScanVerdict {
    if (reply === 'stream: OK') return { clean: true, scanner: this.name };
    const found = /^stream: (.+) FOUND$/.exec(reply);
    if (found) return { clean: false, scanner: this.name, signature: found[1]! };
    throw new ScannerUnavailableError(this.name, reply ? `clamd answered "${reply}"` : 'clamd closed the connection without an answer');
  }

  async open(info: ScanInfo): Promise<ScanSession> {
    let socket: Socket;
    try {
      socket = connect({ hostname: this.host, port: this.port });
    } catch (error) {
      throw new ScannerUnavailableError(this.name, `cannot connect to ${this.host}:${this.port}: ${errorText(error)}`, { cause: error });
    }
    // Settled promises nobody else awaits must not surface as unhandled rejections.
    socket.closed.catch(() => {});
    // Read the answer from the start: clamd answers early (and hangs up) when it refuses a stream.
    let answered = false;
    const reply = readReply(socket.readable as ReadableStream<Uint8Array>);
    reply.then(() => (answered = true), () => (answered = true));
    const writer = socket.writable.getWriter();
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await this.within('close', socket.close()).catch(() => {});
    };
    let step = `connect to ${this.host}:${this.port}`;
    /** Runs one step; a failure closes the connection and says why, in clamd's words when it gave any. */
    const run = async <T>(work: () => Promise<T>): Promise<T> => {
      try {
        return await work();
      } catch (error) {
        await close();
        if (error instanceof ScannerUnavailableError) throw error;
        // The socket failed, so the answer settles soon: if clamd said why before hanging up
        // (e.g. the size limit), that is the better message.
        const said = await this.within('answer', reply).catch(() => '');
        throw new ScannerUnavailableError(this.name, said ? `clamd answered "${said}"` : `${step} failed: ${errorText(error)}`, { cause: error });
      }
    };
    const refusedEarly = async () => {
      const said = await reply.catch(() => '');
      return new ScannerUnavailableError(
        this.name,
        said ? `clamd answered "${said}" before the end of the stream` : 'clamd hung up before the end of the stream',
      );
    };

    await run(async () => {
      await this.within(step, socket.opened);
      step = 'send';
      await this.within(step, writer.write(INSTREAM));
    });
    let sent = 0;
    // The frame being filled: a 4-byte big-endian length, then up to chunkSize bytes.
    let frame = new Uint8Array(4 + this.chunkSize);
    let filled = 0;
    const flush = async () => {
      if (filled === 0) return;
      if (answered) throw await refusedEarly();
      new DataView(frame.buffer).setUint32(0, filled, false);
      const out = frame.subarray(0, 4 + filled);
      frame = new Uint8Array(4 + this.chunkSize); // the written one may still be queued
      filled = 0;
      await this.within(step, writer.write(out));
    };
    return {
      push: (chunk) =>
        run(async () => {
          for (let offset = 0; offset < chunk.length; ) {
            const take = Math.min(chunk.length - offset, this.chunkSize - filled);
            frame.set(chunk.subarray(offset, offset + take), 4 + filled);
            filled += take;
            offset += take;
            if (filled === this.chunkSize) await flush();
          }
          sent += chunk.length;
          return null;
        }),
      finish: () =>
        run(async () => {
          checkLength(this.name, sent, info.size);
          await flush();
          if (answered) throw await refusedEarly();
          await this.within(step, writer.write(END_OF_STREAM));
          step = 'answer';
          const verdict = this.verdict(await this.within(step, reply));
          await close();
          return verdict;
        }),
      abort: () => void close(),
    };
  }
}
