/**
 * Issue 17 item 2: does the runtime's memory stay flat across uploads, and how does our peak
 * compare with the ceiling Worker doing the same work? Each server (fresh) gets the same uploads
 * one after another; the runtime workerd's RSS is read before the first and after each one (once
 * it settles), and its peak during each. The ceiling's "same work" is what our pipeline does to
 * the bytes: one streaming put() of the file, then reading it back whole for a SHA-256 (our
 * processing pass), then delete. Ours is our client with default settings, to `ready`, then DELETE.
 */
import { openAsBlob } from 'node:fs';
import { memory, ProcessMeter } from '../lib/procs';
import type { BenchServer } from '../lib/servers';
import { MiB } from '../lib/stats';
import { expectOk } from './ceiling';
import { uploadOurs } from './ours';
import { usageOf } from './usage';

export interface FlatRun {
  /** Runtime workerd RSS just before this upload, MiB. */
  rssBeforeMiB: number;
  /** Its peak during the upload (and processing), MiB. */
  peakMiB: number;
  /** Its RSS once the upload is done and the server idle again, MiB. */
  rssAfterMiB: number;
}

const runtimeRss = (server: BenchServer) => {
  const runtime = server.groups.find((group) => group.name === 'workerd:runtime');
  if (!runtime) throw new Error(`${server.name}: no runtime workerd`);
  return runtime.pids().reduce((sum, pid) => sum + memory(pid).rss, 0) / MiB;
};

/** What memory settles to after work: the next reading once two in a row, 1 s apart, agree within 1 %. */
async function settledRss(server: BenchServer): Promise<number> {
  let last = runtimeRss(server);
  for (let i = 0; i < 10; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = runtimeRss(server);
    if (Math.abs(now - last) <= last * 0.01) return now;
    last = now;
  }
  return last;
}

/** The ceiling's equivalent of one of our uploads: put, read back and hash, delete. */
export async function ceilingSameWork(server: BenchServer, path: string, run: number): Promise<number> {
  const blob = await openAsBlob(path);
  const key = `flat-${run}`;
  const meter = new ProcessMeter(server.groups);
  meter.start();
  await expectOk(await fetch(`${server.url}/put?key=${key}`, { method: 'PUT', body: blob }), 'put');
  await expectOk(await fetch(`${server.url}/digest?key=${key}`, { method: 'POST' }), 'digest');
  const usage = usageOf(meter.stop(), blob.size, 'ceiling same work');
  await fetch(`${server.url}/obj?key=${key}`, { method: 'DELETE' });
  return usage.groups['workerd:runtime']!.peakRss / MiB;
}

export async function oursDefault(server: BenchServer, path: string): Promise<number> {
  const run = await uploadOurs(server, path);
  return run.usage.groups['workerd:runtime']!.peakRss / MiB;
}

/** One upload measured for the flat-memory table: RSS before, peak, RSS after (settled). */
export async function flatRun(server: BenchServer, work: () => Promise<number>): Promise<FlatRun> {
  const rssBeforeMiB = await settledRss(server);
  const peakMiB = await work();
  return { rssBeforeMiB, peakMiB, rssAfterMiB: await settledRss(server) };
}
