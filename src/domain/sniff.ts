/**
 * @module Content-type sniffing from magic bytes. Pure: give it the first bytes of a file
 * (SNIFF_BYTES is enough) and it names the type it sees, so a declared type can be checked.
 */

/** How many leading bytes `sniffType` needs. */
export const SNIFF_BYTES = 64;

const ascii = (bytes: Uint8Array, offset: number, length: number): string =>
  String.fromCharCode(...bytes.subarray(offset, offset + length));

const startsWith = (bytes: Uint8Array, signature: number[], offset = 0): boolean =>
  bytes.length >= offset + signature.length && signature.every((b, i) => bytes[offset + i] === b);

/** ISO-BMFF (`ftyp`) major and compatible brands → MIME type. */
function sniffFtyp(bytes: Uint8Array): string | null {
  if (bytes.length < 12 || ascii(bytes, 4, 4) !== 'ftyp') return null;
  const boxSize = Math.min(((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0, bytes.length);
  const brands = [ascii(bytes, 8, 4)];
  for (let offset = 16; offset + 4 <= boxSize; offset += 4) brands.push(ascii(bytes, offset, 4));
  const has = (...names: string[]) => brands.some((brand) => names.includes(brand));
  if (has('avif', 'avis')) return 'image/avif';
  if (has('heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1')) return 'image/heic';
  if (brands[0] === 'qt  ') return 'video/quicktime';
  return 'video/mp4';
}

/** Names the type the bytes look like, or null when unknown. Executables are named too. */
export function sniffType(bytes: Uint8Array): string | null {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (bytes.length >= 6 && (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a')) return 'image/gif';
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return 'image/webp';
  if (startsWith(bytes, [0x1a, 0x45, 0xdf, 0xa3])) return 'video/webm';
  if (bytes.length >= 5 && ascii(bytes, 0, 5) === '%PDF-') return 'application/pdf';
  const ftyp = sniffFtyp(bytes);
  if (ftyp) return ftyp;
  if (startsWith(bytes, [0x4d, 0x5a])) return 'application/x-msdownload';
  if (startsWith(bytes, [0x7f, 0x45, 0x4c, 0x46])) return 'application/x-elf';
  if (startsWith(bytes, [0x23, 0x21])) return 'text/x-shellscript';
  return null;
}

/** Declared types that share a container with another name (HEIF/HEIC, MP4/M4V …). */
const EQUIVALENT: Record<string, string> = {
  'image/heif': 'image/heic',
  'image/jpg': 'image/jpeg',
  'video/x-m4v': 'video/mp4',
  'audio/mp4': 'video/mp4',
};

/** The base type, lower-cased, with aliases (image/jpg, video/x-m4v …) folded. */
export const canonicalType = (type: string): string => {
  const base = type.split(';')[0]!.trim().toLowerCase();
  return EQUIVALENT[base] ?? base;
};

/**
 * Whether the bytes match the declared type. MP4 and QuickTime share the ISO-BMFF container,
 * and many .mov files carry an `isom`-family brand, so those two accept each other.
 */
export function matchesDeclaredType(declared: string, sniffed: string | null): boolean {
  if (!sniffed) return false;
  const want = canonicalType(declared);
  const got = canonicalType(sniffed);
  if (want === got) return true;
  const isoVideo = new Set(['video/mp4', 'video/quicktime']);
  return isoVideo.has(want) && isoVideo.has(got);
}
