/**
 * The closing summary every benchmark prints: one row per measured figure, the anchor's figure
 * from the same run (BIRD, GoBGP, the kernel's own limit...), their ratio, the target and
 * whether it was met. `npm test` runs every bench once at its smallest size (smoke mode) and
 * reads the machine-readable line to check the table is there.
 */
import { spawn } from 'node:child_process';

/** Set by `runBenchSmoke`: benches run their smallest size only. */
export const BENCH_SMOKE_ENV = 'TRICOLOR_BENCH_SMOKE';
/** Prefix of the machine-readable copy of the summary (one JSON line). */
export const BENCH_SUMMARY_MARK = 'BENCH-SUMMARY ';

export function benchSmoke(): boolean {
  return process.env[BENCH_SMOKE_ENV] === '1';
}

/**
 * The sizes to run: the smallest one in smoke mode, else `$envName` (comma-separated) when set,
 * else the defaults.
 */
export function benchSizes(defaults: number[], envName?: string): number[] {
  if (benchSmoke()) return [Math.min(...defaults)];
  const fromEnv = envName ? process.env[envName] : undefined;
  if (fromEnv) {
    const sizes = fromEnv.split(',').map((s) => Number(s.trim()));
    if (sizes.some((n) => !Number.isInteger(n) || n <= 0))
      throw new Error(
        `${envName}: expected comma-separated positive integers, got ${JSON.stringify(fromEnv)}`,
      );
    return sizes;
  }
  return defaults;
}

/**
 * A target on the figure itself (`figure <= 4`) or on the ratio to the anchor (`ratio <= 1.5`).
 * Lower-is-better targets use `<=`/`<`, higher-is-better ones `>=`/`>`.
 */
export interface BenchTarget {
  on: 'figure' | 'ratio';
  op: '<=' | '<' | '>=' | '>';
  value: number;
}

export interface BenchRow {
  row: string;
  figure: number;
  unit: string;
  /** The same quantity measured on the anchor in the same run; absent when none applies. */
  anchor?: { name: string; figure: number };
  target?: BenchTarget;
}

export interface JudgedRow extends BenchRow {
  ratio?: number;
  verdict: 'met' | 'missed' | 'no target';
  /** How far from the target, as text ("by 12%"), when missed. */
  by?: string;
}

function holds(x: number, t: BenchTarget): boolean {
  switch (t.op) {
    case '<=':
      return x <= t.value;
    case '<':
      return x < t.value;
    case '>=':
      return x >= t.value;
    case '>':
      return x > t.value;
  }
}

export function judge(r: BenchRow): JudgedRow {
  const ratio = r.anchor && r.anchor.figure !== 0 ? r.figure / r.anchor.figure : undefined;
  if (!r.target) return { ...r, ratio, verdict: 'no target' };
  const x = r.target.on === 'ratio' ? ratio : r.figure;
  if (x === undefined || !Number.isFinite(x))
    return { ...r, ratio, verdict: 'missed', by: 'no anchor figure' };
  if (holds(x, r.target)) return { ...r, ratio, verdict: 'met' };
  const off = r.target.value === 0 ? Math.abs(x) : Math.abs(x - r.target.value) / Math.abs(r.target.value);
  return { ...r, ratio, verdict: 'missed', by: `by ${(off * 100).toFixed(off < 0.1 ? 1 : 0)}%` };
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a !== 0 && (a < 0.01 || a >= 1e7)) return n.toExponential(2);
  return Number.isInteger(n) ? n.toLocaleString('en-US') : n.toFixed(a < 10 ? 2 : a < 100 ? 1 : 0);
}

function targetText(t: BenchTarget | undefined, unit: string): string {
  if (!t) return '—';
  return t.on === 'ratio' ? `ratio ${t.op} ${fmt(t.value)}` : `${t.op} ${fmt(t.value)} ${unit}`;
}

/** The summary as a Markdown table (also fine in a terminal). */
export function formatSummary(title: string, rows: BenchRow[]): string {
  const judged = rows.map(judge);
  const cells = judged.map((r) => [
    r.row,
    `${fmt(r.figure)} ${r.unit}`,
    r.anchor ? `${fmt(r.anchor.figure)} ${r.unit} (${r.anchor.name})` : '—',
    r.ratio === undefined ? '—' : `${r.ratio.toFixed(2)}x`,
    targetText(r.target, r.unit),
    r.verdict === 'missed' ? `missed (${r.by})` : r.verdict,
  ]);
  const head = ['row', 'figure', 'anchor (same run)', 'ratio', 'target', 'result'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    `## ${title}`,
    '',
    line(head),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...cells.map(line),
    '',
  ].join('\n');
}

/**
 * Prints the closing summary: the table, then one machine-readable line. A missed target is
 * reported, never thrown: a bench runs to the end.
 */
export function printSummary(title: string, rows: BenchRow[]): void {
  process.stdout.write(`\n${formatSummary(title, rows)}\n`);
  process.stdout.write(`${BENCH_SUMMARY_MARK}${JSON.stringify({ title, rows: rows.map(judge) })}\n`);
}

export interface SmokeResult {
  code: number;
  stdout: string;
  stderr: string;
  summaries: { title: string; rows: JudgedRow[] }[];
}

/**
 * Runs a compiled bench script once at its smallest size (`TRICOLOR_BENCH_SMOKE=1`) and
 * returns its summaries; the caller asserts on them (exit 0, at least one row per summary).
 */
export function runBenchSmoke(
  script: string,
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; args?: string[] } = {},
): Promise<SmokeResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...(opts.args ?? [])], {
      env: { ...process.env, ...opts.env, [BENCH_SMOKE_ENV]: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const summaries = stdout
        .split('\n')
        .filter((l) => l.startsWith(BENCH_SUMMARY_MARK))
        .map((l) => JSON.parse(l.slice(BENCH_SUMMARY_MARK.length)) as SmokeResult['summaries'][number]);
      resolve({ code: code ?? 1, stdout, stderr, summaries });
    });
  });
}
