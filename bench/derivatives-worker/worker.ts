/**
 * Bench-only Worker (see ./wrangler.toml): times the media pipeline's derivative step, i.e.
 * `new PhotonEngine().derive(bytes, readImageInfo(bytes), variants)` with the pipeline's default
 * VARIANTS (or the named subset), inside workerd.
 *
 *   GET  /noop                    200 "ok" (readiness probe, and the round-trip baseline)
 *   PUT  /image?name=N            keeps the request body in this isolate under N → { bytes }
 *   POST /derive?name=N[&variants=a,b]   one derive() of image N, timed here → DeriveTiming
 *   GET  /derivative?name=N&variant=V   the bytes of V from the last derive() of N
 *   POST /spin?n=K                K iterations of pure arithmetic, timed here → { dateMs, perfMs }
 *   GET  /memory                  → { photonMemoryBytes } (WASM memory never shrinks: the peak so far)
 *
 * Images are uploaded once and kept in module state so the timed requests carry no body. No auth:
 * never deploy this.
 */
import { readImageInfo } from '../../src/media/image-info';
import { PhotonEngine, photonMemoryBytes } from '../../src/media/photon-engine';
import { DEFAULT_VARIANTS } from '../../src/media/variants';

export interface DeriveTiming {
  /** Date.now() around derive() (workerd's coarse clock). */
  dateMs: number;
  /** performance.now() around derive(). */
  perfMs: number;
  photonMemoryBytes: number;
  derivatives: { variant: string; width: number; height: number; type: string; bytes: number }[];
}

const images = new Map<string, Uint8Array>();
const outputs = new Map<string, Map<string, Uint8Array>>();
const engine = new PhotonEngine();

const json = (body: unknown, status = 200) => Response.json(body, { status });

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const name = url.searchParams.get('name') ?? '';
    try {
      switch (`${request.method} ${url.pathname}`) {
        case 'PUT /image': {
          const bytes = new Uint8Array(await request.arrayBuffer());
          images.set(name, bytes);
          return json({ bytes: bytes.length });
        }
        case 'POST /derive': {
          const bytes = images.get(name);
          if (!bytes) return json({ error: `no image ${name}` }, 404);
          const info = readImageInfo(bytes);
          if (!info) return json({ error: 'unreadable header' }, 400);
          const names = url.searchParams.get('variants')?.split(',');
          const specs = names ? DEFAULT_VARIANTS.filter((v) => names.includes(v.variant)) : DEFAULT_VARIANTS;
          const date0 = Date.now();
          const perf0 = performance.now();
          const outcome = await engine.derive(bytes, info, specs);
          const perfMs = performance.now() - perf0;
          const dateMs = Date.now() - date0;
          if (!outcome.ok) return json({ error: `skipped: ${outcome.reason}` }, 422);
          outputs.set(name, new Map(outcome.derivatives.map((d) => [d.variant, d.bytes])));
          const timing: DeriveTiming = {
            dateMs,
            perfMs,
            photonMemoryBytes: await photonMemoryBytes(),
            derivatives: outcome.derivatives.map((d) => ({ variant: d.variant, width: d.width, height: d.height, type: d.type, bytes: d.bytes.length })),
          };
          return json(timing);
        }
        case 'GET /derivative': {
          const bytes = outputs.get(name)?.get(url.searchParams.get('variant') ?? '');
          return bytes ? new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-type': 'image/jpeg' } }) : json({ error: 'none' }, 404);
        }
        case 'POST /spin': {
          const n = Number(url.searchParams.get('n') ?? 0);
          const date0 = Date.now();
          const perf0 = performance.now();
          let x = 0;
          for (let i = 0; i < n; i++) x = (x * 1103515245 + 12345 + i) % 2147483647;
          return json({ dateMs: Date.now() - date0, perfMs: performance.now() - perf0, x });
        }
        case 'GET /memory':
          return json({ photonMemoryBytes: await photonMemoryBytes() });
        case 'GET /noop':
          return new Response('ok');
        default:
          return json({ error: 'not found' }, 404);
      }
    } catch (error) {
      return json({ error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }, 500);
    }
  },
};
