/**
 * The README as a newcomer uses it: its curl session, pasted into a shell against `wrangler dev`
 * (only BASE changed), ends `ready` with the same bytes served; its error-code lists are exactly
 * the codes the service declares; the keygen advice names the right setting.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_STATUS, REASON_CODES } from '../../src/domain/errors';
import { useDevServer } from '../e2e/use-dev-server';

const root = resolve(import.meta.dirname, '../..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The text of a README section, from its heading to the next heading of the same or a higher level. */
function section(heading: string): string {
  const start = readme.indexOf(`\n${heading}\n`);
  if (start === -1) throw new Error(`README has no "${heading}"`);
  const level = heading.split(' ')[0]!;
  const rest = readme.slice(start + heading.length + 2);
  const next = rest.search(new RegExp(`\\n#{1,${level.length}} `));
  return next === -1 ? rest : rest.slice(0, next);
}

/** Rows of the markdown tables in `text` whose first cell is a code: code → second cell. */
function codeRows(text: string): Map<string, string>[] {
  return text.split(/\n\n+/).filter((block) => block.includes('| `ERR_')).map((block) => {
    const rows = new Map<string, string>();
    for (const match of block.matchAll(/^\| `(ERR_[A-Z0-9_]+)` \| ([^|]+?) \|/gm)) rows.set(match[1]!, match[2]!.trim());
    return rows;
  });
}

describe('README error codes', () => {
  const [statusTable, reasonTable] = codeRows(section('### Error codes'));

  it('lists every HTTP error code with its status, and nothing else', () => {
    expect(Object.fromEntries(statusTable!)).toEqual(Object.fromEntries(Object.entries(ERROR_STATUS).map(([code, status]) => [code, String(status)])));
  });

  it('lists every rejection and failure reason, and nothing else', () => {
    expect(Object.fromEntries(reasonTable!)).toEqual(REASON_CODES);
  });

  it('declares no code that nothing answers', () => {
    const sources: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith('.ts') && !path.endsWith(join('domain', 'errors.ts')) && !path.includes(join('src', 'client'))) sources.push(readFileSync(path, 'utf8'));
      }
    };
    walk(join(root, 'src'));
    const everything = sources.join('\n');
    const unused = [...Object.keys(ERROR_STATUS), ...Object.keys(REASON_CODES)].filter((code) => !everything.includes(code));
    expect(unused).toEqual([]);
  });
});

describe('npm run keygen', () => {
  it('says to retire a key after UPLOAD_TOKEN_TTL_SECONDS (the token lifetime), not the upload TTL', () => {
    const result = spawnSync(process.execPath, [join(root, 'scripts/generate-token-key.mjs')], { encoding: 'utf8' });
    expect(result.stdout).toMatch(/^k\d{8}-[0-9a-f]{6}:[A-Za-z0-9_-]{43}\n$/);
    expect(result.stderr).toContain('UPLOAD_TOKEN_TTL_SECONDS');
    expect(result.stderr).not.toMatch(/\bUPLOAD_TTL_SECONDS/);
  });
});

describe('README curl session', () => {
  const server = useDevServer();

  it('runs as pasted (BASE pointed at wrangler dev) and ends ready with the same bytes', () => {
    const block = /### A session with curl\n\n```sh\n([\s\S]*?)\n```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const script = block!.replace(/^BASE=http:\/\/localhost:8787$/m, `BASE=${server().url}`);
    expect(script).not.toBe(block);
    const dir = mkdtempSync(join(tmpdir(), 'readme-curl-'));
    try {
      const output = execFileSync('bash', ['-c', script], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, PATH: `${join(root, 'node_modules/.bin')}:${process.env.PATH}` },
      });
      const states = [...output.matchAll(/^state: (\w+)$/gm)].map((m) => m[1]);
      expect(states.at(-1), output).toBe('ready');
      const sums = [...output.matchAll(/^([0-9a-f]{64}) {2}(\S+)$/gm)];
      expect(sums.map((m) => m[2])).toEqual(['-', 'demo.pdf']);
      expect(sums[0]![1]).toBe(sums[1]![1]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
