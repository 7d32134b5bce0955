/**
 * @module How many of an Uploader's uploads are open on the server at once. The server counts an
 * owner's unfinished uploads against a quota (`maxActiveUploads` in /api/config); a page that
 * drops 200 photos would otherwise have half of them refused. The rest wait their turn, in the
 * order they were added. Pure: no DOM, no network.
 */

/** Gives a slot back; calling it again does nothing. */
export type Release = () => void;

export class UploadSlots {
  private open = 0;
  private readonly waiting: (() => void)[] = [];

  /** `limit` is read at every decision, so it may follow the server's config once known. */
  constructor(private readonly limit: () => number) {}

  /** A slot now, if one is free (no waiting: the caller keeps its place in no queue). */
  tryAcquire(): Release | undefined {
    if (this.waiting.length > 0 || this.open >= this.limit()) return undefined;
    this.open += 1;
    return this.releaser();
  }

  /** Resolves with a slot when one is free; first come, first served. */
  acquire(): Promise<Release> {
    const now = this.tryAcquire();
    if (now) return Promise.resolve(now);
    return new Promise<Release>((resolve) => {
      this.waiting.push(() => {
        this.open += 1;
        resolve(this.releaser());
      });
    });
  }

  /** Uploads open now, and uploads waiting for a slot. */
  get counts(): { open: number; waiting: number } {
    return { open: this.open, waiting: this.waiting.length };
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open -= 1;
      this.wake();
    };
  }

  private wake(): void {
    while (this.waiting.length > 0 && this.open < this.limit()) this.waiting.shift()!();
  }
}
