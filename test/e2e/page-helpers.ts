/**
 * Helpers for the Chromium tests of the page, the component and the React hooks: holding part
 * PUTs, axe-core scans, the focused element inside shadow roots, the README's examples, and a
 * tiny static site on another origin (what an app embedding the client looks like).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import type { Page, Route } from 'playwright-core';

const root = resolve(import.meta.dirname, '../..');

/**
 * Lets parts 1..`free` through and holds every later part's PUT until `release()`: a way to pause
 * mid-upload at a known point (by part number, since parallel requests arrive in any order).
 */
export async function gateParts(page: Page, free: number) {
  const held: Route[] = [];
  let open = false;
  await page.route('**/api/uploads/*/parts/*', async (route) => {
    const partNumber = Number(new URL(route.request().url()).pathname.split('/').pop());
    if (open || partNumber <= free) return route.continue().catch(() => undefined);
    held.push(route);
  });
  return {
    held,
    async release() {
      open = true;
      for (const route of held.splice(0)) await route.continue().catch(() => undefined);
      await page.unroute('**/api/uploads/*/parts/*').catch(() => undefined);
    },
  };
}

const axeSource = readFileSync(join(root, 'node_modules/axe-core/axe.min.js'), 'utf8');

export interface AxeFinding {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** Runs axe-core (all its default rules, shadow DOM included) and returns the violations. */
export async function axeViolations(page: Page): Promise<AxeFinding[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => JSON.stringify(n.target)) }));
  });
}

/** The focused element, looking through shadow roots: its accessible label or text. */
export function focusedLabel(page: Page): Promise<string> {
  return page.evaluate(() => {
    let active: Element | null = document.activeElement;
    while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
    return active?.getAttribute('aria-label') ?? active?.textContent?.trim() ?? '';
  });
}

/** Presses Tab until the focused element's label is `label` (at most `max` times). */
export async function tabTo(page: Page, label: string, max = 15): Promise<void> {
  for (let i = 0; i < max; i++) {
    if ((await focusedLabel(page)) === label) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached "${label}" (at "${await focusedLabel(page)}")`);
}

/** The code block that follows `<!-- example: name -->` in README.md. */
export function readmeExample(name: string): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const match = new RegExp(`<!-- example: ${name} -->\\s*\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!match) throw new Error(`README.md has no example "${name}"`);
  return match[1]!;
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.map': 'application/json', '.html': 'text/html; charset=utf-8' };

export interface Site {
  origin: string;
  /** Serves `html` at `path`. */
  page(path: string, html: string): void;
  /** Serves a script at `path`. */
  script(path: string, source: string): void;
  close(): Promise<void>;
}

/** A static site on 127.0.0.1 (another origin than the Worker) that serves public/client/ as /client/. */
export async function startSite(): Promise<Site> {
  const pages = new Map<string, { type: string; body: string }>();
  const clientDir = join(root, 'public/client');
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const own = pages.get(path);
    if (own) {
      res.writeHead(200, { 'content-type': own.type });
      return res.end(own.body);
    }
    if (path.startsWith('/client/')) {
      const file = normalize(join(clientDir, path.slice('/client/'.length)));
      if (file.startsWith(clientDir)) {
        try {
          const body = readFileSync(file);
          res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
          return res.end(body);
        } catch {
          // fall through to 404
        }
      }
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    page: (path, html) => pages.set(path, { type: TYPES['.html']!, body: html }),
    script: (path, source) => pages.set(path, { type: TYPES['.js']!, body: source }),
    close: () => new Promise((done) => server.close(() => done())),
  };
}
