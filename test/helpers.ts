/** Helpers for the workerd tests: talk to the Worker exactly as an HTTP client would. */
import { env, exports } from 'cloudflare:workers';
import { expect } from 'vitest';
import { app } from '../src/api/app';
import type { Env } from '../src/env';
import type { Manifest, UploadState } from '../src/contracts/messages';
import { until } from './poll';
import { seededBytes } from './seeded-bytes';

export const MiB = 1024 * 1024;
export const ORIGIN = 'http://uploads.test';

export function api(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(new URL(path, ORIGIN), init));
}

/** Deterministic bytes that start like a PDF, so validation accepts them as application/pdf. */
export function pdfBytes(size: number, seed = 1): Uint8Array {
  const bytes = seededBytes(size, seed);
  bytes.set(new TextEncoder().encode('%PDF-1.7\n').subarray(0, size));
  return bytes;
}

export async function sha256Hex(bytes: Uint8Array | ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function sha256Base64(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return btoa(String.fromCharCode(...digest));
}

export interface CreatedUpload {
  id: string;
  key: string;
  state: UploadState;
  partSize: number;
  partCount: number;
  expiresAt: string;
  uploadToken: string;
  urls: { self: string; parts: string; events: string };
}

export async function createUpload(body: Record<string, unknown>): Promise<CreatedUpload> {
  const res = await api('/api/uploads', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json();
}

export function partOf(bytes: Uint8Array, upload: { partSize: number }, n: number): Uint8Array {
  return bytes.subarray((n - 1) * upload.partSize, Math.min(n * upload.partSize, bytes.length));
}

export function putPart(upload: CreatedUpload, n: number, body: Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
  return api(`/api/uploads/${upload.id}/parts/${n}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${upload.uploadToken}`, 'content-length': String(body.length), ...headers },
    body,
  });
}

export async function getManifest(upload: CreatedUpload): Promise<Manifest> {
  const res = await api(`/api/uploads/${upload.id}`, { headers: { authorization: `Bearer ${upload.uploadToken}` } });
  expect(res.status).toBe(200);
  return res.json();
}

/** Polls the manifest until the upload reaches one of `states` (alarms and queues run for real). */
export async function waitForState(upload: CreatedUpload, states: UploadState[], timeoutMs = 20_000): Promise<Manifest> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const manifest = await getManifest(upload);
    if (states.includes(manifest.state)) return manifest;
    if (Date.now() > deadline) throw new Error(`upload stayed ${manifest.state}, wanted ${states.join('|')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function expectError(res: Response, status: number, code: string): Promise<{ code: string; message: string; details?: Record<string, unknown> }> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  const body = JSON.parse(text) as { error: { code: string; message: string; details?: Record<string, unknown> } };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error;
}

/** The same Worker under other variables, as another deployment would run it (same Durable Objects). */
export function deployment(overrides: Partial<Env>) {
  const configured = { ...env, ...overrides } as Env;
  return (path: string, init?: RequestInit) =>
    app.fetch(new Request(new URL(path, ORIGIN), init), configured, {
      waitUntil() {},
      passThroughOnException() {},
      props: {},
    } as unknown as ExecutionContext);
}

type Fetcher = (path: string, init?: RequestInit) => Response | Promise<Response>;

/** Creates a one-part PDF upload through `fetcher` (with e.g. a creator JWT in `headers`), sends it, and waits until it is ready. */
export async function readyPdf(
  fetcher: Fetcher,
  bytes: Uint8Array,
  options: { headers?: Record<string, string>; body?: Record<string, unknown> } = {},
): Promise<{ id: string; uploadToken: string }> {
  const created = await fetcher('/api/uploads', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: JSON.stringify({ name: 'file.pdf', size: bytes.length, type: 'application/pdf', ...options.body }),
  });
  expect(created.status, await created.clone().text()).toBe(201);
  const { id, uploadToken } = await created.json<{ id: string; uploadToken: string }>();
  const put = await fetcher(`/api/uploads/${id}/parts/1`, { method: 'PUT', headers: { authorization: `Bearer ${uploadToken}`, 'content-length': String(bytes.length) }, body: bytes });
  expect(put.status).toBe(200);
  await until('ready', async () => {
    const res = await fetcher(`/api/uploads/${id}`, { headers: { authorization: `Bearer ${uploadToken}` } });
    return (await res.json<{ state: string }>()).state === 'ready' ? true : undefined;
  });
  return { id, uploadToken };
}
