// Bundles the client library, the web component, the image worker and the page into public/
// (run by wrangler's [build] step and npm test). With --package (npm run build:client) it also
// builds the package's entry points into dist/: ESM that plain Node and bundler-less pages can
// import (`edge-upload-pipeline/client`, `/element`, `/react`, see package.json `exports`), with
// declarations from tsc. wrangler's step leaves dist/ alone, so a running test never sees it rebuilt.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const common = { bundle: true, format: 'esm', target: 'es2022', sourcemap: true, minify: true, logLevel: 'warning' };

await Promise.all([
  build({ ...common, entryPoints: ['src/client/page/main.ts'], outfile: 'public/app.js' }),
  build({ ...common, entryPoints: ['src/client/index.ts'], outfile: 'public/client/uploader.js' }),
  // <script type="module" src="…/client/upload-dropzone.js"> registers <upload-dropzone>.
  build({ ...common, entryPoints: ['src/client/element/index.ts'], outfile: 'public/client/upload-dropzone.js' }),
  // Loaded by resizeImages from next to the client bundles (elsewhere it resizes on the main thread).
  build({ ...common, entryPoints: ['src/client/resize-worker.ts'], outfile: 'public/client/resize-worker.js' }),
]);

if (process.argv.includes('--package')) {
  rmSync('dist', { recursive: true, force: true });
  await build({
    ...common,
    minify: false,
    platform: 'neutral',
    // One copy of the library shared by the three entry points (an Uploader from /client is the
    // one /element and /react use); every file side by side, so resizeImages finds
    // ./resize-worker.js next to whichever file loads it.
    splitting: true,
    outdir: 'dist',
    entryPoints: {
      client: 'src/client/index.ts',
      element: 'src/client/element/index.ts',
      react: 'src/client/react/index.ts',
      'resize-worker': 'src/client/resize-worker.ts',
    },
    chunkNames: 'chunk-[hash]',
    external: ['react', 'react-dom', 'react/jsx-runtime'],
  });
  const tsc = spawnSync('tsc', ['-p', 'tsconfig.client.json', '--noEmit', 'false', '--declaration', '--emitDeclarationOnly', '--rootDir', 'src', '--outDir', 'dist/types'], { stdio: 'inherit' });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
}
