import { describe, expect, it } from 'vitest';
import { UploadSlots } from '../../src/client/upload-slots';

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('UploadSlots: how many uploads an Uploader opens at once', () => {
  it('gives out at most `limit` slots; the rest wait and get theirs in the order they asked', async () => {
    const slots = new UploadSlots(() => 2);
    const a = slots.tryAcquire()!;
    const b = await slots.acquire();
    expect(slots.tryAcquire()).toBeUndefined();
    const order: string[] = [];
    const c = slots.acquire().then((release) => (order.push('c'), release));
    const d = slots.acquire().then((release) => (order.push('d'), release));
    await settle();
    expect(order).toEqual([]);
    expect(slots.counts).toEqual({ open: 2, waiting: 2 });
    a();
    await settle();
    expect(order).toEqual(['c']);
    b();
    await settle();
    expect(order).toEqual(['c', 'd']);
    expect(slots.counts).toEqual({ open: 2, waiting: 0 });
    (await c)();
    (await d)();
    expect(slots.counts).toEqual({ open: 0, waiting: 0 });
  });

  it('a release counts once, however often it is called', async () => {
    const slots = new UploadSlots(() => 1);
    const a = slots.tryAcquire()!;
    const waiting = slots.acquire();
    a();
    a();
    const b = await waiting;
    expect(slots.counts.open).toBe(1);
    expect(slots.tryAcquire()).toBeUndefined();
    b();
    expect(slots.counts.open).toBe(0);
  });

  it('nobody jumps the queue: tryAcquire refuses while others wait, even with a slot about to free', async () => {
    let limit = 1;
    const slots = new UploadSlots(() => limit);
    const a = slots.tryAcquire()!;
    const queued = slots.acquire();
    limit = 2; // the server's config arrived with a larger quota: the waiter goes first
    expect(slots.tryAcquire()).toBeUndefined();
    a();
    await queued;
    expect(slots.counts).toEqual({ open: 1, waiting: 0 });
  });
});
