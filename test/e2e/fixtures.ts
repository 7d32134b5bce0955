/** Test inputs made on the fly: seeded random bytes and real, decodable images. */
import { createHash } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';
import { seededBytes } from '../seeded-bytes';

/** Deterministic pseudo-random bytes (xorshift32), as a Buffer over the same memory. */
export function randomBytes(size: number, seed = 1): Buffer {
  const bytes = seededBytes(size, seed);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** A PDF-looking file of `size` bytes (the validator checks the magic bytes). */
export function pdf(size: number, seed = 1): Buffer {
  const bytes = randomBytes(size, seed);
  Buffer.from('%PDF-1.7\n').copy(bytes);
  return bytes;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A real RGB PNG with a colour gradient. */
export function png(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      rows[row + 1 + x * 3] = (x * 255) / width;
      rows[row + 2 + x * 3] = (y * 255) / height;
      rows[row + 3 + x * 3] = 128;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
