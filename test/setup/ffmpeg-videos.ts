/**
 * @module Real test videos made with Debian's ffmpeg (no binaries committed), and what ffprobe
 * says about them. Node only: used by the container-metadata tests and the workers test setup.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const FFMPEG = process.env.FFMPEG_BIN ?? 'ffmpeg';
const FFPROBE = process.env.FFPROBE_BIN ?? 'ffprobe';

/** Synthetic sources: a test pattern and a tone, small and quick to encode. */
const picture = (size: string, rate: number, seconds: number) => ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${rate}:duration=${seconds}`];
const tone = (seconds: number) => ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`];

/** Named recipes: the ffmpeg arguments between the inputs and the output file. */
export const VIDEO_RECIPES = {
  'h264-aac-faststart.mp4': [...picture('320x240', 25, 2), ...tone(2), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-movflags', '+faststart', '-metadata', 'creation_time=2024-05-06T07:08:09Z'],
  'h264-aac-moov-at-end.mp4': [...picture('320x240', 25, 2), ...tone(2), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac'],
  'h264-rotated.mp4': [...picture('320x240', 30, 1), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-metadata:s:v:0', 'rotate=90'],
  'h264-aac.mov': [...picture('320x240', 24, 2), ...tone(2), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-f', 'mov'],
  'hevc.mp4': [...picture('320x240', 24, 1), '-c:v', 'libx265', '-tag:v', 'hvc1', '-x265-params', 'log-level=error'],
  'av1.mp4': [...picture('320x240', 24, 1), '-c:v', 'libsvtav1', '-preset', '12'],
  'vp9-opus.mp4': [...picture('320x240', 30, 2), ...tone(2), '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-c:a', 'libopus'],
  'vp9-opus.webm': [...picture('320x240', 30, 2), ...tone(2), '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-c:a', 'libopus'],
  'vp9-10bit.webm': [...picture('320x240', 30, 1), '-c:v', 'libvpx-vp9', '-pix_fmt', 'yuv420p10le', '-deadline', 'realtime', '-cpu-used', '8'],
  'vp9-10bit.mp4': [...picture('320x240', 30, 1), '-c:v', 'libvpx-vp9', '-pix_fmt', 'yuv420p10le', '-deadline', 'realtime', '-cpu-used', '8'],
  'av1-opus.webm': [...picture('320x240', 24, 1), ...tone(1), '-c:v', 'libsvtav1', '-preset', '12', '-c:a', 'libopus'],
  'fragmented.mp4': [...picture('320x240', 25, 2), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-g', '25', '-movflags', 'frag_keyframe+empty_moov+default_base_moof'],
  'h264-in-matroska.mkv': [...picture('320x240', 25, 1), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-f', 'matroska'],
  /** Big enough that reading it whole would show: ~2 MB at a high bit rate. */
  'large-moov-at-end.mp4': [...picture('640x360', 30, 4), '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '4M'],
} as const satisfies Record<string, readonly string[]>;

export type VideoName = keyof typeof VIDEO_RECIPES;

/** Encodes every recipe into a fresh directory; returns the bytes by name. */
export async function makeVideos<N extends VideoName>(names: readonly N[]): Promise<Record<N, Uint8Array>> {
  const dir = await mkdtemp(join(tmpdir(), 'videos-'));
  try {
    const out = {} as Record<N, Uint8Array>;
    for (const name of names) {
      const file = join(dir, name);
      try {
        await run(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', ...VIDEO_RECIPES[name], file]);
      } catch (error) {
        throw new Error(`ffmpeg could not make ${name} (install Debian's ffmpeg; .ci/run does): ${(error as Error).message}`);
      }
      out[name] = new Uint8Array(await readFile(file));
    }
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface Probe {
  streams: {
    codec_type: string;
    codec_name: string;
    profile?: string;
    level?: number;
    width?: number;
    height?: number;
    avg_frame_rate: string;
    pix_fmt?: string;
    side_data_list?: { side_data_type: string; rotation?: number }[];
  }[];
  format: { format_name: string; duration?: string; bit_rate?: string; size: string; tags?: Record<string, string> };
}

/** `ffprobe -print_format json -show_streams -show_format` of the bytes. */
export async function ffprobe(bytes: Uint8Array, name: string): Promise<Probe> {
  const dir = await mkdtemp(join(tmpdir(), 'probe-'));
  try {
    const file = join(dir, name);
    await writeFile(file, bytes);
    const { stdout } = await run(FFPROBE, ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', file]);
    return JSON.parse(stdout) as Probe;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
