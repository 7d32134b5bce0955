import { describe, expect, it } from 'vitest';
import { readImageInfo } from '../src/media/image-info';
import type { Manifest } from '../src/contracts/messages';
import { jpegSharpExif6 } from './fixtures/encoded-images';
import { fromBase64 } from './fixtures/image-bytes';
import { api, createUpload, expectError, MiB, partOf, putPart, sha256Hex, waitForState } from './helpers';
import { gradientPng, pdfWithEicar, pngHeaderOnly, text } from './media-fixtures';

/** Uploads `bytes` declared as `type` through the API and waits for the pipeline's verdict. */
async function pipeline(name: string, type: string, bytes: Uint8Array): Promise<{ id: string; manifest: Manifest }> {
  const upload = await createUpload({ name, size: bytes.length, type, partSize: 5 * MiB });
  for (let n = 1; n <= upload.partCount; n++) expect((await putPart(upload, n, partOf(bytes, upload, n))).status).toBe(200);
  const manifest = await waitForState(upload, ['ready', 'rejected', 'failed'], 30_000);
  return { id: upload.id, manifest };
}

const hasExif = (jpeg: Uint8Array) => new TextDecoder('latin1').decode(jpeg.subarray(0, 4096)).includes('Exif\0\0');

describe('media pipeline end to end', () => {
  it('an image reaches ready with every configured variant (thumb, display, srcset widths), lossy JPEG, served immutable', async () => {
    const png = await gradientPng(1600, 1000);
    const { id, manifest } = await pipeline('wide.png', 'image/png', png);
    expect(manifest.state).toBe('ready');
    expect(manifest.result).toMatchObject({ detectedType: 'image/png', sha256: await sha256Hex(png), scannedBy: 'builtin' });
    const derivatives = manifest.result!.derivatives!;
    expect(derivatives.map((d) => [d.variant, d.width, d.height, d.type])).toEqual([
      ['thumb', 320, 200, 'image/jpeg'],
      ['display', 1280, 800, 'image/jpeg'],
      ['w640', 640, 400, 'image/jpeg'],
      // Never upscaled: the 1920 px srcset variant of a 1600 px image is 1600 px.
      ['w1920', 1600, 1000, 'image/jpeg'],
    ]);
    for (const d of derivatives) {
      const res = await api(d.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('content-type')).toBe('image/jpeg');
      const body = new Uint8Array(await res.arrayBuffer());
      expect(body.length).toBe(d.bytes);
      expect(readImageInfo(body)).toMatchObject({ type: 'image/jpeg', width: d.width, height: d.height });
    }
    // A lossy thumbnail is a small fraction of its raw pixels.
    expect(derivatives[0]!.bytes).toBeLessThan((320 * 200 * 3) / 5);
    await expectError(await api(`/media/${id}/poster`), 404, 'ERR_NOT_FOUND');
  });

  it('applies EXIF orientation and strips metadata', async () => {
    const jpeg = fromBase64(jpegSharpExif6); // stored 48×32, orientation 6: shown 32×48
    const { manifest } = await pipeline('phone.jpg', 'image/jpeg', jpeg);
    expect(manifest.state).toBe('ready');
    const thumb = manifest.result!.derivatives!.find((d) => d.variant === 'thumb')!;
    expect([thumb.width, thumb.height]).toEqual([32, 48]);
    const body = new Uint8Array(await (await api(thumb.url)).arrayBuffer());
    expect(hasExif(body)).toBe(false);
    expect(readImageInfo(body)).toMatchObject({ width: 32, height: 48, orientation: 1 });
  });

  it('an image beyond the in-isolate engine (12 MP PNG) gets its derivatives from the Images binding', async () => {
    const png = await gradientPng(4000, 3000);
    const { manifest } = await pipeline('huge.png', 'image/png', png);
    expect(manifest.state).toBe('ready');
    expect(manifest.result!.derivativesSkipped).toBeUndefined();
    expect(manifest.result!.derivatives!.map((d) => [d.variant, d.width, d.height, d.type])).toEqual([
      ['thumb', 320, 240, 'image/jpeg'],
      ['display', 1280, 960, 'image/jpeg'],
      ['w640', 640, 480, 'image/jpeg'],
      ['w1920', 1920, 1440, 'image/jpeg'],
    ]);
    const thumb = new Uint8Array(await (await api(manifest.result!.derivatives![0]!.url)).arrayBuffer());
    expect(readImageInfo(thumb)).toMatchObject({ type: 'image/jpeg', width: 320, height: 240 });
  });

  it('a pixel bomb is never decoded: ready, original kept, derivatives skipped with the reason', async () => {
    const { id, manifest } = await pipeline('bomb.png', 'image/png', pngHeaderOnly(30000, 30000));
    expect(manifest.state).toBe('ready');
    expect(manifest.result!.derivatives).toBeUndefined();
    expect(manifest.result!.derivativesSkipped).toMatch(/too large to decode: 900\.0 MP/);
    expect(manifest.result!.derivativesSkipped).toMatch(/too large for the Images binding too/);
    await expectError(await api(`/media/${id}/thumb`), 404, 'ERR_NOT_FOUND');
  });

  it.each([
    ['EICAR inside a PDF, past the first chunk', 'eicar.pdf', 'application/pdf', () => pdfWithEicar(6 * MiB, 5 * MiB + 100), /^ERR_MALWARE_FOUND: Eicar-Test-Signature/],
    ['a shell script named .jpg', 'run.jpg', 'image/jpeg', () => text('#!/bin/sh\nrm -rf /\n'), /^ERR_TYPE_MISMATCH/],
    ['a Windows executable named .png', 'setup.png', 'image/png', () => new Uint8Array([0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0, 4, 0]), /^ERR_TYPE_MISMATCH/],
    ['a JPEG carrying an HTML script (polyglot)', 'poly.jpg', 'image/jpeg', () => new Uint8Array([0xff, 0xd8, 0xff, 0xe0, ...text('<html><script>alert(1)</script>'), 0xff, 0xd9]), /^ERR_MALWARE_FOUND: Structure\.Script/],
    ['an SVG with a script declared as PNG', 'logo.png', 'image/png', () => text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), /^ERR_TYPE_MISMATCH/],
    ['a truncated JPEG', 'cut.jpg', 'image/jpeg', () => fromBase64(jpegSharpExif6).subarray(0, 700), /^ERR_IMAGE_TRUNCATED/],
    ['a truncated PNG', 'cut.png', 'image/png', () => pngHeaderOnly(100, 100).subarray(0, 30), /^ERR_IMAGE_TRUNCATED/],
  ])('rejects %s and serves nothing', async (_label, name, type, make, reason) => {
    const { id, manifest } = await pipeline(name, type, make());
    expect(manifest.state).toBe('rejected');
    expect(manifest.reason).toMatch(reason);
    await expectError(await api(`/media/${id}`), 409, 'ERR_NOT_READY');
  });

  it('checks the client-declared SHA-256', async () => {
    const png = await gradientPng(64, 64);
    const upload = await createUpload({ name: 'sum.png', size: png.length, type: 'image/png', sha256: 'ab'.repeat(32) });
    await putPart(upload, 1, png);
    const manifest = await waitForState(upload, ['ready', 'rejected', 'failed']);
    expect(manifest.state).toBe('rejected');
    expect(manifest.reason).toMatch(/^ERR_CHECKSUM_MISMATCH/);
  });

  it('serves 304 and 206 with Last-Modified', async () => {
    const { id } = await pipeline('range.png', 'image/png', await gradientPng(200, 100));
    const full = await api(`/media/${id}`);
    const lastModified = full.headers.get('last-modified')!;
    expect(lastModified).toMatch(/GMT$/);
    expect((await api(`/media/${id}`, { headers: { 'if-modified-since': lastModified } })).status).toBe(304);
    expect((await api(`/media/${id}`, { headers: { 'if-none-match': full.headers.get('etag')! } })).status).toBe(304);
    const part = await api(`/media/${id}/thumb`, { headers: { range: 'bytes=0-1' } });
    expect(part.status).toBe(206);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(new Uint8Array([0xff, 0xd8]));
  });
});
