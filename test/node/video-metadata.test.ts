/**
 * Container metadata of real files made by ffmpeg, checked against what ffprobe says about the
 * same bytes, read through the same bounded reader the pipeline uses (never the whole file).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RangeSource } from '../../src/media/bounded-reader';
import { readVideoMetadata, type ContainerVerdict } from '../../src/media/video-metadata';
import type { MediaMetadata } from '../../src/contracts/messages';
import { ffprobe, makeVideos, VIDEO_RECIPES, type Probe, type VideoName } from '../setup/ffmpeg-videos';

let videos: Record<VideoName, Uint8Array>;
beforeAll(async () => {
  videos = await makeVideos(Object.keys(VIDEO_RECIPES) as VideoName[]);
}, 120_000);

/** A source that counts what was asked of it, as R2 would see it. */
function countingSource(bytes: Uint8Array) {
  const seen = { reads: 0, bytes: 0 };
  const source: RangeSource = {
    readRange: async (offset, length) => {
      seen.reads++;
      const slice = bytes.slice(offset, offset + length);
      seen.bytes += slice.length;
      return slice;
    },
  };
  return { source, seen };
}

const typeOf = (name: string) => (name.endsWith('.webm') || name.endsWith('.mkv') ? 'video/webm' : name.endsWith('.mov') ? 'video/quicktime' : 'video/mp4');

async function read(name: VideoName, bytes = videos[name], declared = typeOf(name)): Promise<ContainerVerdict> {
  return readVideoMetadata(countingSource(bytes).source, bytes.length, typeOf(name), declared);
}

async function media(name: VideoName): Promise<MediaMetadata> {
  const verdict = await read(name);
  if (!verdict.ok || !('media' in verdict)) throw new Error(`${name}: ${JSON.stringify(verdict)}`);
  return verdict.media;
}

const H264_PROFILES: Record<string, number> = { Baseline: 66, 'Constrained Baseline': 66, Main: 77, High: 100, 'High 10': 110 };
const fraction = (value: string) => {
  const [n, d] = value.split('/').map(Number);
  return d ? n! / d : NaN;
};
const bitDepth = (pixFmt = '') => (/p10/.test(pixFmt) ? 10 : /p12/.test(pixFmt) ? 12 : 8);

/** What our RFC 6381 string must say, from ffprobe's profile, level and pixel format. */
function expectCodecMatches(codec: string, stream: Probe['streams'][number]): void {
  switch (stream.codec_name) {
    case 'h264': {
      const [, hex] = /^avc1\.([0-9A-F]{6})$/.exec(codec) ?? [];
      expect(hex, codec).toBeDefined();
      expect(parseInt(hex!.slice(0, 2), 16)).toBe(H264_PROFILES[stream.profile!]);
      expect(parseInt(hex!.slice(4, 6), 16)).toBe(stream.level);
      return;
    }
    case 'hevc':
      expect(codec).toMatch(new RegExp(`^hvc1\\.${stream.profile === 'Main' ? 1 : 2}\\.[0-9A-F]+\\.L${stream.level}(\\.[0-9A-F]{1,2})*$`));
      return;
    case 'vp9':
      expect(codec).toMatch(new RegExp(`^vp09\\.0${/Profile (\d)/.exec(stream.profile!)![1]}\\.\\d\\d\\.${String(bitDepth(stream.pix_fmt)).padStart(2, '0')}$`));
      return;
    case 'av1':
      expect(codec).toMatch(new RegExp(`^av01\\.${stream.profile === 'Main' ? 0 : 1}\\.\\d\\d[MH]\\.${String(bitDepth(stream.pix_fmt)).padStart(2, '0')}$`));
      return;
    case 'aac':
      expect(codec).toBe(stream.profile === 'LC' ? 'mp4a.40.2' : codec);
      return;
    case 'opus':
      expect(codec).toBe('opus');
      return;
    default:
      throw new Error(`no expectation for ${stream.codec_name}`);
  }
}

describe('video metadata against ffprobe', () => {
  it.each([
    'h264-aac-faststart.mp4',
    'h264-aac-moov-at-end.mp4',
    'h264-rotated.mp4',
    'h264-aac.mov',
    'hevc.mp4',
    'av1.mp4',
    'vp9-opus.mp4',
    'vp9-opus.webm',
    'vp9-10bit.webm',
    'av1-opus.webm',
  ] as const)('%s', async (name) => {
    const probe = await ffprobe(videos[name], name);
    const ours = await media(name);
    const video = probe.streams.find((s) => s.codec_type === 'video')!;
    const audio = probe.streams.find((s) => s.codec_type === 'audio');

    expect(ours.container).toBe(name.endsWith('.webm') ? 'webm' : name.endsWith('.mov') ? 'quicktime' : 'mp4');
    expect(ours.durationSeconds).toBeCloseTo(Number(probe.format.duration), 1);
    // ffprobe's display-matrix rotation is counter-clockwise; ours is clockwise.
    const ccw = video.side_data_list?.find((d) => d.side_data_type === 'Display Matrix')?.rotation ?? 0;
    expect(ours.rotation).toBe((360 - ccw) % 360);
    const turned = ours.rotation % 180 !== 0;
    expect([ours.width, ours.height]).toEqual(turned ? [video.height, video.width] : [video.width, video.height]);
    expect(ours.frameRate).toBeCloseTo(fraction(video.avg_frame_rate), 2);
    expect(ours.hasVideo).toBe(true);
    expect(ours.hasAudio).toBe(audio !== undefined);
    expect(ours.codecs).toHaveLength(audio ? 2 : 1);
    expectCodecMatches(ours.codecs[0]!, video);
    if (audio) expectCodecMatches(ours.codecs[1]!, audio);
    // ffprobe's bit rate is size × 8 / duration as well.
    expect(Math.abs(ours.bitrate! - Number(probe.format.bit_rate)) / Number(probe.format.bit_rate)).toBeLessThan(0.01);
    if (probe.format.tags?.creation_time) expect(ours.createdAt).toBe(new Date(probe.format.tags.creation_time).toISOString());
    else expect(ours.createdAt).toBeUndefined();
    expect(ours.notes).toBeUndefined();
  });

  it('says whether the metadata comes before the media data', async () => {
    expect((await media('h264-aac-faststart.mp4')).streamable).toBe(true);
    expect((await media('h264-aac-moov-at-end.mp4')).streamable).toBe(false);
    expect((await media('vp9-opus.webm')).streamable).toBe(true);
  });

  it('names the same VP9 level in WebM (from the key frame) as ffmpeg writes in MP4 (vpcC)', async () => {
    expect((await media('vp9-opus.webm')).codecs[0]).toBe((await media('vp9-opus.mp4')).codecs[0]);
    expect((await media('vp9-10bit.webm')).codecs[0]).toBe((await media('vp9-10bit.mp4')).codecs[0]);
    expect((await media('vp9-10bit.webm')).codecs[0]).toMatch(/^vp09\.02\.\d\d\.10$/);
  });

  it('reads a fragmented MP4: duration from its fragments unknown, but codecs and size known', async () => {
    const ours = await media('fragmented.mp4');
    expect(ours).toMatchObject({ container: 'mp4', fragmented: true, streamable: true, width: 320, height: 240, hasVideo: true });
    expect(ours.codecs[0]).toMatch(/^avc1\./);
  });

  it('reads a 2 MB file with the moov at the end in a few small reads, never the whole file', async () => {
    const bytes = videos['large-moov-at-end.mp4'];
    expect(bytes.length).toBeGreaterThan(1_000_000);
    const { source, seen } = countingSource(bytes);
    const verdict = await readVideoMetadata(source, bytes.length, 'video/mp4', 'video/mp4');
    expect(verdict).toMatchObject({ ok: true, media: { width: 640, height: 360, streamable: false } });
    expect(seen.reads).toBeLessThanOrEqual(6);
    expect(seen.bytes).toBeLessThan(bytes.length / 4);
  });

  it.each([
    ['an MP4 cut inside its media data (moov first)', 'h264-aac-faststart.mp4', 0.6],
    ['an MP4 cut before its moov (moov at the end)', 'h264-aac-moov-at-end.mp4', 0.6],
    ['a MOV cut short', 'h264-aac.mov', 0.9],
    ['a WebM cut short', 'vp9-opus.webm', 0.5],
  ] as const)('rejects %s as ERR_VIDEO_TRUNCATED', async (_label, name, keep) => {
    const bytes = videos[name];
    const verdict = await read(name, bytes.subarray(0, Math.floor(bytes.length * keep)));
    expect(verdict).toMatchObject({ ok: false, code: 'ERR_VIDEO_TRUNCATED' });
  });

  it('rejects a container other than the declared type as ERR_TYPE_MISMATCH', async () => {
    // Matroska with H.264 declared as WebM (WebM allows only VP8/VP9/AV1, Vorbis/Opus).
    const mkv = await read('h264-in-matroska.mkv', videos['h264-in-matroska.mkv'], 'video/webm');
    expect(mkv).toMatchObject({ ok: false, code: 'ERR_TYPE_MISMATCH' });
    // A WebM declared as MP4 never gets here (the sniffer sees EBML); an MP4 declared WebM neither.
    const webmAsMkv = await read('vp9-opus.webm', videos['vp9-opus.webm'], 'video/x-matroska');
    expect(webmAsMkv).toMatchObject({ ok: true });
  });
});
