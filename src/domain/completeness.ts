/**
 * @module Whether a file's end looks like the end of its format: a cheap check for truncated
 * uploads of images (a cut-off JPEG decodes to a grey half-image rather than failing). Pure.
 */

/** How many trailing bytes `looksComplete` needs. */
export const TAIL_BYTES = 4096;

const PNG_IEND = [0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82];

/**
 * `head` is the first bytes (at least 12), `tail` the last up to TAIL_BYTES, `size` the whole
 * length. Types without a check answer true.
 */
export function looksComplete(type: string, head: Uint8Array, tail: Uint8Array, size: number): boolean {
  switch (type) {
    case 'image/jpeg':
      // EOI, allowing for trailing bytes some cameras append after it.
      for (let i = tail.length - 2; i >= 0; i--) if (tail[i] === 0xff && tail[i + 1] === 0xd9) return true;
      return false;
    case 'image/png':
      return tail.length >= 12 && PNG_IEND.every((b, i) => tail[tail.length - 12 + i] === b);
    case 'image/gif':
      return tail.length > 0 && tail[tail.length - 1] === 0x3b;
    case 'image/webp': {
      if (head.length < 8) return false;
      const riff = (head[4]! | (head[5]! << 8) | (head[6]! << 16) | (head[7]! << 24)) >>> 0;
      // RIFF chunks are padded to even sizes; allow the pad byte.
      return riff + 8 === size || riff + 9 === size;
    }
    default:
      return true;
  }
}
