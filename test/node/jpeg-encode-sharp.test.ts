/** Our 4:2:0 encoder against libvips (sharp) at the same quality: same chroma, same fidelity, similar bytes. */
import sharp from 'sharp';
import { expect, it } from 'vitest';
import { encodeJpeg420 } from '../../src/media/jpeg-encode';

it('matches sharp’s 4:2:0 JPEG in PSNR and comes within 10% of its size', async () => {
  const [width, height] = [1024, 768];
  let seed = 7;
  const noise = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) * 40;
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      raw[i] = (x * 200) / width + noise();
      raw[i + 1] = (y * 200) / height + noise();
      raw[i + 2] = 128 + 60 * Math.sin(x / 40) * Math.cos(y / 30) + noise() / 2;
    }
  }
  const rgba = new Uint8Array(await sharp(raw, { raw: { width, height, channels: 3 } }).blur(1.2).ensureAlpha().raw().toBuffer());
  const psnr = async (jpeg: Uint8Array) => {
    const decoded = await sharp(jpeg).removeAlpha().raw().toBuffer();
    let sum = 0;
    for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) for (let c = 0; c < 3; c++) sum += (rgba[i + c]! - decoded[j + c]!) ** 2;
    return 10 * Math.log10((255 * 255) / (sum / (width * height * 3)));
  };
  for (const quality of [75, 82, 90]) {
    const ours = encodeJpeg420({ data: rgba, width, height }, quality);
    const theirs = await sharp(rgba, { raw: { width, height, channels: 4 } }).jpeg({ quality, chromaSubsampling: '4:2:0' }).toBuffer();
    const meta = await sharp(ours).metadata();
    expect(meta).toMatchObject({ format: 'jpeg', width, height, chromaSubsampling: '4:2:0', isProgressive: false });
    expect(Math.abs((await psnr(ours)) - (await psnr(theirs)))).toBeLessThan(0.3);
    expect(ours.length / theirs.length).toBeGreaterThan(0.9);
    expect(ours.length / theirs.length).toBeLessThan(1.1);
  }
});
