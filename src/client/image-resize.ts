/**
 * @module `resizeImages`: a lighter copy of a photo before upload, made in a worker when the
 * worker script can be loaded (it is served next to the client bundle), else on the main thread.
 * The original is kept when the copy would not be smaller or the image cannot be decoded here;
 * the server validates whatever arrives either way.
 */
import { canDownscale, downscale, RESIZABLE_TYPES, type ResizeOptions } from './image-downscale';

export type { ResizeOptions };

const EXTENSIONS: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp' };

/** Where the worker script is; next to this bundle by default. Set before the first resize to move it. */
export const resizeWorkerSettings: { url: string | URL | undefined } = { url: undefined };

let worker: Worker | undefined;
let workerBroken = false;
let nextId = 1;
const waiting = new Map<number, (blob: Blob | null | undefined) => void>();

function workerUrl(): URL | undefined {
  try {
    return new URL(resizeWorkerSettings.url ?? './resize-worker.js', import.meta.url);
  } catch {
    return undefined;
  }
}

function startWorker(): Worker | undefined {
  if (worker || workerBroken) return worker;
  const url = workerUrl();
  if (typeof Worker !== 'function' || !url) return undefined;
  try {
    worker = new Worker(url, { type: 'module' });
  } catch {
    workerBroken = true;
    return undefined;
  }
  worker.addEventListener('message', (event: MessageEvent<{ id: number; blob: Blob | null }>) => {
    waiting.get(event.data.id)?.(event.data.blob);
    waiting.delete(event.data.id);
  });
  // A worker that cannot load (missing file, CSP) answers nothing: everyone falls back.
  worker.addEventListener('error', () => {
    workerBroken = true;
    worker?.terminate();
    worker = undefined;
    for (const resolve of waiting.values()) resolve(undefined);
    waiting.clear();
  });
  return worker;
}

/** undefined when the worker is not available (then the main thread does it). */
function inWorker(blob: Blob, options: ResizeOptions): Promise<Blob | null | undefined> {
  const w = startWorker();
  if (!w) return Promise.resolve(undefined);
  const id = nextId++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    w.postMessage({ id, blob, options });
  });
}

export async function resizeImage(file: File, options: ResizeOptions): Promise<File> {
  if (!RESIZABLE_TYPES.includes(file.type) || !canDownscale()) return file;
  let blob = await inWorker(file, options);
  if (blob === undefined) blob = await downscale(file, options);
  if (!blob || blob.size >= file.size) return file;
  const extension = EXTENSIONS[blob.type] ?? 'jpg';
  const name = blob.type === file.type ? file.name : `${file.name.replace(/\.[^.]+$/, '')}.${extension}`;
  return new File([blob], name, { type: blob.type, lastModified: file.lastModified });
}
