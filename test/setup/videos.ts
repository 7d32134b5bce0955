/// <reference path="../provided-context.d.ts" />
/** @module Vitest global setup (runs in Node): makes real test videos with ffmpeg for the workerd tests, with what ffprobe says about each. */
import type { TestProject } from 'vitest/node';
import { ffprobe, makeVideos, type VideoName } from './ffmpeg-videos';

/** The videos the pipeline tests upload. */
const PIPELINE_VIDEOS = ['h264-aac-faststart.mp4', 'h264-aac.mov', 'vp9-opus.webm'] as const satisfies readonly VideoName[];

export default async function setup(project: TestProject): Promise<void> {
  const videos = await makeVideos(PIPELINE_VIDEOS);
  const provided: Record<string, { base64: string; durationSeconds: number; width: number; height: number }> = {};
  for (const name of PIPELINE_VIDEOS) {
    const probe = await ffprobe(videos[name], name);
    const video = probe.streams.find((s) => s.codec_type === 'video')!;
    provided[name] = {
      base64: Buffer.from(videos[name]).toString('base64'),
      durationSeconds: Number(probe.format.duration),
      width: video.width!,
      height: video.height!,
    };
  }
  project.provide('videos', provided);
}
