// Bundles the client library, the web component, the image worker and the page into public/
// (run by wrangler's [build] step and npm test).
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
