/**
 * @module A throwaway app that depends on this package (node_modules/edge-upload-pipeline is a
 * symlink to the repository, so imports go through package.json `exports` as an app's would),
 * and esbuild bundling its entry for the browser, as the framework tests (React, Vue, Svelte) need.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, type BuildOptions } from 'esbuild';

const root = resolve(import.meta.dirname, '../..');

export interface AppDir {
  dir: string;
  /** Writes `source` to `name` in the app and bundles it (ESM, browser, dependencies resolved from the repo). */
  bundle(name: string, source: string, options?: BuildOptions): Promise<string>;
  /** Writes a file into the app (e.g. a component the test compiled) and returns its path. */
  write(name: string, source: string | Buffer): string;
  remove(): void;
}

export function appDir(prefix: string): AppDir {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules/edge-upload-pipeline'), 'dir');
  const write = (name: string, source: string | Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, source);
    return path;
  };
  return {
    dir,
    write,
    async bundle(name, source, options = {}) {
      const result = await build({
        entryPoints: [write(name, source)],
        bundle: true,
        write: false,
        format: 'esm',
        platform: 'browser',
        target: 'es2022',
        nodePaths: [join(root, 'node_modules')],
        logLevel: 'warning',
        ...options,
      });
      return result.outputFiles![0]!.text;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
