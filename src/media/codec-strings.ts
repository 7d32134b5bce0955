/**
 * @module RFC 6381 `codecs` strings from codec configuration records (avcC, hvcC, vpcC, av1C, the
 * MPEG-4 ES descriptor, AudioSpecificConfig). Shared by the ISO-BMFF and Matroska readers, which
 * carry the same records (Matroska's CodecPrivate is the ISO record for AVC, HEVC and AV1). Pure.
 */

const hex2 = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');
const dec2 = (n: number) => String(n).padStart(2, '0');

/** `avc1.64001F`: profile, constraint flags, level from an AVCDecoderConfigurationRecord. */
export function avcCodec(fourcc: string, avcC: Uint8Array): string | null {
  if (avcC.length < 4 || avcC[0] !== 1) return null;
  return `${fourcc}.${hex2(avcC[1]!)}${hex2(avcC[2]!)}${hex2(avcC[3]!)}`;
}

/** Bit-reversal of a 32-bit value (ISO/IEC 14496-15 E.3 writes the compatibility flags reversed). */
function reverse32(value: number): number {
  let out = 0;
  for (let i = 0; i < 32; i++) out = (out << 1) | ((value >>> i) & 1);
  return out >>> 0;
}

/** `hvc1.1.6.L93.B0` from an HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 Annex E.3). */
export function hevcCodec(fourcc: string, hvcC: Uint8Array): string | null {
  if (hvcC.length < 13 || hvcC[0] !== 1) return null;
  const space = hvcC[1]! >> 6;
  const tier = (hvcC[1]! >> 5) & 1;
  const profile = hvcC[1]! & 0x1f;
  const compat = ((hvcC[2]! << 24) | (hvcC[3]! << 16) | (hvcC[4]! << 8) | hvcC[5]!) >>> 0;
  const constraints = [...hvcC.subarray(6, 12)];
  while (constraints.length > 0 && constraints[constraints.length - 1] === 0) constraints.pop();
  const parts = [
    fourcc,
    `${['', 'A', 'B', 'C'][space]}${profile}`,
    reverse32(compat).toString(16).toUpperCase(),
    `${tier ? 'H' : 'L'}${hvcC[12]!}`,
    ...constraints.map((b) => b.toString(16).toUpperCase()),
  ];
  return parts.join('.');
}

/** `vp09.00.10.08` (profile, level, bit depth) from a VPCodecConfigurationBox payload (after version/flags). */
export function vp9Codec(profile: number, level: number, bitDepth: number): string {
  return `vp09.${dec2(profile)}.${dec2(level)}.${dec2(bitDepth)}`;
}

/**
 * VP9 levels (webmproject.org/vp9/levels): the smallest whose picture size and luma sample rate
 * hold the stream. The same rule ffmpeg uses to fill vpcC, so WebM and MP4 name the same level.
 */
const VP9_LEVELS: [level: number, maxSampleRate: number, maxPictureSize: number][] = [
  [10, 829_440, 36_864],
  [11, 2_764_800, 73_728],
  [20, 4_608_000, 122_880],
  [21, 9_216_000, 245_760],
  [30, 20_736_000, 552_960],
  [31, 36_864_000, 983_040],
  [40, 83_558_400, 2_228_224],
  [41, 160_432_128, 2_228_224],
  [50, 311_951_360, 8_912_896],
  [51, 588_251_136, 8_912_896],
  [52, 1_176_502_272, 8_912_896],
  [60, 1_176_502_272, 35_651_584],
  [61, 2_353_004_544, 35_651_584],
  [62, 4_706_009_088, 35_651_584],
];

export function vp9Level(width: number, height: number, frameRate?: number): number {
  const picture = width * height;
  const rate = frameRate ? picture * frameRate : 0;
  return VP9_LEVELS.find(([, maxRate, maxPicture]) => picture <= maxPicture && rate <= maxRate)?.[0] ?? 62;
}

/**
 * Profile and bit depth from a VP9 key frame's uncompressed header (VP9 bitstream spec §6.2),
 * for containers without a configuration record (ffmpeg's WebM has no VP9 CodecPrivate).
 */
export function vp9FrameFeatures(frame: Uint8Array): { profile: number; bitDepth: number } | null {
  let bit = 0;
  const read = (n: number) => {
    let value = 0;
    for (let i = 0; i < n; i++, bit++) {
      const byte = frame[bit >> 3];
      if (byte === undefined) throw new RangeError('short frame');
      value = (value << 1) | ((byte >> (7 - (bit & 7))) & 1);
    }
    return value;
  };
  try {
    if (read(2) !== 2) return null; // frame_marker
    const low = read(1);
    const profile = (read(1) << 1) | low;
    if (profile === 3) read(1);
    if (read(1) === 1) return null; // show_existing_frame
    if (read(1) !== 0) return null; // not a key frame
    read(2); // show_frame, error_resilient_mode
    if (read(8) !== 0x49 || read(8) !== 0x83 || read(8) !== 0x42) return null;
    const bitDepth = profile >= 2 ? (read(1) ? 12 : 10) : 8;
    return { profile, bitDepth };
  } catch {
    return null;
  }
}

/** vpcC is a full box: 4 bytes of version and flags, then profile, level, bitDepth<<4|… */
export function vpcCodec(vpcC: Uint8Array): string | null {
  if (vpcC.length < 7 || vpcC[0] !== 1) return null;
  return vp9Codec(vpcC[4]!, vpcC[5]!, vpcC[6]! >> 4);
}

/** `av01.0.04M.08` from an AV1CodecConfigurationRecord (AV1-ISOBMFF §5, codecs parameter). */
export function av1Codec(av1C: Uint8Array): string | null {
  if (av1C.length < 4 || (av1C[0]! & 0x7f) !== 1 || (av1C[0]! & 0x80) === 0) return null;
  const profile = av1C[1]! >> 5;
  const level = av1C[1]! & 0x1f;
  const tier = av1C[2]! >> 7;
  const highBitDepth = (av1C[2]! >> 6) & 1;
  const twelveBit = (av1C[2]! >> 5) & 1;
  const bitDepth = twelveBit ? 12 : highBitDepth ? 10 : 8;
  return `av01.${profile}.${dec2(level)}${tier ? 'H' : 'M'}.${dec2(bitDepth)}`;
}

/** The audio object type from an AudioSpecificConfig (5 bits, 31 = escape to 6 more). */
export function audioObjectType(asc: Uint8Array): number | null {
  if (asc.length < 1) return null;
  const aot = asc[0]! >> 3;
  if (aot !== 31) return aot;
  if (asc.length < 2) return null;
  return 32 + (((asc[0]! & 0x07) << 3) | (asc[1]! >> 5));
}

/** `mp4a.40.2` from an AudioSpecificConfig (AAC in Matroska's CodecPrivate). */
export function aacCodec(asc: Uint8Array): string | null {
  const aot = audioObjectType(asc);
  return aot === null ? null : `mp4a.40.${aot}`;
}

/** Reads an MPEG-4 descriptor header (tag, then a size of 1–4 bytes, 7 bits each). */
function descriptor(bytes: Uint8Array, at: number): { tag: number; start: number; end: number } | null {
  if (at >= bytes.length) return null;
  const tag = bytes[at]!;
  let size = 0;
  let i = at + 1;
  for (let n = 0; n < 4; n++, i++) {
    if (i >= bytes.length) return null;
    size = (size << 7) | (bytes[i]! & 0x7f);
    if ((bytes[i]! & 0x80) === 0) {
      i++;
      break;
    }
  }
  return { tag, start: i, end: Math.min(i + size, bytes.length) };
}

/**
 * `mp4a.40.2` / `mp4v.20.9` from an `esds` payload (after version/flags): the ES descriptor's
 * DecoderConfigDescriptor names the object type, and for AAC its DecoderSpecificInfo the AOT.
 */
export function esdsCodec(fourcc: string, esds: Uint8Array): string | null {
  const es = descriptor(esds, 0);
  if (!es || es.tag !== 0x03) return null;
  let at = es.start + 2; // ES_ID
  const flags = esds[at++] ?? 0;
  if (flags & 0x80) at += 2; // dependsOn_ES_ID
  if (flags & 0x40) at += 1 + (esds[at] ?? 0); // URL
  if (flags & 0x20) at += 2; // OCR_ES_Id
  const config = descriptor(esds, at);
  if (!config || config.tag !== 0x04 || config.end - config.start < 13) return null;
  const oti = esds[config.start]!;
  const base = `${fourcc}.${hex2(oti)}`;
  const specific = descriptor(esds, config.start + 13);
  if (!specific || specific.tag !== 0x05) return base;
  const info = esds.subarray(specific.start, specific.end);
  if (fourcc === 'mp4a' && oti === 0x40) {
    const aot = audioObjectType(info);
    return aot === null ? base : `${base}.${aot}`;
  }
  return base;
}
