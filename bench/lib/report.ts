/** The printed tables, the ratios, bench/results/latest.json and the self-contained SVG chart. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import type { BenchResults, CaseResult } from './results';
import { GiB, MiB, type Summary } from './stats';

// ---- formatting --------------------------------------------------------------------------------

function num(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  const d = abs >= 1000 ? 0 : abs >= 100 ? Math.min(digits, 0) : digits;
  return value.toFixed(d);
}

/** "median (min–max)", or the value alone for one run. */
function cell(summary: Summary | undefined, digits = 1): string {
  if (!summary || summary.n === 0) return '–';
  if (summary.n === 1 || summary.min === summary.max) return num(summary.median, digits);
  return `${num(summary.median, digits)} (${num(summary.min, digits)}–${num(summary.max, digits)})`;
}

const med = (row: CaseResult | undefined, key: string): number => row?.summary[key]?.median ?? Number.NaN;
const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : Number.NaN);
const x = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : '–');
const sizeLabel = (bytes: number) => (bytes >= GiB && bytes % GiB === 0 ? `${bytes / GiB} GiB` : `${+(bytes / MiB).toFixed(1)} MiB`);

function table(headers: string[], rows: string[][], leftColumns = 1): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

// ---- ratios ------------------------------------------------------------------------------------

function rowsOf(cases: CaseResult[]) {
  const ceiling = cases.find((c) => c.id === 'ceiling-put');
  const routed = cases.find((c) => c.id === 'ceiling-put-assets');
  const tus = cases.find((c) => c.id === 'tus');
  const ours = cases.filter((c) => c.kind === 'ours');
  const best = [...ours].sort((a, b) => med(b, 'mbps') - med(a, 'mbps'))[0];
  return { ceiling, routed, tus, ours, best, mpu: cases.filter((c) => c.kind === 'ceiling-mpu') };
}

export function ratiosOf(cases: CaseResult[]): BenchResults['ratios'] {
  const { ceiling, routed, tus, ours, best, mpu } = rowsOf(cases);
  const out: BenchResults['ratios'] = [];
  const add = (name: string, value: number, note: string) => Number.isFinite(value) && out.push({ name, value, note });
  const byDefault = ours.find((c) => c.id === 'ours-8-c4');
  for (const [label, row] of [
    ['best setting', best],
    ['8 MiB × 4', byDefault],
  ] as const) {
    if (!row) continue;
    add(`ours (${label}: ${row.label.replace('ours: ', '')}) / ceiling put(), throughput`, ratio(med(row, 'mbps'), med(ceiling, 'mbps')), 'goal ≥ 0.90');
    add(`ours (${label}) / ceiling put(), workerd CPU per GiB`, ratio(med(row, 'serverCpuPerGiB'), med(ceiling, 'serverCpuPerGiB')), 'lower is better; 1.00 = no overhead');
    add(`ours (${label}) / @tus/server, throughput`, ratio(med(row, 'mbps'), med(tus, 'mbps')), '');
    // The same comparison with the local-only assets router in front of both sides.
    add(`ours (${label}) / ceiling put() behind the assets router, throughput`, ratio(med(row, 'mbps'), med(routed, 'mbps')), 'goal ≥ 0.90, like for like');
    add(`ours (${label}) / ceiling put() behind the assets router, workerd CPU per GiB`, ratio(med(row, 'serverCpuPerGiB'), med(routed, 'serverCpuPerGiB')), 'goal ≤ 1.10, like for like');
  }
  for (const row of mpu) {
    const same = ours.find((c) => c.params.partSize === row.params.partSize && c.params.concurrency === row.params.concurrency);
    if (same) {
      add(`ours / ${row.label}, throughput`, ratio(med(same, 'mbps'), med(row, 'mbps')), 'our session, auth and routing on top of bare multipart');
      add(`ours / ${row.label}, workerd CPU per GiB`, ratio(med(same, 'serverCpuPerGiB'), med(row, 'serverCpuPerGiB')), '');
    }
  }
  add('ceiling put() / @tus/server, throughput', ratio(med(ceiling, 'mbps'), med(tus, 'mbps')), 'the local emulator vs a plain Node file store');
  const memory = cases.filter((c) => c.kind === 'memory').sort((a, b) => (a.size ?? 0) - (b.size ?? 0));
  if (memory.length >= 2) {
    const first = memory[0]!;
    const last = memory.at(-1)!;
    add(
      `runtime workerd peak RSS, ${sizeLabel(last.size!)} / ${sizeLabel(first.size!)}`,
      ratio(med(last, 'runtimePeakMiB'), med(first, 'runtimePeakMiB')),
      `file ${(last.size! / first.size!).toFixed(0)}× larger; flat = 1.00`,
    );
  }
  return out;
}

// ---- the printed report ------------------------------------------------------------------------

export function printReport(results: BenchResults): void {
  const { cases, meta } = results;
  const { ceiling, tus } = rowsOf(cases);
  const o = meta.options as { size: number; runs: number };
  const print = (s = '') => console.log(s);
  print();
  print(`Machine: ${meta.machine.cpu}, ${meta.machine.cores} cores, ${meta.machine.memoryGiB} GiB, Linux ${meta.machine.kernel}`);
  print(`Node ${meta.node}, wrangler ${meta.wrangler}, @tus/server ${meta.tusServer}; ${meta.date}; took ${meta.durationSeconds} s`);
  print(`Each cell: median (min–max) over ${o.runs} run(s). MB/s = 10^6 bytes/s. CPU = utime+stime from /proc/<pid>/stat.`);
  const background = cases.flatMap((c) => c.runs.map((r) => r.backgroundCores ?? Number.NaN)).filter(Number.isFinite);
  if (background.length) {
    const worst = Math.max(...background);
    print(
      `Other processes on the machine used ${num(background.sort((a, b) => a - b)[background.length >> 1]!, 2)} cores (median; worst ${num(worst, 2)}) during the measurements${worst > 0.25 ? ' — NOISY: rerun on a quiet machine' : ''}.`,
    );
  }

  const throughput = cases.filter((c) => ['ceiling', 'ceiling-mpu', 'ours', 'tus'].includes(c.kind));
  if (throughput.length) {
    print();
    print(`1–3. Throughput and cost, ${sizeLabel(o.size)} file (server = both workerd processes of wrangler dev; tus = its Node process)`);
    print('     MB/s and server CPU: until the bytes are stored (ours: last part’s 200); "to ready": assembly, validation and scan included');
    print(
      table(
        ['case', 'MB/s', '×ceiling', '×tus', 'to ready s', 'part ms p50/p95/p99', 'server peak MiB', 'server CPU s/GiB', 'CPU ×ceiling', 'to ready CPU s/GiB', 'client CPU s/GiB', 'errors', 'others cores'],
        throughput.map((row) => [
          row.label,
          cell(row.summary.mbps),
          x(ratio(med(row, 'mbps'), med(ceiling, 'mbps'))),
          x(ratio(med(row, 'mbps'), med(tus, 'mbps'))),
          cell(row.summary.readySeconds, 2),
          ['partP50', 'partP95', 'partP99'].map((k) => num(med(row, k), 0)).join('/'),
          cell(row.summary.serverPeakMiB, 0),
          cell(row.summary.serverCpuPerGiB, 2),
          x(ratio(med(row, 'serverCpuPerGiB'), med(ceiling, 'serverCpuPerGiB'))),
          cell(row.summary.serverTotalCpuPerGiB, 2),
          cell(row.summary.clientCpuPerGiB, 2),
          row.summary.partErrors ? num(row.runs.reduce((s, r) => s + (r.partErrors ?? 0), 0), 0) : '–',
          num(row.summary.backgroundCores?.max ?? Number.NaN, 2),
        ]),
      ),
    );
    const split = throughput.filter((row) => row.summary.runtimeCpuPerGiB);
    if (split.length) {
      print();
      print('   workerd split: the Worker’s runtime vs wrangler’s proxy in front of it (medians)');
      print(
        table(
          ['case', 'runtime CPU s/GiB', 'proxy CPU s/GiB', 'runtime peak MiB', 'runtime growth MiB'],
          split.map((row) => [row.label, num(med(row, 'runtimeCpuPerGiB'), 2), num(med(row, 'proxyCpuPerGiB'), 2), num(med(row, 'runtimePeakMiB'), 0), num(med(row, 'runtimeGrowthMiB'), 0)]),
        ),
      );
    }
  }

  const memory = cases.filter((c) => c.kind === 'memory').sort((a, b) => (a.size ?? 0) - (b.size ?? 0));
  if (memory.length) {
    print();
    print('4. Memory scaling: default settings (server’s default part size, adaptive concurrency), fresh server');
    print(
      table(
        ['file', 'MB/s', 'workerd peak MiB', 'runtime before MiB', 'runtime peak: transfer', 'to ready', 'growth MiB', 'CPU s/GiB', 'to ready CPU s/GiB', 'progress msgs'],
        memory.map((row) => [
          sizeLabel(row.size!),
          cell(row.summary.mbps),
          cell(row.summary.serverPeakMiB, 0),
          cell(row.summary.runtimeBaselineMiB, 0),
          cell(row.summary.runtimeTransferPeakMiB, 0),
          cell(row.summary.runtimePeakMiB, 0),
          cell(row.summary.runtimeGrowthMiB, 0),
          cell(row.summary.serverCpuPerGiB, 2),
          cell(row.summary.serverTotalCpuPerGiB, 2),
          cell(row.summary.progressMessages, 0),
        ]),
      ),
    );
    const first = memory[0]!;
    const last = memory.at(-1)!;
    if (first !== last) {
      const growth = med(last, 'runtimePeakMiB') - med(first, 'runtimePeakMiB');
      const total = med(last, 'serverPeakMiB') - med(first, 'serverPeakMiB');
      print(
        `   growth ${sizeLabel(first.size!)} → ${sizeLabel(last.size!)} (${(last.size! / first.size!).toFixed(0)}× the bytes): runtime peak ${growth >= 0 ? '+' : ''}${num(growth, 0)} MiB, both workerd ${total >= 0 ? '+' : ''}${num(total, 0)} MiB`,
      );
    }
  }

  const flat = cases.filter((c) => c.kind === 'flat');
  if (flat.length) {
    print();
    print('4b. Memory across uploads (issue 17 item 2): the runtime workerd on a fresh server, uploads one after another');
    print('    ceiling = put() + read back and SHA-256 (the work our processing does) + delete; ours = our client, defaults, to ready, then DELETE');
    print(
      table(
        ['server', 'uploads', 'RSS before the first MiB', 'RSS after each (settled) MiB', 'after last / before first', 'peak MiB (median)'],
        flat.map((row) => {
          const start = row.runs[0]?.rssBeforeMiB ?? Number.NaN;
          const end = row.runs.at(-1)?.rssAfterMiB ?? Number.NaN;
          return [
            row.label,
            String(row.runs.length),
            num(start, 0),
            row.runs.map((r) => num(r.rssAfterMiB!, 0)).join(' '),
            x(end / start),
            cell(row.summary.peakMiB, 0),
          ];
        }),
      ),
    );
    const byId = (id: string) => flat.find((c) => c.id === id);
    const growth = (row: CaseResult | undefined) => (row ? (row.runs.at(-1)!.rssAfterMiB! / row.runs[0]!.rssBeforeMiB!) : Number.NaN);
    print(
      `   goal: ours' peak ≤ 1.2× the ceiling's: ${x(ratio(med(byId('flat-ours'), 'peakMiB'), med(byId('flat-ceiling'), 'peakMiB')))} at ${byId('flat-ours')?.size ? sizeLabel(byId('flat-ours')!.size!) : '–'}, ` +
        `${x(ratio(med(byId('flat-ours-1GiB'), 'peakMiB'), med(byId('flat-ceiling-1GiB'), 'peakMiB')))} at 1 GiB; ` +
        `RSS after the last upload within 10 % of before the first: ours ${x(growth(byId('flat-ours')))}, ceiling ${x(growth(byId('flat-ceiling')))}`,
    );
  }

  const progress = cases.filter((c) => c.summary.progressP50 && c.kind !== 'idle');
  if (progress.length) {
    print();
    print('5. Progress latency: a part’s 200 at the client → the progress event covering it at a second WebSocket subscriber');
    print(
      table(
        ['upload', 'p50 ms', 'p99 ms', 'progress msgs', 'msgs per part', 'msgs/s'],
        progress.map((row) => {
          const parts = Math.ceil((row.size ?? 0) / Number(row.params.partSize || 8 * MiB));
          return [
            row.label,
            cell(row.summary.progressP50, 0),
            cell(row.summary.progressP99, 0),
            cell(row.summary.progressMessages, 0),
            num(med(row, 'progressMessages') / parts, 2),
            num(med(row, 'progressMessages') / med(row, 'readySeconds'), 1),
          ];
        }),
      ),
    );
  }

  const creates = cases.filter((c) => c.kind === 'create');
  if (creates.length) {
    print();
    print('6. Create latency: POST /api/uploads (Durable Object + R2 multipart + alarm each), beside the floor of any request here');
    print(
      table(
        ['target', 'callers', 'requests/run', 'p50 ms', 'p99 ms', 'per second', 'failed', 'workerd CPU s'],
        creates.map((row) => [
          String(row.params.target ?? 'ours: POST /api/uploads'),
          String(row.params.callers),
          String(row.params.requests),
          cell(row.summary.createP50, 1),
          cell(row.summary.createP99, 1),
          cell(row.summary.createPerSecond, 0),
          num(row.runs.reduce((s, r) => s + (r.createErrors ?? 0), 0), 0),
          cell(row.summary.serverCpuSeconds, 2),
        ]),
        0,
      ),
    );
    // Issue 17 item 1's two numbers, for ours and for each floor: a floor that misses them shows
    // what no create can do on this machine.
    for (const target of [...new Set(creates.map((c) => String(c.params.target ?? 'ours: POST /api/uploads')))]) {
      const rows = creates.filter((c) => String(c.params.target ?? 'ours: POST /api/uploads') === target);
      const one = rows.find((c) => c.params.callers === 1)?.summary.createP50?.median;
      const many = rows.find((c) => c.params.callers === 32)?.summary;
      if (one && many?.createP50 && many.createPerSecond) {
        print(`   ${target}: 32-caller p50 ${num(many.createP50.median / one, 1)}× the 1-caller p50 (goal ≤ 3×); ${num(many.createPerSecond.median, 0)}/s with 32 callers (goal ≥ 300)`);
      }
    }
  }

  const idle = cases.filter((c) => c.kind === 'idle');
  if (idle.length) {
    print();
    print('6b. Progress when quiet: one 5 MiB part after ≥ 1.2 s of silence, its 200 → the progress event at a WebSocket subscriber');
    print(
      table(
        ['parts/run', 'p50 ms', 'p99 ms', 'goal'],
        idle.map((row) => [String(row.params.parts), cell(row.summary.progressP50, 1), cell(row.summary.progressP99, 1), 'p50 ≤ 10, p99 ≤ 50']),
        0,
      ),
    );
  }

  const rtt = cases.filter((c) => c.kind === 'rtt');
  if (rtt.length) {
    print();
    print('6c. Round trips: the client with 150 ms added before every request (fetch wrapper), native vs direct-to-R2');
    print(
      table(
        ['upload', 'mode', 'to ready s', 'requests', 'per file'],
        rtt.map((row) => [String(row.params.files), String(row.params.mode), cell(row.summary.rttToReady, 2), cell(row.summary.rttRequests, 0), cell(row.summary.rttPerFile, 1)]),
        0,
      ),
    );
  }

  const profiles = cases.filter((c) => c.kind === 'profile');
  if (profiles.length) {
    const keys = ['client', 'outside', 'worker', 'rl', 'begin', 'r2', 'commit', 'do', 'rest'];
    print();
    print('7. Where a part’s time goes: mean ms per part (medians over runs), the Worker with timed bindings');
    print('   client = send → 200 at the client; outside = client − worker (wrangler’s proxy, loopback, client);');
    print('   worker = inside the Worker: rl rate limiter, begin/commit session RPCs, do other DO RPCs, r2 uploadPart (receiving +');
    print('   storing the body), rest = worker − named steps (routing, auth, JSON; workerd’s clock stands still during pure CPU)');
    print(
      table(
        ['setting', 'MB/s', ...keys],
        profiles.map((row) => [row.label.replace('ours, timed bindings: ', ''), cell(row.summary.mbps), ...keys.map((k) => num(med(row, `profile.${k}`), 1))]),
      ),
    );
    const processing = profiles.filter((row) => row.summary['processing.queue']);
    if (processing.length) {
      const names = [...new Set(processing.flatMap((row) => Object.keys(row.summary)).filter((k) => k.startsWith('processing.')))]
        .map((k) => k.slice('processing.'.length))
        .sort((a, b) => (a === 'queue' ? -1 : b === 'queue' ? 1 : a === 'rest' ? 1 : b === 'rest' ? -1 : a.localeCompare(b)));
      print();
      print(`   After the last part: the processing consumer (validation, SHA-256, scan, dedupe) per ${sizeLabel(o.size)} upload, ms;`);
      print('   queue = the whole batch, named = calls until their answer, rest = reading the object’s body and the JS around it');
      print(table(['setting', ...names], processing.map((row) => [row.label.replace('ours, timed bindings: ', ''), ...names.map((k) => num(med(row, `processing.${k}`), 0))])));
    }
  }

  if (results.ratios.length) {
    print();
    print('Ratios (medians)');
    print(table(['', 'ratio', ''], results.ratios.map((r) => [r.name, x(r.value), r.note])));
  }
  if (results.warnings.length) {
    print();
    print('Warnings');
    for (const w of results.warnings) print(`  ${w}`);
  }
}

export function writeJson(results: BenchResults, path: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(results, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
  return relative(process.cwd(), path) || path;
}

// ---- the chart ---------------------------------------------------------------------------------

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Bar {
  label: string;
  summary: Summary | undefined;
  color: string;
}

const COLORS: Record<string, string> = {
  ceiling: '#6b7280',
  'ceiling-mpu': '#9ca3af',
  ours: '#f38020',
  tus: '#2563eb',
  memory: '#f38020',
};

/** One panel of horizontal bars (median) with min–max whiskers. */
function panel(title: string, unit: string, bars: Bar[], top: number, width: number, refs: { value: number; label: string }[] = []): { svg: string; height: number } {
  const labelWidth = 250;
  const barArea = width - labelWidth - 90;
  const rowHeight = 22;
  const max = Math.max(1e-9, ...bars.map((b) => (b.summary && Number.isFinite(b.summary.max) ? b.summary.max : 0)));
  const scale = (v: number) => (v / max) * barArea;
  const parts = [`<text x="10" y="${top + 16}" class="title">${esc(title)}</text>`];
  for (const ref of refs.filter((r) => Number.isFinite(r.value))) {
    const rx = labelWidth + scale(ref.value);
    parts.push(`<path d="M${rx.toFixed(1)},${top + 24}V${top + 28 + bars.length * rowHeight}" class="ref"/>`);
    parts.push(`<text x="${rx.toFixed(1)}" y="${top + 28 + bars.length * rowHeight + 11}" class="meta" text-anchor="middle">${esc(ref.label)}</text>`);
  }
  bars.forEach((bar, i) => {
    const y = top + 28 + i * rowHeight;
    const s = bar.summary;
    parts.push(`<text x="${labelWidth - 8}" y="${y + 14}" class="label" text-anchor="end">${esc(bar.label)}</text>`);
    if (!s || !Number.isFinite(s.median)) return;
    parts.push(`<rect x="${labelWidth}" y="${y + 3}" width="${scale(s.median).toFixed(1)}" height="${rowHeight - 8}" fill="${bar.color}"><title>${esc(`${bar.label}: ${num(s.median, 2)} ${unit} (min ${num(s.min, 2)}, max ${num(s.max, 2)}, n=${s.n})`)}</title></rect>`);
    if (s.n > 1 && s.max > s.min) {
      const cy = y + rowHeight / 2 - 1;
      parts.push(
        `<path d="M${labelWidth + scale(s.min)},${cy}H${labelWidth + scale(s.max)}M${labelWidth + scale(s.min)},${cy - 4}v8M${labelWidth + scale(s.max)},${cy - 4}v8" class="whisker"/>`,
      );
    }
    parts.push(`<text x="${labelWidth + scale(Math.max(s.median, s.max)) + 6}" y="${y + 14}" class="value">${esc(num(s.median, 1))} ${esc(unit)}</text>`);
  });
  return { svg: parts.join('\n'), height: 28 + bars.length * rowHeight + (refs.length ? 26 : 16) };
}

export function writeChart(results: BenchResults, path: string): string {
  const width = 760;
  const throughput = results.cases.filter((c) => ['ceiling', 'ceiling-mpu', 'ours', 'tus'].includes(c.kind));
  const memory = results.cases.filter((c) => c.kind === 'memory').sort((a, b) => (a.size ?? 0) - (b.size ?? 0));
  const o = results.meta.options as { size: number; runs: number };
  const ceilingMbps = throughput.find((c) => c.id === 'ceiling-put')?.summary.mbps?.median ?? Number.NaN;
  const panels: [string, string, Bar[], { value: number; label: string }[]?][] = [
    [`Throughput, ${sizeLabel(o.size)} file (median, min–max)`, 'MB/s', throughput.map((c) => ({ label: c.label, summary: c.summary.mbps, color: COLORS[c.kind]! })), [{ value: 0.9 * ceilingMbps, label: '90 % of put()' }]],
    ['Server CPU per GiB uploaded (workerd; tus: its Node process)', 's/GiB', throughput.map((c) => ({ label: c.label, summary: c.summary.serverCpuPerGiB, color: COLORS[c.kind]! }))],
    ['Peak RSS of the Worker’s workerd by file size (defaults)', 'MiB', memory.map((c) => ({ label: c.label.replace('ours, defaults: ', 'ours, '), summary: c.summary.runtimePeakMiB, color: COLORS.memory! }))],
  ];
  let y = 44;
  const body: string[] = [];
  for (const [title, unit, bars, refs] of panels) {
    if (bars.length === 0) continue;
    const p = panel(title, unit, bars, y, width, refs);
    body.push(p.svg);
    y += p.height;
  }
  const m = results.meta;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" viewBox="0 0 ${width} ${y + 10}" font-family="system-ui, sans-serif">
<style>
  .title { font-size: 14px; font-weight: 600; fill: #111827 }
  .label { font-size: 12px; fill: #374151 }
  .value { font-size: 11px; fill: #374151 }
  .whisker { stroke: #111827; stroke-width: 1.2; fill: none }
  .meta { font-size: 11px; fill: #6b7280 }
  .ref { stroke: #6b7280; stroke-width: 1; stroke-dasharray: 4 3 }
</style>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="10" y="20" class="title">Upload benchmarks: ours vs the runtime ceiling vs @tus/server</text>
<text x="10" y="36" class="meta">${esc(`${m.machine.cpu}, ${m.machine.cores} cores · Node ${m.node} · wrangler ${m.wrangler} · ${m.date.slice(0, 16).replace('T', ' ')} · ${o.runs} run(s)`)}</text>
${body.join('\n')}
</svg>
`;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, svg);
  return relative(process.cwd(), path) || path;
}
