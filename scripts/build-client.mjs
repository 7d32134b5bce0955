// Bundles the client library and the page into public/ (run by wrangler's [build] step and npm test).
import { build } from 'esbuild';

const common = { bundle: true, format: 'esm', target: 'es2022', sourcemap: true, minify: true, logLevel: 'warning' };

await Promise.all([
  build({ ...common, entryPoints: ['src/client/page/main.ts'], outfile: 'public/app.js' }),
  build({ ...common, entryPoints: ['src/client/index.ts'], outfile: 'public/client/uploader.js' }),
]);
