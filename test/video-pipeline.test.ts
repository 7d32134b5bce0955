/** Real videos (made by ffmpeg in the global setup) through the whole pipeline: metadata in the ready result, or a rejection. */
import { describe, expect, inject, it } from 'vitest';
import { fromBase64 } from './fixtures/image-bytes';
import { createUpload, MiB, partOf, putPart, waitForState } from './helpers';

async function pipeline(name: string, type: string, bytes: Uint8Array) {
  const upload = await createUpload({ name, size: bytes.length, type, partSize: 5 * MiB });
  for (let n = 1; n <= upload.partCount; n++) expect((await putPart(upload, n, partOf(bytes, upload, n))).status).toBe(200);
  return waitForState(upload, ['ready', 'rejected', 'failed'], 30_000);
}

describe('video pipeline', () => {
  const videos = inject('videos');

  it.each([
    ['h264-aac-faststart.mp4', 'video/mp4', { container: 'mp4', codecs: [expect.stringMatching(/^avc1\.64/), 'mp4a.40.2'], streamable: true, createdAt: '2024-05-06T07:08:09.000Z' }],
    ['h264-aac.mov', 'video/quicktime', { container: 'quicktime', codecs: [expect.stringMatching(/^avc1\.64/), 'mp4a.40.2'], streamable: false }],
    ['vp9-opus.webm', 'video/webm', { container: 'webm', codecs: ['vp09.00.20.08', 'opus'], streamable: true }],
  ] as const)('%s ends ready with its metadata in result.media', async (name, type, expected) => {
    const video = videos[name]!;
    const manifest = await pipeline(name, type, fromBase64(video.base64));
    expect(manifest.state).toBe('ready');
    const media = manifest.result!.media!;
    expect(media).toMatchObject({ ...expected, width: video.width, height: video.height, rotation: 0, hasVideo: true, hasAudio: true });
    expect(media.durationSeconds).toBeCloseTo(video.durationSeconds, 1);
    expect(media.frameRate).toBeGreaterThan(0);
    expect(media.bitrate).toBeGreaterThan(0);
    expect(manifest.result!.mediaSkipped).toBeUndefined();
  });

  it('a video cut off inside its media data is rejected with ERR_VIDEO_TRUNCATED and not served', async () => {
    const whole = fromBase64(videos['h264-aac-faststart.mp4']!.base64);
    const manifest = await pipeline('cut.mp4', 'video/mp4', whole.subarray(0, Math.floor(whole.length * 0.7)));
    expect(manifest.state).toBe('rejected');
    expect(manifest.reason).toMatch(/^ERR_VIDEO_TRUNCATED: The video is refused: the mdat box/);
    expect(manifest.result).toBeUndefined();
  });
});
