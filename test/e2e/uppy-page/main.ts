/**
 * A page that uploads with stock @uppy/core + @uppy/aws-s3 in Companion mode against the Worker,
 * configured as the README's "Uppy (S3 multipart)" section advises. Bundled by esbuild in
 * test/e2e/uppy.test.ts; the test drives it through `window.harness`.
 */
import AwsS3 from '@uppy/aws-s3';
import Uppy from '@uppy/core';

const MiB = 1024 * 1024;
const query = new URLSearchParams(location.search);
const endpoint = query.get('endpoint')!;
/** Whole MiB, at least 5: R2 wants every part but the last of one size (and at least 5 MiB). */
const chunkMiB = Number(query.get('chunkMiB') ?? '8');

export interface HarnessEvent {
  type: 'success' | 'error' | 'progress';
  name: string;
  location?: string;
  key?: string;
  message?: string;
  bytesUploaded?: number;
}

const uppy = new Uppy({ autoProceed: false });
uppy.use(AwsS3, {
  companionEndpoint: endpoint,
  // One request (the POST form) for small files; resumable multipart above 25 MiB.
  shouldUseMultipart: (file) => (file.size ?? 0) > 25 * MiB,
  getChunkSize: (file) => Math.max(chunkMiB, Math.ceil(file.size / 10_000 / MiB)) * MiB,
});

const events: HarnessEvent[] = [];
uppy.on('upload-success', (file, response) => {
  const body = response.body as { location?: string; key?: string } | undefined;
  events.push({ type: 'success', name: file!.name!, location: response.uploadURL, key: body?.key });
});
uppy.on('upload-error', (file, error) => events.push({ type: 'error', name: file!.name!, message: error.message }));
uppy.on('upload-progress', (file, progress) => events.push({ type: 'progress', name: file!.name!, bytesUploaded: progress.bytesUploaded }));

const harness = {
  events,
  /** Fetches a fixture from this page's server and adds it to Uppy; returns Uppy's file id. */
  async add(url: string, name: string, type: string): Promise<string> {
    const blob = await (await fetch(url)).blob();
    return uppy.addFile({ name, type, data: new File([blob], name, { type }) });
  },
  upload(): void {
    void uppy.upload();
  },
  pauseResume(id: string): boolean | undefined {
    return uppy.pauseResume(id);
  },
  isPaused(id: string): boolean {
    return Boolean(uppy.getFile(id)?.isPaused);
  },
};

(window as unknown as { harness: typeof harness }).harness = harness;
document.body.dataset.ready = 'true';
