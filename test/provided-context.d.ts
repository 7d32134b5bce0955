/** Values test/setup/clamd.ts and test/setup/videos.ts (vitest globalSetups, in Node) provide to the workerd tests. */
export {};

declare module 'vitest' {
  export interface ProvidedContext {
    /** TCP port of the test clamd on 127.0.0.1. */
    clamdPort: number;
    /** A port on 127.0.0.1 where nothing listens. */
    closedPort: number;
    /** A port on 127.0.0.1 that accepts connections and never answers. */
    silentPort: number;
    /** The StreamMaxLength the test clamd was started with. */
    clamdStreamMaxLength: number;
    /** A signature the test clamd knows and the built-in scanner does not (text to embed, and its name in clamd's answer). */
    clamdOnlySignature: { text: string; name: string };
    /** Real videos made by ffmpeg (test/setup/videos.ts), with ffprobe's duration and size for each. */
    videos: Record<string, { base64: string; durationSeconds: number; width: number; height: number }>;
  }
}
