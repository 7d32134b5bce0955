/**
 * @module WebM / Matroska metadata from a handful of ranged reads: the EBML header (DocType), the
 * Segment's size against the file's (a cut-off file), then Info and Tracks, found by walking the
 * Segment's children up to the first Cluster or through the SeekHead. Clusters are never read.
 * Pure; bounded by the reader's budget and by the element-size, depth and count limits here.
 */
import type { MediaMetadata } from '../contracts/messages';
import type { BoundedReader } from './bounded-reader';
import { aacCodec, av1Codec, avcCodec, hevcCodec, vp9Codec, vp9FrameFeatures, vp9Level } from './codec-strings';
import { ContainerError, corrupt, truncated } from './container-error';

const ID = {
  EBML: 0x1a45dfa3,
  DocType: 0x4282,
  Segment: 0x18538067,
  SeekHead: 0x114d9b74,
  Seek: 0x4dbb,
  SeekID: 0x53ab,
  SeekPosition: 0x53ac,
  Info: 0x1549a966,
  TimestampScale: 0x2ad7b1,
  Duration: 0x4489,
  DateUTC: 0x4461,
  Tracks: 0x1654ae6b,
  TrackEntry: 0xae,
  TrackNumber: 0xd7,
  TrackType: 0x83,
  CodecID: 0x86,
  CodecPrivate: 0x63a2,
  DefaultDuration: 0x23e383,
  Video: 0xe0,
  PixelWidth: 0xb0,
  PixelHeight: 0xba,
  DisplayWidth: 0x54b0,
  DisplayHeight: 0x54ba,
  DisplayUnit: 0x54b2,
  Projection: 0x7670,
  ProjectionPoseRoll: 0x7675,
  Cluster: 0x1f43b675,
  SimpleBlock: 0xa3,
  BlockGroup: 0xa0,
  Block: 0xa1,
  Cues: 0x1c53bb6b,
} as const;

/** Info, Tracks and SeekHead larger than this are not real (they are a few hundred bytes). */
export const MAX_EBML_MASTER_BYTES = 1024 * 1024;
/** Nesting deeper than this inside Tracks is not a real file. */
export const MAX_EBML_DEPTH = 8;
/** Elements parsed inside one master element, at most. */
const MAX_EBML_CHILDREN = 4096;
/** Segment children looked at before giving up on finding Info and Tracks. */
const MAX_SEGMENT_CHILDREN = 64;
/** Nanoseconds between 1970-01-01 and 2001-01-01 (Matroska's DateUTC epoch). */
const EPOCH_2001_MS = 978_307_200_000;

interface Element {
  id: number;
  start: number;
  dataStart: number;
  /** Null for "unknown size" (live-written Segments and Clusters). */
  size: number | null;
}

/** A variable-length integer: 1–8 bytes, the leading zero bits say how many. */
function vint(bytes: Uint8Array, at: number, keepMarker: boolean): { value: number; length: number; unknown: boolean } | null {
  const first = bytes[at];
  if (first === undefined || first === 0) return null;
  const length = Math.clz32(first) - 23;
  if (at + length > bytes.length) return null;
  let value = keepMarker ? first : first & (0xff >> length);
  let allOnes = value === (0xff >> length);
  for (let i = 1; i < length; i++) {
    value = value * 256 + bytes[at + i]!;
    if (bytes[at + i] !== 0xff) allOnes = false;
  }
  return { value, length, unknown: !keepMarker && allOnes };
}

function parseElement(bytes: Uint8Array, at: number, offset: number): Element | null {
  const id = vint(bytes, at, true);
  if (!id || id.length > 4) return null;
  const size = vint(bytes, at + id.length, false);
  if (!size) return null;
  if (!size.unknown && !Number.isSafeInteger(size.value)) return null;
  return { id: id.value, start: offset, dataStart: offset + id.length + size.length, size: size.unknown ? null : size.value };
}

async function readElement(reader: BoundedReader, at: number): Promise<Element> {
  const bytes = await reader.read(at, 12);
  const element = parseElement(bytes, 0, at);
  if (!element) {
    if (bytes.length < 12 && at + bytes.length >= reader.size) throw truncated(`the element header at byte ${at} is cut off`);
    throw corrupt(`no valid EBML element at byte ${at}`);
  }
  return element;
}

/** Children of an in-memory master element, checked against their parent's end. */
function* children(bytes: Uint8Array, start: number, end: number, what: string): Generator<Element & { end: number }> {
  let count = 0;
  for (let at = start; at < end; ) {
    const element = parseElement(bytes, at, at);
    if (!element || element.size === null) throw corrupt(`a malformed element inside ${what}`);
    const elementEnd = element.dataStart + element.size;
    if (elementEnd > end) throw corrupt(`an element inside ${what} says it is ${element.size} bytes, past the end of ${what}`);
    if (++count > MAX_EBML_CHILDREN) throw corrupt(`${what} has more than ${MAX_EBML_CHILDREN} elements`);
    yield { ...element, end: elementEnd };
    at = elementEnd;
  }
}

const uint = (b: Uint8Array, e: Element & { end: number }) => {
  let value = 0;
  for (let i = e.dataStart; i < e.end; i++) value = value * 256 + b[i]!;
  return value;
};
const float = (b: Uint8Array, e: Element & { end: number }) => {
  const view = new DataView(b.buffer, b.byteOffset + e.dataStart, e.end - e.dataStart);
  return e.end - e.dataStart === 4 ? view.getFloat32(0) : e.end - e.dataStart === 8 ? view.getFloat64(0) : NaN;
};
const text = (b: Uint8Array, e: Element & { end: number }) => String.fromCharCode(...b.subarray(e.dataStart, e.end)).replace(/\0+$/, '');
const signed = (b: Uint8Array, e: Element & { end: number }) => {
  const length = e.end - e.dataStart;
  if (length !== 8) return NaN;
  return Number(new DataView(b.buffer, b.byteOffset + e.dataStart, 8).getBigInt64(0));
};

interface TrackEntry {
  number: number;
  type: number;
  codecId: string;
  codecPrivate?: Uint8Array;
  defaultDuration?: number;
  pixelWidth?: number;
  pixelHeight?: number;
  displayWidth?: number;
  displayHeight?: number;
  displayUnit?: number;
  roll?: number;
}

function readTracks(bytes: Uint8Array): TrackEntry[] {
  const tracks: TrackEntry[] = [];
  for (const entry of children(bytes, 0, bytes.length, 'Tracks')) {
    if (entry.id !== ID.TrackEntry) continue;
    const track: TrackEntry = { number: 0, type: 0, codecId: '' };
    for (const field of children(bytes, entry.dataStart, entry.end, 'a TrackEntry')) {
      if (field.id === ID.TrackNumber) track.number = uint(bytes, field);
      else if (field.id === ID.TrackType) track.type = uint(bytes, field);
      else if (field.id === ID.CodecID) track.codecId = text(bytes, field);
      else if (field.id === ID.CodecPrivate) track.codecPrivate = bytes.subarray(field.dataStart, field.end);
      else if (field.id === ID.DefaultDuration) track.defaultDuration = uint(bytes, field);
      else if (field.id === ID.Video) {
        for (const v of children(bytes, field.dataStart, field.end, 'a Video element')) {
          if (v.id === ID.PixelWidth) track.pixelWidth = uint(bytes, v);
          else if (v.id === ID.PixelHeight) track.pixelHeight = uint(bytes, v);
          else if (v.id === ID.DisplayWidth) track.displayWidth = uint(bytes, v);
          else if (v.id === ID.DisplayHeight) track.displayHeight = uint(bytes, v);
          else if (v.id === ID.DisplayUnit) track.displayUnit = uint(bytes, v);
          else if (v.id === ID.Projection) {
            for (const p of children(bytes, v.dataStart, v.end, 'a Projection element')) {
              if (p.id === ID.ProjectionPoseRoll) track.roll = float(bytes, p);
            }
          }
        }
      }
    }
    tracks.push(track);
  }
  return tracks;
}

/** VP9's CodecPrivate: ID (1 profile, 2 level, 3 bit depth, 4 chroma), length, value triples. */
function vp9Private(bytes: Uint8Array | undefined): string | null {
  if (!bytes) return null;
  const features = new Map<number, number>();
  for (let at = 0; at + 2 < bytes.length + 1 && at + 2 + (bytes[at + 1] ?? 0) <= bytes.length; at += 2 + bytes[at + 1]!) {
    if (bytes[at + 1] === 1) features.set(bytes[at]!, bytes[at + 2]!);
  }
  const profile = features.get(1);
  const level = features.get(2);
  const depth = features.get(3);
  return profile === undefined || level === undefined || depth === undefined ? null : vp9Codec(profile, level, depth);
}

/** Bytes of the first Cluster read to find the video track's first frame. */
const FIRST_BLOCK_WINDOW = 4096;

/**
 * The first bytes of `track`'s first frame in the Cluster at `clusterStart` (SimpleBlock or
 * BlockGroup/Block: track number, 2-byte timestamp, flags, then the frame), or null.
 */
async function firstFrame(reader: BoundedReader, clusterStart: number, track: number): Promise<Uint8Array | null> {
  const window = await reader.read(clusterStart, FIRST_BLOCK_WINDOW);
  const cluster = parseElement(window, 0, 0);
  if (!cluster || cluster.id !== ID.Cluster) return null;
  const scan = (start: number, end: number, depth: number): Uint8Array | null => {
    for (let at = start; at + 2 < Math.min(end, window.length); ) {
      const e = parseElement(window, at, at);
      if (!e || e.size === null) return null;
      if (e.id === ID.BlockGroup && depth === 0) {
        const found = scan(e.dataStart, e.dataStart + e.size, 1);
        if (found) return found;
      } else if (e.id === ID.SimpleBlock || e.id === ID.Block) {
        const number = vint(window, e.dataStart, false);
        if (number && number.value === track) return window.subarray(e.dataStart + number.length + 3, e.dataStart + e.size);
      }
      at = e.dataStart + e.size;
    }
    return null;
  };
  return scan(cluster.dataStart, cluster.size === null ? window.length : cluster.dataStart + cluster.size, 0);
}

function codecOf(track: TrackEntry, notes: string[], vp9FromFrame?: string | null): string {
  const p = track.codecPrivate;
  const named = (made: string | null, fallback: string) => {
    if (!made) notes.push(`track ${track.number}: no usable CodecPrivate for ${track.codecId}; reported as ${fallback}`);
    return made ?? fallback;
  };
  switch (track.codecId) {
    case 'V_VP8':
      return 'vp8';
    case 'V_VP9':
      return named(vp9Private(p) ?? vp9FromFrame ?? null, 'vp9');
    case 'V_AV1':
      return named(p ? av1Codec(p) : null, 'av1');
    case 'V_MPEG4/ISO/AVC':
      return named(p ? avcCodec('avc1', p) : null, 'avc1');
    case 'V_MPEGH/ISO/HEVC':
      return named(p ? hevcCodec('hvc1', p) : null, 'hvc1');
    case 'A_OPUS':
      return 'opus';
    case 'A_VORBIS':
      return 'vorbis';
    case 'A_FLAC':
      return 'flac';
    case 'A_AAC':
      return named(p ? aacCodec(p) : null, 'mp4a.40.2');
    default:
      return track.codecId;
  }
}

/** WebM may carry only these (webmproject.org container guidelines). */
const WEBM_CODECS = new Set(['V_VP8', 'V_VP9', 'V_AV1', 'A_VORBIS', 'A_OPUS']);

/** Reads Matroska metadata. Throws ContainerError (rejected) or ReadBudgetExceeded (skipped). */
export async function readMatroska(reader: BoundedReader): Promise<MediaMetadata> {
  const size = reader.size;
  const notes: string[] = [];
  const readMaster = async (element: Element, what: string) => {
    if (element.size === null || element.size > MAX_EBML_MASTER_BYTES) {
      throw corrupt(`the ${what} element says it is ${element.size ?? 'of unknown size'}${element.size === null ? '' : ' bytes'}, more than a real one`);
    }
    if (element.dataStart + element.size > size) throw truncated(`the ${what} element runs past the end of the file: it looks cut off`);
    const bytes = await reader.read(element.dataStart, element.size);
    if (bytes.length < element.size) throw truncated(`the ${what} element is cut off`);
    return bytes;
  };

  const header = await readElement(reader, 0);
  if (header.id !== ID.EBML) throw corrupt('the file does not start with an EBML header');
  const headerBytes = await readMaster(header, 'EBML header');
  let docType = 'matroska'; // the specification's default
  for (const e of children(headerBytes, 0, headerBytes.length, 'the EBML header')) if (e.id === ID.DocType) docType = text(headerBytes, e);
  if (docType !== 'webm' && docType !== 'matroska') throw corrupt(`the EBML DocType is "${docType}", not webm or matroska`);

  const segment = await readElement(reader, header.dataStart + header.size!);
  if (segment.id !== ID.Segment) throw corrupt('no Segment after the EBML header');
  let segmentEnd = size;
  if (segment.size === null) notes.push('the Segment has no size (a live recording): truncation cannot be checked from the header');
  else if (segment.dataStart + segment.size > size) {
    throw truncated(`the Segment says it is ${segment.size} bytes, but the file ends ${segment.dataStart + segment.size - size} bytes before that: it looks cut off`);
  } else segmentEnd = segment.dataStart + segment.size;

  let info: Uint8Array | undefined;
  let tracksBytes: Uint8Array | undefined;
  let firstCluster: number | undefined;
  const seek = new Map<number, number>();
  let at = segment.dataStart;
  for (let n = 0; at < segmentEnd && n < MAX_SEGMENT_CHILDREN; n++) {
    const element = await readElement(reader, at);
    if (element.id === ID.Cluster) {
      firstCluster ??= element.start;
      if (info && tracksBytes) break;
      if (element.size === null) break; // cannot step over it; the SeekHead may still help
    } else if (element.size === null) throw corrupt(`an element of unknown size at byte ${at} that may not have one`);
    const end = element.dataStart + element.size!;
    if (end > size) throw truncated(`the element at byte ${at} says it is ${element.size} bytes, past the end of the file: it looks cut off`);
    if (end > segmentEnd) throw corrupt(`the element at byte ${at} runs past the end of its Segment`);
    if (element.id === ID.Info) info ??= await readMaster(element, 'Info');
    else if (element.id === ID.Tracks) tracksBytes ??= await readMaster(element, 'Tracks');
    else if (element.id === ID.SeekHead && seek.size === 0) {
      const bytes = await readMaster(element, 'SeekHead');
      for (const entry of children(bytes, 0, bytes.length, 'SeekHead')) {
        if (entry.id !== ID.Seek) continue;
        let id = 0;
        let position = -1;
        for (const f of children(bytes, entry.dataStart, entry.end, 'a Seek entry')) {
          if (f.id === ID.SeekID) id = uint(bytes, f);
          else if (f.id === ID.SeekPosition) position = uint(bytes, f);
        }
        if (id && position >= 0) seek.set(id, segment.dataStart + position);
      }
    }
    if (info && tracksBytes && firstCluster !== undefined) break;
    at = end;
  }
  // Info or Tracks after the clusters (allowed, rare): follow the SeekHead.
  let metadataAfterMedia = false;
  for (const [id, what] of [[ID.Info, 'Info'], [ID.Tracks, 'Tracks']] as const) {
    if ((id === ID.Info ? info : tracksBytes) || !seek.has(id)) continue;
    const position = seek.get(id)!;
    if (position >= size) throw truncated(`the SeekHead points ${what} past the end of the file: it looks cut off`);
    const element = await readElement(reader, position);
    if (element.id !== id) throw corrupt(`the SeekHead points ${what} at byte ${position}, where something else is`);
    if (id === ID.Info) info = await readMaster(element, what);
    else tracksBytes = await readMaster(element, what);
    if (firstCluster !== undefined && position > firstCluster) metadataAfterMedia = true;
  }
  if (!tracksBytes) throw truncated('the file has no Tracks element: it is cut off or not a media file');
  const cues = seek.get(ID.Cues);
  if (cues !== undefined && cues >= size) throw truncated('the SeekHead points the Cues past the end of the file: it looks cut off');
  if (firstCluster === undefined && at >= segmentEnd) throw truncated('the file has no media data (no Cluster)');

  let scale = 1_000_000;
  let duration: number | undefined;
  let date: number | undefined;
  if (info) {
    for (const e of children(info, 0, info.length, 'Info')) {
      if (e.id === ID.TimestampScale) scale = uint(info, e) || scale;
      else if (e.id === ID.Duration) duration = float(info, e);
      else if (e.id === ID.DateUTC) date = signed(info, e);
    }
  }

  const tracks = readTracks(tracksBytes);
  if (docType === 'webm') {
    const foreign = tracks.filter((t) => (t.type === 1 || t.type === 2) && !WEBM_CODECS.has(t.codecId));
    if (foreign.length > 0) {
      throw new ContainerError(
        'ERR_TYPE_MISMATCH',
        `the file says it is WebM but carries ${foreign.map((t) => t.codecId).join(', ')}, which WebM does not allow (it is Matroska)`,
      );
    }
  }
  const video = tracks.find((t) => t.type === 1);
  const audio = tracks.find((t) => t.type === 2);
  if (!video && !audio) throw corrupt('the file has no video or audio track');

  // ffmpeg writes no VP9 CodecPrivate: read profile and depth from the first key frame instead.
  let vp9FromFrame: string | null = null;
  if (video?.codecId === 'V_VP9' && !vp9Private(video.codecPrivate) && firstCluster !== undefined && video.pixelWidth && video.pixelHeight) {
    const frame = await firstFrame(reader, firstCluster, video.number);
    const features = frame ? vp9FrameFeatures(frame) : null;
    const fps = video.defaultDuration ? 1e9 / video.defaultDuration : undefined;
    if (features) vp9FromFrame = vp9Codec(features.profile, vp9Level(video.pixelWidth, video.pixelHeight, fps), features.bitDepth);
  }

  const seconds = duration !== undefined && Number.isFinite(duration) && duration > 0 ? (duration * scale) / 1e9 : null;
  if (seconds === null) notes.push('the container records no duration (common for browser recordings)');
  const media: MediaMetadata = {
    container: docType === 'webm' ? 'webm' : 'matroska',
    durationSeconds: seconds === null ? null : Math.round(seconds * 1000) / 1000,
    rotation: 0,
    codecs: [...tracks.filter((t) => t.type === 1), ...tracks.filter((t) => t.type === 2)].map((t) => codecOf(t, notes, t === video ? vp9FromFrame : null)),
    hasVideo: !!video,
    hasAudio: !!audio,
    // Metadata first unless Info or Tracks lie beyond the first Cluster.
    streamable: !metadataAfterMedia,
  };
  if (video) {
    // ProjectionPoseRoll is counter-clockwise; we report clockwise.
    const roll = video.roll !== undefined && Number.isFinite(video.roll) ? (Math.round(-video.roll) + 360) % 360 : 0;
    if (roll % 90 === 0) media.rotation = roll;
    else notes.push(`the projection turns the video by ${roll}°, not a multiple of 90°; reported as 0`);
    // DisplayWidth/Height are pixels only with DisplayUnit 0 (the default).
    const pixels = (video.displayUnit ?? 0) === 0;
    const w = (pixels ? video.displayWidth : undefined) ?? video.pixelWidth;
    const h = (pixels ? video.displayHeight : undefined) ?? video.pixelHeight;
    if (w && h) {
      const turned = media.rotation === 90 || media.rotation === 270;
      media.width = turned ? h : w;
      media.height = turned ? w : h;
    }
    if (video.defaultDuration) media.frameRate = Math.round((1e9 / video.defaultDuration) * 1000) / 1000;
  }
  if (seconds) media.bitrate = Math.round((size * 8) / seconds);
  if (date !== undefined && Number.isFinite(date) && date !== 0) media.createdAt = new Date(EPOCH_2001_MS + date / 1e6).toISOString();
  if (notes.length > 0) media.notes = notes;
  return media;
}
