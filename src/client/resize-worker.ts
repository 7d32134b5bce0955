/** @module The worker that downscales photos off the main thread (built to public/client/resize-worker.js). */
import { downscale, type ResizeOptions } from './image-downscale';

interface Request {
  id: number;
  blob: Blob;
  options: ResizeOptions;
}

addEventListener('message', (event: MessageEvent<Request>) => {
  const { id, blob, options } = event.data;
  downscale(blob, options).then(
    (result) => postMessage({ id, blob: result }),
    (error: unknown) => postMessage({ id, blob: null, error: String(error) }),
  );
});
