/**
 * Hostile containers: each is rejected or reported with a reason, within a bounded number of reads
 * and bytes. Files are built box by box here; the sparse source stands in for files of gigabytes.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_READ_BUDGET, type RangeSource } from '../../src/media/bounded-reader';
import { MAX_BOX_DEPTH, MAX_MOOV_BOXES } from '../../src/media/iso-bmff';
import { readVideoMetadata } from '../../src/media/video-metadata';

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
};
const ascii = (s: string) => new Uint8Array([...s].map((c) => c.charCodeAt(0)));
const u32 = (n: number) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const u16 = (n: number) => new Uint8Array([n >>> 8, n & 255]);
const zeros = (n: number) => new Uint8Array(n);
const box = (type: string, ...payload: Uint8Array[]) => {
  const body = concat(...payload);
  return concat(u32(8 + body.length), ascii(type), body);
};
/** A box whose header claims `size` whatever its payload. */
const lyingBox = (type: string, size: number, ...payload: Uint8Array[]) => concat(u32(size), ascii(type), ...payload);
const full = (type: string, version: number, ...payload: Uint8Array[]) => box(type, new Uint8Array([version, 0, 0, 0]), ...payload);

const ftyp = box('ftyp', ascii('isom'), u32(512), ascii('isomiso2avc1mp41'));
const mvhd = (timescale: number, duration: number) => full('mvhd', 0, u32(0), u32(0), u32(timescale), u32(duration), zeros(80));
const identity = concat(u32(0x10000), u32(0), u32(0), u32(0), u32(0x10000), u32(0), u32(0), u32(0), u32(0x40000000));
const tkhd = (width: number, height: number) => full('tkhd', 0, u32(0), u32(0), u32(1), u32(0), u32(0), zeros(8), zeros(8), identity, u32(width << 16), u32(height << 16));
const mdhd = (timescale: number, duration: number) => full('mdhd', 0, u32(0), u32(0), u32(timescale), u32(duration), zeros(4));
const hdlr = (handler: string) => full('hdlr', 0, u32(0), ascii(handler), zeros(12), ascii('x\0'));
const avc1 = box('avc1', zeros(6), u16(1), zeros(16), u16(320), u16(240), zeros(50), box('avcC', new Uint8Array([1, 0x64, 0, 0x1f, 0xff, 0xe0, 0])));
const stsd = full('stsd', 0, u32(1), avc1);
const stsz = (count: number) => full('stsz', 0, u32(100), u32(count));
const stco = (...offsets: number[]) => full('stco', 0, u32(offsets.length), ...offsets.map(u32));
const videoTrak = (duration: number, samples: number, chunk: number) =>
  box('trak', tkhd(320, 240), box('mdia', mdhd(1000, duration), hdlr('vide'), box('minf', box('stbl', stsd, stsz(samples), stco(chunk)))));

/** ftyp, moov, mdat — a well-formed small MP4 with the index first. */
function mp4(moovChildren: Uint8Array[], mdatBytes = 1000): Uint8Array {
  const moov = box('moov', ...moovChildren);
  return concat(ftyp, moov, box('mdat', zeros(mdatBytes)));
}

function counting(bytes: Uint8Array) {
  const seen = { reads: 0, bytes: 0 };
  const source: RangeSource = {
    readRange: async (offset, length) => {
      seen.reads++;
      seen.bytes += Math.min(length, Math.max(0, bytes.length - offset));
      return bytes.slice(offset, offset + length);
    },
  };
  return { source, seen };
}

/** A file of `size` bytes that is all zeros except `parts` at their offsets (no memory for the rest). */
function sparse(size: number, parts: [offset: number, bytes: Uint8Array][]) {
  const seen = { reads: 0, bytes: 0 };
  const source: RangeSource = {
    readRange: async (offset, length) => {
      seen.reads++;
      const out = new Uint8Array(Math.min(length, size - offset));
      seen.bytes += out.length;
      for (const [at, bytes] of parts) {
        const from = Math.max(at, offset);
        const to = Math.min(at + bytes.length, offset + out.length);
        if (from < to) out.set(bytes.subarray(from - at, to - at), from - offset);
      }
      return out;
    },
  };
  return { source, seen, size };
}

async function verdictOf(bytes: Uint8Array, type = 'video/mp4') {
  const { source, seen } = counting(bytes);
  const verdict = await readVideoMetadata(source, bytes.length, type, type);
  return { verdict, seen };
}

const withinBudget = (seen: { reads: number; bytes: number }) => {
  expect(seen.reads).toBeLessThanOrEqual(DEFAULT_READ_BUDGET.maxReads);
  expect(seen.bytes).toBeLessThanOrEqual(DEFAULT_READ_BUDGET.maxBytes);
};

describe('ISO-BMFF under hostile input', () => {
  it('reads the well-formed baseline', async () => {
    const file = mp4([mvhd(1000, 2000), videoTrak(2000, 50, 200)]);
    const { verdict } = await verdictOf(file);
    expect(verdict).toEqual({
      ok: true,
      media: expect.objectContaining({ durationSeconds: 2, width: 320, height: 240, frameRate: 25, codecs: ['avc1.64001F'], streamable: true }),
    });
  });

  it('a moov that claims 4 GB in a small file is truncated, read in a few reads', async () => {
    const file = concat(ftyp, lyingBox('moov', 0xffffff00, mvhd(1000, 2000)));
    const { verdict, seen } = await verdictOf(file);
    expect(verdict).toMatchObject({ ok: false, code: 'ERR_VIDEO_TRUNCATED' });
    expect(seen.reads).toBeLessThanOrEqual(2);
  });

  it('a real 4 GB moov (a 5 GB file) is not walked: kept, with the reason', async () => {
    const moovAt = ftyp.length;
    const moovSize = 4 * 1024 ** 3;
    const file = sparse(moovAt + moovSize + 16, [
      [0, ftyp],
      [moovAt, concat(u32(1), ascii('moov'), u32(1), u32(moovSize - 2 ** 32 + 0))],
      [moovAt + moovSize, concat(u32(16), ascii('mdat'), zeros(8))],
    ]);
    const verdict = await readVideoMetadata(file.source, file.size, 'video/mp4', 'video/mp4');
    expect(verdict).toMatchObject({ ok: true, skipped: expect.stringMatching(/moov index is 4294967296 bytes/) });
    withinBudget(file.seen);
  });

  it('a box that claims more than its parent holds is corrupt', async () => {
    const file = mp4([mvhd(1000, 2000), box('trak', lyingBox('tkhd', 5000, zeros(92)))]);
    const { verdict } = await verdictOf(file);
    expect(verdict).toMatchObject({ ok: false, code: 'ERR_VIDEO_CORRUPT', message: expect.stringMatching(/tkhd box .* past the end of its trak/) });
  });

  it('a box smaller than its own header is corrupt', async () => {
    const file = mp4([mvhd(1000, 2000), concat(u32(4), ascii('trak'))]);
    expect((await verdictOf(file)).verdict).toMatchObject({ ok: false, code: 'ERR_VIDEO_CORRUPT' });
  });

  it('a 64-bit size beyond 2^53 is corrupt', async () => {
    const file = concat(ftyp, u32(1), ascii('moov'), u32(0xffffffff), u32(0xffffffff));
    expect((await verdictOf(file)).verdict).toMatchObject({ ok: false, code: 'ERR_VIDEO_CORRUPT' });
  });

  it('deeply nested boxes stop at the depth limit', async () => {
    let nested = mvhd(1000, 1);
    for (let i = 0; i < MAX_BOX_DEPTH + 20; i++) nested = box('stbl', nested);
    const { verdict, seen } = await verdictOf(mp4([mvhd(1000, 2000), nested]));
    expect(verdict).toMatchObject({ ok: false, code: 'ERR_VIDEO_CORRUPT', message: expect.stringMatching(/nested deeper/) });
    withinBudget(seen);
  });

  it('boxes of size 0 nested in each other ("to the end of the parent", a loop in disguise) stop at the depth limit', async () => {
    const loop = concat(...Array.from({ length: 64 }, () => concat(u32(0), ascii('minf'))));
    const { verdict } = await verdictOf(concat(ftyp, box('moov', mvhd(1000, 2000), box('trak', concat(u32(0), ascii('mdia'), loop)))));
    expect(verdict).toMatchObject({ ok: false, code: 'ERR_VIDEO_CORRUPT', message: expect.stringMatching(/nested deeper/) });
  });

  it('an index of thousands of tiny boxes stops at the box limit', async () => {
    const junk = Array.from({ length: MAX_MOOV_BOXES + 10 }, () => box('free'));
    const { verdict, seen } = await verdictOf(mp4([mvhd(1000, 2000), ...junk]));
    expect(verdict).toMatchObject({ ok: false, code: 'ERR_VIDEO_CORRUPT', message: expect.stringMatching(/more than 4096 boxes/) });
    withinBudget(seen);
  });

  it('a file with media data but no moov is truncated', async () => {
    const { verdict } = await verdictOf(concat(ftyp, box('mdat', zeros(5000))));
    expect(verdict).toMatchObject({ ok: false, code: 'ERR_VIDEO_TRUNCATED', message: expect.stringMatching(/no moov/) });
  });

  it('an index whose samples point past the end of the file is truncated', async () => {
    const file = mp4([mvhd(1000, 2000), videoTrak(2000, 50, 900_000)]);
    expect((await verdictOf(file)).verdict).toMatchObject({ ok: false, code: 'ERR_VIDEO_TRUNCATED', message: expect.stringMatching(/past the end/) });
  });

  it('a chunk table that claims more entries than it holds is corrupt', async () => {
    const lying = full('stco', 0, u32(1_000_000), u32(200));
    const trak = box('trak', tkhd(320, 240), box('mdia', mdhd(1000, 2000), hdlr('vide'), box('minf', box('stbl', stsd, stsz(50), lying))));
    expect((await verdictOf(mp4([mvhd(1000, 2000), trak]))).verdict).toMatchObject({ ok: false, code: 'ERR_VIDEO_CORRUPT' });
  });

  it('zero-duration tracks: ignored with a note when another plays, rejected when none does', async () => {
    const oneGood = await verdictOf(mp4([mvhd(1000, 2000), videoTrak(0, 0, 200), videoTrak(2000, 50, 200)]));
    expect(oneGood.verdict).toMatchObject({ ok: true, media: { durationSeconds: 2, notes: ['track 1 (video) has no duration; ignored'] } });
    const none = await verdictOf(mp4([mvhd(1000, 0), videoTrak(0, 0, 200)]));
    expect(none.verdict).toMatchObject({ ok: false, code: 'ERR_VIDEO_CORRUPT', message: expect.stringMatching(/no video or audio track with any duration/) });
  });

  it('thousands of top-level boxes before the moov exhaust the read budget: kept, with the reason', async () => {
    // Each header 128 KiB apart, so every one costs a read.
    const spacer = box('free', zeros(128 * 1024 - 8));
    const file = concat(ftyp, ...Array.from({ length: 60 }, () => spacer), box('moov', mvhd(1000, 2000), videoTrak(2000, 50, 200)));
    const { verdict, seen } = await verdictOf(file);
    expect(verdict).toMatchObject({ ok: true, skipped: expect.stringMatching(/more than 48 reads/) });
    withinBudget(seen);
  });
});

// EBML: IDs keep their marker bits; sizes are vints.
const ebml = (id: number[], ...payload: Uint8Array[]) => {
  const body = concat(...payload);
  return concat(new Uint8Array(id), size8(body.length), body);
};
/** An 8-byte vint size. */
const size8 = (n: number) => new Uint8Array([0x01, 0, (n / 2 ** 40) & 255, (n / 2 ** 32) & 255, n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const EBML_HEADER = ebml([0x1a, 0x45, 0xdf, 0xa3], ebml([0x42, 0x82], ascii('webm')));
const SEGMENT = [0x18, 0x53, 0x80, 0x67];
/** Info: TimestampScale 1 ms, Duration 2000.0 ticks (2 s). */
const INFO = ebml([0x15, 0x49, 0xa9, 0x66], ebml([0x2a, 0xd7, 0xb1], new Uint8Array([0x0f, 0x42, 0x40])), ebml([0x44, 0x89], new Uint8Array([0x40, 0x9f, 0x40, 0, 0, 0, 0, 0])));
const TRACKS = ebml(
  [0x16, 0x54, 0xae, 0x6b],
  ebml([0xae], ebml([0xd7], new Uint8Array([1])), ebml([0x83], new Uint8Array([1])), ebml([0x86], ascii('V_VP8')), ebml([0xe0], ebml([0xb0], u16(640)), ebml([0xba], u16(480)))),
);
const CLUSTER = ebml([0x1f, 0x43, 0xb6, 0x75], ebml([0xe7], new Uint8Array([0])));

describe('Matroska under hostile input', () => {
  it('reads the well-formed baseline', async () => {
    const file = concat(EBML_HEADER, ebml(SEGMENT, INFO, TRACKS, CLUSTER));
    const { verdict } = await verdictOf(file, 'video/webm');
    expect(verdict).toEqual({ ok: true, media: expect.objectContaining({ container: 'webm', durationSeconds: 2, width: 640, height: 480, codecs: ['vp8'] }) });
  });

  it('a Segment with a huge size is truncated, in a few reads', async () => {
    const huge = concat(new Uint8Array(SEGMENT), new Uint8Array([0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]), INFO, TRACKS, CLUSTER);
    const { verdict, seen } = await verdictOf(concat(EBML_HEADER, huge), 'video/webm');
    expect(verdict).toMatchObject({ ok: false, code: 'ERR_VIDEO_TRUNCATED', message: expect.stringMatching(/Segment says it is/) });
    expect(seen.reads).toBeLessThanOrEqual(2);
  });

  it('a Tracks element of 100 MB in a 200 MB file is refused without reading it', async () => {
    const segmentData = 200 * 1024 * 1024;
    const tracksHeader = concat(new Uint8Array([0x16, 0x54, 0xae, 0x6b]), size8(100 * 1024 * 1024));
    const segment = concat(new Uint8Array(SEGMENT), size8(segmentData), INFO, tracksHeader);
    const file = sparse(EBML_HEADER.length + 12 + segmentData, [[0, concat(EBML_HEADER, segment)]]);
    const verdict = await readVideoMetadata(file.source, file.size, 'video/webm', 'video/webm');
    expect(verdict).toMatchObject({ ok: false, code: 'ERR_VIDEO_CORRUPT', message: expect.stringMatching(/Tracks element says it is 104857600 bytes/) });
    expect(file.seen.bytes).toBeLessThan(1024 * 1024);
  });

  it('an element inside Tracks that claims more than Tracks holds is corrupt', async () => {
    const lying = concat(new Uint8Array([0x16, 0x54, 0xae, 0x6b]), size8(6), new Uint8Array([0xae]), size8(5000).subarray(3));
    const { verdict } = await verdictOf(concat(EBML_HEADER, ebml(SEGMENT, INFO, lying, CLUSTER)), 'video/webm');
    expect(verdict).toMatchObject({ ok: false, code: 'ERR_VIDEO_CORRUPT' });
  });

  it('an unknown size where none is allowed (Info) is corrupt', async () => {
    const unknownInfo = concat(new Uint8Array([0x15, 0x49, 0xa9, 0x66, 0xff]), ebml([0x2a, 0xd7, 0xb1], new Uint8Array([1])));
    const { verdict } = await verdictOf(concat(EBML_HEADER, ebml(SEGMENT, unknownInfo, TRACKS, CLUSTER)), 'video/webm');
    expect(verdict).toMatchObject({ ok: false, code: 'ERR_VIDEO_CORRUPT', message: expect.stringMatching(/unknown size/) });
  });

  it('a live recording (unknown Segment size, no Duration) is read, with notes', async () => {
    const info = ebml([0x15, 0x49, 0xa9, 0x66], ebml([0x2a, 0xd7, 0xb1], new Uint8Array([0x0f, 0x42, 0x40])));
    const live = concat(new Uint8Array(SEGMENT), new Uint8Array([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), info, TRACKS, CLUSTER);
    const { verdict } = await verdictOf(concat(EBML_HEADER, live), 'video/webm');
    expect(verdict).toMatchObject({ ok: true, media: { durationSeconds: null, notes: [expect.stringMatching(/no size/), expect.stringMatching(/no duration/)] } });
  });

  it('a Segment without Tracks is truncated', async () => {
    const { verdict } = await verdictOf(concat(EBML_HEADER, ebml(SEGMENT, INFO)), 'video/webm');
    expect(verdict).toMatchObject({ ok: false, code: 'ERR_VIDEO_TRUNCATED' });
  });
});
