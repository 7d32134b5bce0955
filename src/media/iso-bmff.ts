/**
 * @module MP4 / QuickTime (ISO-BMFF) metadata from a handful of ranged reads: the top-level boxes
 * (is `moov` there, before or after `mdat`, does any box run past the end of the file), then only
 * the small boxes of `moov` that hold what we report. Sample tables are never read whole: their
 * headers give the frame count and the last chunk's offset. Pure; bounded by the reader's budget
 * and by the depth and box-count limits here.
 */
import type { MediaMetadata } from '../contracts/messages';
import type { BoundedReader } from './bounded-reader';
import { ReadBudgetExceeded } from './bounded-reader';
import { av1Codec, avcCodec, esdsCodec, hevcCodec, vpcCodec } from './codec-strings';
import { corrupt, truncated } from './container-error';

/** Boxes inside boxes deeper than this are not a real file. */
export const MAX_BOX_DEPTH = 8;
/** Boxes visited inside `moov`, at most. */
export const MAX_MOOV_BOXES = 4096;
/** Top-level boxes looked at after `moov` was found (fragmented files have thousands). */
const MAX_TOP_LEVEL_AFTER_MOOV = 32;
/** A `moov` larger than this is not walked (it would be a day-long index); the file is kept. */
export const MAX_MOOV_BYTES = 256 * 1024 * 1024;
/** Largest sample description read (a few hundred bytes in practice). */
const MAX_STSD_BYTES = 256 * 1024;
/** Seconds between 1904-01-01 (the ISO-BMFF epoch) and 1970-01-01. */
const EPOCH_1904 = 2_082_844_800;

interface Box {
  type: string;
  start: number;
  headerSize: number;
  end: number;
}

const u16 = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;
const u32 = (b: Uint8Array, at: number) => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
const i32 = (b: Uint8Array, at: number) => u32(b, at) | 0;
/** 64-bit values as safe integers; anything beyond 2^53 is not a size or time we believe. */
function u64(b: Uint8Array, at: number, what: string): number {
  const high = u32(b, at);
  if (high >= 2 ** 21) throw corrupt(`the ${what} is an impossible 64-bit value`);
  return high * 2 ** 32 + u32(b, at + 4);
}
const fourcc = (b: Uint8Array, at: number) => String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);

/** Parses a box header from `bytes` at `at` (needs 8, or 16 for a 64-bit size). `limit` is where size 0 ends. */
function parseHeader(bytes: Uint8Array, at: number, offset: number, limit: number): Box {
  const size32 = u32(bytes, at);
  const type = fourcc(bytes, at + 4);
  let size = size32;
  let headerSize = 8;
  if (size32 === 1) {
    if (bytes.length < at + 16) throw truncated(`the ${type} box header at byte ${offset} is cut off`);
    size = u64(bytes, at + 8, `size of the ${type} box at byte ${offset}`);
    headerSize = 16;
  } else if (size32 === 0) {
    size = limit - offset; // "extends to the end of the enclosing box (or file)"
  }
  if (size < headerSize) throw corrupt(`the ${type} box at byte ${offset} says it is ${size} bytes, smaller than its own header`);
  return { type, start: offset, headerSize, end: offset + size };
}

async function readHeader(reader: BoundedReader, at: number, limit: number): Promise<Box> {
  const bytes = await reader.read(at, 16);
  if (bytes.length < 8) throw truncated(`the box header at byte ${at} is cut off`);
  return parseHeader(bytes, 0, at, limit);
}

/** Boxes inside an in-memory buffer (sample entries and their configuration boxes). */
function* boxesIn(bytes: Uint8Array, start: number, end: number): Generator<Box> {
  let at = start;
  while (end - at >= 8) {
    const box = parseHeader(bytes, at, at, end);
    if (box.end > end) throw corrupt(`the ${box.type} box in a sample description runs past its parent`);
    yield box;
    at = box.end;
  }
}

interface Track {
  id: number;
  handler?: string;
  timescale?: number;
  duration?: number;
  width?: number;
  height?: number;
  rotation: number;
  codec?: string;
  codecNote?: string;
  sampleCount?: number;
  lastChunkOffset?: number;
}

interface Movie {
  timescale: number;
  duration: number;
  createdAt?: number;
  fragmentDuration?: number;
  fragmented: boolean;
  tracks: Track[];
}

/** Clockwise degrees from a tkhd matrix {a b u; c d v; x y w} (a, b, c, d in 16.16). */
function matrixRotation(payload: Uint8Array, at: number, notes: string[]): number {
  const a = i32(payload, at) / 65536;
  const b = i32(payload, at + 4) / 65536;
  const degrees = (Math.round((Math.atan2(b, a) * 180) / Math.PI) + 360) % 360;
  if (degrees % 90 !== 0) {
    notes.push(`the display matrix turns the video by ${degrees}°, not a multiple of 90°; reported as 0`);
    return 0;
  }
  return degrees;
}

/** Reads ISO-BMFF metadata. Throws ContainerError (rejected) or ReadBudgetExceeded (skipped). */
export async function readIsoBmff(reader: BoundedReader): Promise<MediaMetadata> {
  const size = reader.size;
  const notes: string[] = [];
  const top: Box[] = [];
  let moov: Box | undefined;
  let topAfterMoov = 0;
  for (let at = 0; at < size; ) {
    if (size - at < 8) {
      notes.push(`${size - at} stray bytes after the last box`);
      break;
    }
    if (moov && ++topAfterMoov > MAX_TOP_LEVEL_AFTER_MOOV) {
      notes.push(`only the first ${top.length} top-level boxes were checked for truncation`);
      break;
    }
    let box: Box;
    try {
      box = await readHeader(reader, at, size);
    } catch (error) {
      // Enough is known once moov is found; the rest of a fragmented file is left unchecked.
      if (moov && error instanceof ReadBudgetExceeded) {
        notes.push(`only the first ${top.length} top-level boxes were checked for truncation`);
        break;
      }
      throw error;
    }
    if (box.end > size) {
      throw truncated(`the ${box.type} box at byte ${at} says it is ${box.end - at} bytes long, but the file ends ${box.end - size} bytes before that: it looks cut off`);
    }
    top.push(box);
    if (box.type === 'moov' && !moov) moov = box;
    at = box.end;
  }

  const ftyp = top[0]?.type === 'ftyp' ? await reader.read(top[0].start + top[0].headerSize, 4) : null;
  const container = ftyp && fourcc(ftyp, 0) === 'qt  ' ? 'quicktime' : top[0]?.type === 'ftyp' ? 'mp4' : 'quicktime';
  const firstMdat = top.find((b) => b.type === 'mdat');
  const firstMoof = top.find((b) => b.type === 'moof');
  if (!moov) {
    throw truncated(
      firstMdat
        ? 'the file has media data but no moov index (a recording cut off before it was finished?)'
        : 'the file has no moov index and no media data',
    );
  }
  const moovSize = moov.end - moov.start;
  if (moovSize > MAX_MOOV_BYTES) throw new ReadBudgetExceeded(`the moov index is ${moovSize} bytes, more than the ${MAX_MOOV_BYTES} read`);

  const movie = await readMoov(reader, moov, notes);
  const fragmented = movie.fragmented || firstMoof !== undefined;

  // Sample data that points past the file is a file cut off (moov at the start, mdat cut short).
  for (const track of movie.tracks) {
    if (track.lastChunkOffset !== undefined && track.lastChunkOffset >= size) {
      throw truncated(`track ${track.id}'s media data starts at byte ${track.lastChunkOffset}, past the end of the ${size}-byte file: it looks cut off`);
    }
  }
  const hasSamples = movie.tracks.some((t) => (t.sampleCount ?? 0) > 0);
  if (hasSamples && !firstMdat) throw truncated('the index lists samples but the file has no media data (mdat)');

  const playable = movie.tracks.filter((track) => {
    if (track.handler !== 'vide' && track.handler !== 'soun') return false;
    if (!fragmented && !(track.duration! > 0)) {
      notes.push(`track ${track.id} (${track.handler === 'vide' ? 'video' : 'audio'}) has no duration; ignored`);
      return false;
    }
    return true;
  });
  if (playable.length === 0) throw corrupt('the file has no video or audio track with any duration');

  let seconds = movie.timescale > 0 ? movie.duration / movie.timescale : 0;
  if (seconds === 0 && movie.fragmentDuration && movie.timescale > 0) seconds = movie.fragmentDuration / movie.timescale;
  if (seconds === 0) seconds = Math.max(0, ...playable.map((t) => (t.timescale ? t.duration! / t.timescale : 0)));
  const durationSeconds = seconds > 0 ? round(seconds, 3) : null;
  if (durationSeconds === null) notes.push('the container records no duration (a fragmented file without mehd)');

  const video = playable.find((t) => t.handler === 'vide');
  const audio = playable.find((t) => t.handler === 'soun');
  for (const track of playable) if (track.codecNote) notes.push(`track ${track.id}: ${track.codecNote}`);
  const media: MediaMetadata = {
    container,
    durationSeconds,
    rotation: video?.rotation ?? 0,
    codecs: [...playable.filter((t) => t.handler === 'vide'), ...playable.filter((t) => t.handler === 'soun')]
      .map((t) => t.codec)
      .filter((c): c is string => !!c),
    hasVideo: !!video,
    hasAudio: !!audio,
    streamable: moov.start < (firstMdat ?? firstMoof ?? { start: Infinity }).start,
  };
  if (video?.width && video.height) {
    const turned = video.rotation === 90 || video.rotation === 270;
    media.width = turned ? video.height : video.width;
    media.height = turned ? video.width : video.height;
  }
  if (video?.sampleCount && video.timescale && video.duration) {
    media.frameRate = round(video.sampleCount / (video.duration / video.timescale), 3);
  }
  if (durationSeconds) media.bitrate = Math.round((size * 8) / durationSeconds);
  if (movie.createdAt) media.createdAt = new Date(movie.createdAt * 1000).toISOString();
  if (fragmented) media.fragmented = true;
  if (notes.length > 0) media.notes = notes;
  return media;
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

async function readMoov(reader: BoundedReader, moov: Box, notes: string[]): Promise<Movie> {
  const movie: Movie = { timescale: 0, duration: 0, fragmented: false, tracks: [] };
  let boxes = 0;
  let track: Track | undefined;

  const payload = async (box: Box, max: number) => {
    const length = box.end - box.start - box.headerSize;
    if (length > max) throw corrupt(`the ${box.type} box is ${length} bytes, more than the ${max} a real one needs`);
    const bytes = await reader.read(box.start + box.headerSize, length);
    if (bytes.length < length) throw truncated(`the ${box.type} box is cut off`);
    return bytes;
  };

  const walk = async (parent: Box, depth: number): Promise<void> => {
    if (depth > MAX_BOX_DEPTH) throw corrupt(`boxes are nested deeper than ${MAX_BOX_DEPTH} levels`);
    for (let at = parent.start + parent.headerSize; parent.end - at >= 8; ) {
      const box = await readHeader(reader, at, parent.end);
      if (box.end > parent.end) {
        throw corrupt(`the ${box.type} box at byte ${at} says it is ${box.end - at} bytes, past the end of its ${parent.type} box`);
      }
      if (++boxes > MAX_MOOV_BOXES) throw corrupt(`the index has more than ${MAX_MOOV_BOXES} boxes`);
      await visit(box, depth);
      at = box.end;
    }
  };

  const visit = async (box: Box, depth: number): Promise<void> => {
    switch (box.type) {
      case 'trak':
        track = { id: movie.tracks.length + 1, rotation: 0 };
        movie.tracks.push(track);
        await walk(box, depth + 1);
        track = undefined;
        return;
      case 'mdia':
      case 'minf':
      case 'stbl':
      case 'mvex':
        return walk(box, depth + 1);
      case 'mvhd': {
        const p = await payload(box, 256);
        const v1 = p[0] === 1;
        if (p.length < (v1 ? 32 : 20)) throw corrupt('the mvhd box is too short');
        const created = v1 ? u64(p, 4, 'mvhd creation time') : u32(p, 4);
        movie.timescale = u32(p, v1 ? 20 : 12);
        movie.duration = v1 ? u64(p, 24, 'mvhd duration') : u32(p, 16);
        if (v1 ? movie.duration === 2 ** 53 - 1 : movie.duration === 0xffffffff) movie.duration = 0; // "unknown"
        if (created > EPOCH_1904) movie.createdAt = created - EPOCH_1904;
        return;
      }
      case 'mehd': {
        const p = await payload(box, 64);
        movie.fragmentDuration = p[0] === 1 ? u64(p, 4, 'mehd duration') : u32(p, 4);
        movie.fragmented = true;
        return;
      }
      case 'trex':
        movie.fragmented = true;
        return;
      case 'tkhd': {
        if (!track) return;
        const p = await payload(box, 256);
        const v1 = p[0] === 1;
        const matrixAt = v1 ? 52 : 40;
        if (p.length < matrixAt + 44) throw corrupt('the tkhd box is too short');
        track.rotation = matrixRotation(p, matrixAt, notes);
        track.width = Math.round(u32(p, matrixAt + 36) / 65536);
        track.height = Math.round(u32(p, matrixAt + 40) / 65536);
        return;
      }
      case 'mdhd': {
        if (!track) return;
        const p = await payload(box, 256);
        const v1 = p[0] === 1;
        if (p.length < (v1 ? 32 : 20)) throw corrupt('the mdhd box is too short');
        track.timescale = u32(p, v1 ? 20 : 12);
        track.duration = v1 ? u64(p, 24, 'mdhd duration') : u32(p, 16);
        if (track.duration === 0xffffffff) track.duration = 0;
        return;
      }
      case 'hdlr': {
        if (!track) return;
        const p = await payload(box, 4096);
        // mdia's hdlr comes first; QuickTime adds a data handler (alis, url ) in minf.
        if (p.length >= 12) track.handler ??= fourcc(p, 8);
        return;
      }
      case 'stsd':
        if (track) readSampleDescription(await payload(box, MAX_STSD_BYTES), track);
        return;
      case 'stsz':
      case 'stz2': {
        if (!track) return;
        const p = await reader.read(box.start + box.headerSize, 12);
        if (p.length < 12) throw truncated(`the ${box.type} box is cut off`);
        track.sampleCount = u32(p, 8);
        return;
      }
      case 'stco':
      case 'co64': {
        if (!track) return;
        const head = await reader.read(box.start + box.headerSize, 8);
        if (head.length < 8) throw truncated(`the ${box.type} box is cut off`);
        const count = u32(head, 4);
        const width = box.type === 'co64' ? 8 : 4;
        const tableStart = box.start + box.headerSize + 8;
        if (tableStart + count * width > box.end) throw corrupt(`the ${box.type} box lists ${count} chunks but has room for fewer`);
        if (count === 0) return;
        const last = await reader.read(tableStart + (count - 1) * width, width);
        track.lastChunkOffset = width === 8 ? u64(last, 0, 'chunk offset') : u32(last, 0);
        return;
      }
      default:
        return; // udta, edts, meta, free …: nothing we report
    }
  };

  await walk(moov, 1);
  return movie;
}

/** The first sample entry: its format and the RFC 6381 string from its configuration box. */
function readSampleDescription(stsd: Uint8Array, track: Track): void {
  if (stsd.length < 16 || u32(stsd, 4) === 0) return;
  const entry = boxesIn(stsd, 8, stsd.length).next().value;
  if (!entry) return;
  let format = entry.type;
  let childrenAt: number;
  if (track.handler === 'vide') {
    if (entry.end - entry.start < 86) throw corrupt(`the ${format} sample description is too short`);
    track.width ||= u16(stsd, entry.start + 32);
    track.height ||= u16(stsd, entry.start + 34);
    childrenAt = entry.start + 86;
  } else if (track.handler === 'soun') {
    if (entry.end - entry.start < 36) throw corrupt(`the ${format} sample description is too short`);
    const version = u16(stsd, entry.start + 16); // QuickTime sound description versions add fields
    childrenAt = entry.start + 36 + (version === 1 ? 16 : version === 2 ? 36 : 0);
  } else {
    track.codec = format.trim();
    return;
  }
  const config = new Map<string, Box>();
  const collect = (start: number, end: number, depth: number) => {
    for (const box of boxesIn(stsd, start, end)) {
      if (!config.has(box.type)) config.set(box.type, box);
      // Encrypted entries name the original format in sinf/frma; QuickTime nests esds in wave.
      if ((box.type === 'sinf' || box.type === 'wave') && depth < 3) collect(box.start + box.headerSize, box.end, depth + 1);
    }
  };
  collect(childrenAt, entry.end, 1);
  const body = (type: string) => {
    const box = config.get(type);
    return box ? stsd.subarray(box.start + box.headerSize, box.end) : null;
  };
  const frma = body('frma');
  if ((format === 'encv' || format === 'enca') && frma && frma.length >= 4) {
    format = fourcc(frma, 0);
    track.codecNote = 'the media is encrypted';
  }
  const withBody = (type: string, make: (b: Uint8Array) => string | null) => {
    const b = body(type);
    const made = b ? make(b) : null;
    if (!made) track.codecNote = `no usable ${type} for ${format}: the codec string is only the format name`;
    return made ?? format.trim();
  };
  switch (format) {
    case 'avc1':
    case 'avc3':
      track.codec = withBody('avcC', (b) => avcCodec(format, b));
      return;
    case 'hvc1':
    case 'hev1':
      track.codec = withBody('hvcC', (b) => hevcCodec(format, b));
      return;
    case 'vp09':
      track.codec = withBody('vpcC', vpcCodec);
      return;
    case 'vp08':
      track.codec = 'vp8';
      return;
    case 'av01':
      track.codec = withBody('av1C', av1Codec);
      return;
    case 'mp4a':
    case 'mp4v':
      track.codec = withBody('esds', (b) => esdsCodec(format, b.subarray(4)));
      return;
    case 'Opus':
      track.codec = 'opus';
      return;
    case 'fLaC':
      track.codec = 'flac';
      return;
    default:
      track.codec = format.trim();
  }
}
