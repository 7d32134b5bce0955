/**
 * Images end ready with every configured variant in JPEG and WebP, a srcset, a ThumbHash and a
 * dominant colour; `/media/:id/:variant` serves the format `Accept` takes (Vary: Accept); a variant
 * configured after an upload was processed is made on its first request; HEIC goes to the Images
 * binding and says why when it cannot be decoded there.
 */
import { env } from 'cloudflare:workers';
import { thumbHashToApproximateAspectRatio, thumbHashToRGBA } from 'thumbhash';
import { describe, expect, it } from 'vitest';
import { readImageInfo } from '../src/media/image-info';
import type { Manifest } from '../src/contracts/messages';
import { api, createUpload, deployment, MiB, partOf, putPart, waitForState } from './helpers';
import { rgbPng } from './media-fixtures';

async function pipeline(name: string, type: string, bytes: Uint8Array): Promise<{ id: string; manifest: Manifest }> {
  const upload = await createUpload({ name, size: bytes.length, type, partSize: 5 * MiB });
  for (let n = 1; n <= upload.partCount; n++) expect((await putPart(upload, n, partOf(bytes, upload, n))).status).toBe(200);
  return { id: upload.id, manifest: await waitForState(upload, ['ready', 'rejected', 'failed'], 30_000) };
}

/** 900×600: a red field with a blue band at the bottom (a third). */
const redWithBlueBand = () => rgbPng(900, 600, (_x, y) => (y < 400 ? [200, 30, 40] : [20, 40, 200]));

const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const isWebp = (b: Uint8Array) => String.fromCharCode(...b.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...b.subarray(8, 12)) === 'WEBP';

describe('image variants, formats and placeholders', () => {
  it('every configured variant in JPEG and WebP, a srcset, a ThumbHash and a colour', async () => {
    const { id, manifest } = await pipeline('flag.png', 'image/png', await redWithBlueBand());
    expect(manifest.state).toBe('ready');
    const result = manifest.result!;
    expect(result.derivatives!.map((d) => [d.variant, d.width, d.height, d.formats!.map((f) => f.type)])).toEqual([
      ['thumb', 320, 213, ['image/jpeg', 'image/webp']],
      ['display', 900, 600, ['image/jpeg', 'image/webp']],
      ['w640', 640, 427, ['image/jpeg', 'image/webp']],
      ['w1920', 900, 600, ['image/jpeg', 'image/webp']],
    ]);
    // One srcset entry per width, narrowest first.
    expect(result.srcset).toBe(`/media/${id}/thumb 320w, /media/${id}/w640 640w, /media/${id}/display 900w`);
    expect(result.sizes).toBe('(max-width: 900px) 100vw, 900px');

    // The colour that fills most of the picture, not the red/blue mean.
    expect(result.placeholder!.color).toMatch(/^#[0-9a-f]{6}$/);
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(result.placeholder!.color.slice(i, i + 2), 16));
    expect(r).toBeGreaterThan(170);
    expect(g!).toBeLessThan(70);
    expect(b!).toBeLessThan(80);
    // The ThumbHash decodes to a picture of the same shape: red on top, blue at the bottom.
    const hash = fromBase64(result.placeholder!.thumbhash);
    const aspect = thumbHashToApproximateAspectRatio(hash); // approximate by design
    expect(aspect).toBeGreaterThan(1.3);
    expect(aspect).toBeLessThan(1.7);
    const picture = thumbHashToRGBA(hash);
    const at = (x: number, y: number) => Array.from(picture.rgba.subarray((y * picture.w + x) * 4, (y * picture.w + x) * 4 + 3));
    expect(at(picture.w >> 1, 2)[0]).toBeGreaterThan(at(picture.w >> 1, 2)[2]!);
    expect(at(picture.w >> 1, picture.h - 2)[2]).toBeGreaterThan(at(picture.w >> 1, picture.h - 2)[0]!);
    // The smallest derivative carries it on its `derivative` event.
    expect(result.derivatives![0]!.placeholder).toEqual(result.placeholder);
  });

  it('serves WebP to a browser that accepts it and JPEG to one that does not, varying on Accept', async () => {
    const { manifest } = await pipeline('flag.png', 'image/png', await redWithBlueBand());
    const thumb = manifest.result!.derivatives![0]!;
    const chrome = await api(thumb.url, { headers: { accept: 'image/avif,image/webp,image/apng,image/*,*/*;q=0.8' } });
    expect(chrome.status).toBe(200);
    expect(chrome.headers.get('content-type')).toBe('image/webp');
    expect(chrome.headers.get('vary')).toMatch(/\bAccept\b/);
    const webp = new Uint8Array(await chrome.arrayBuffer());
    expect(isWebp(webp)).toBe(true);
    expect(webp.length).toBe(thumb.formats!.find((f) => f.type === 'image/webp')!.bytes);
    expect(chrome.headers.get('content-disposition')).toContain('flag-thumb.webp');

    for (const accept of ['image/jpeg', '*/*', 'image/webp;q=0']) {
      const other = await api(thumb.url, { headers: { accept } });
      expect(other.headers.get('content-type'), accept).toBe('image/jpeg');
      expect(other.headers.get('vary')).toMatch(/\bAccept\b/);
      expect(readImageInfo(new Uint8Array(await other.arrayBuffer()))).toMatchObject({ type: 'image/jpeg', width: 320 });
    }
  });

  it('a variant configured after the upload was processed is made on its first request and kept', async () => {
    const { id, manifest } = await pipeline('flag.png', 'image/png', await redWithBlueBand());
    const variants = JSON.stringify({ thumb: { width: 320, quality: 75 }, square: { width: 200, height: 200, quality: 70, formats: ['image/avif'] } });
    const later = deployment({ VARIANTS: variants });
    const first = await later(`/media/${id}/square`, { headers: { accept: 'image/jpeg' } });
    expect(first.status).toBe(200);
    const jpeg = new Uint8Array(await first.arrayBuffer());
    // Inside 200×200, aspect kept.
    expect(readImageInfo(jpeg)).toMatchObject({ type: 'image/jpeg', width: 200, height: 133 });
    // Stored under the content's derived prefix, so the next request (any isolate) reads it.
    const listing = await env.BUCKET.list({ prefix: 'derived/' });
    const stored = listing.objects.find((o) => o.key.includes(`/${manifest.result!.sha256}/`) && o.key.endsWith('/square.jpg'));
    expect(stored?.size).toBe(jpeg.length);
    const again = await later(`/media/${id}/square`, { headers: { accept: 'image/jpeg' } });
    expect(new Uint8Array(await again.arrayBuffer())).toEqual(jpeg);
    // Its AVIF (this variant asks for it) is made too, through the Images binding.
    const avif = await later(`/media/${id}/square`, { headers: { accept: 'image/avif,image/webp,*/*' } });
    expect(avif.headers.get('content-type')).toBe('image/avif');
    const avifBytes = new Uint8Array(await avif.arrayBuffer());
    expect(String.fromCharCode(...avifBytes.subarray(4, 12))).toBe('ftypavif');
    // Names the configuration does not have stay 404.
    expect((await later(`/media/${id}/huge`)).status).toBe(404);
  });

  it('HEIC goes to the Images binding; where it cannot be decoded the original is kept and derivativesSkipped says why', async () => {
    // A HEIF container the local Images emulator (sharp without HEVC) cannot decode.
    const heic = new Uint8Array([0, 0, 0, 24, ...'ftypheic'.split('').map((c) => c.charCodeAt(0)), 0, 0, 0, 0, ...'mif1heic'.split('').map((c) => c.charCodeAt(0)), ...new Uint8Array(2000)]);
    const { id, manifest } = await pipeline('photo.heic', 'image/heic', heic);
    expect(manifest.state).toBe('ready');
    expect(manifest.result!.derivatives).toBeUndefined();
    expect(manifest.result!.derivativesSkipped).toMatch(/^Original kept, no derivatives: the image engine does not decode image\/heic; the Images binding cannot read it/);
    expect((await api(`/media/${id}`)).status).toBe(200);
  });
});
