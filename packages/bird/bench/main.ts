/**
 * The bird benchmarks, ending with one summary table: a route reflector with many clients
 * (bench/route-reflector.ts) and a full table received and installed into the kernel
 * (bench/full-table.ts), each against BIRD 2 (and GoBGP) in the same run, and kernel drift
 * repair (bench/drift-repair.ts) against a shell loop on netlink events. Needs root,
 * bird, birdc, gobgpd. Sizes: BIRD_BENCH_RR_CLIENTS (default 10,500), BIRD_BENCH_ROUTES
 * (default 10000,1000000), BIRD_BENCH_DRIFT_REPEATS (default 20, 5 in smoke mode); TRICOLOR_BENCH_SMOKE=1
 * runs the smallest of each.
 * Usage: node dist/bench/main.js [rr|full-table|drift]...
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchRow, benchSizes, hasCommand, isRoot, printSummary } from '@tricolor/testkit';
import { driftRows, measureDriftRepair } from './drift-repair.js';
import { fullTableRows, measureFullTable } from './full-table.js';
import { stopAll } from './lib.js';
import { measureReflectors, type ReflectorMode, reflectorRows } from './route-reflector.js';

async function main(): Promise<void> {
  const missing = ['bird', 'birdc', 'gobgpd', 'gobgp', 'ip'].filter((c) => !hasCommand(c));
  if (!isRoot() || missing.length) {
    console.error(`the bird bench needs root and ${missing.join(', ') || 'nothing else'}`);
    process.exit(1);
  }
  const parts = process.argv.slice(2);
  const want = (p: string) => parts.length === 0 || parts.includes(p);
  const rows: BenchRow[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'tb-bench-'));
  try {
    if (want('rr')) {
      const modes = (process.env.BIRD_BENCH_RR_MODES ?? 'waits,connects').split(',') as ReflectorMode[];
      for (const n of benchSizes([10, 500], 'BIRD_BENCH_RR_CLIENTS'))
        for (const mode of modes) rows.push(...reflectorRows(n, mode, await measureReflectors(n, mode, dir)));
    }
    if (want('full-table'))
      for (const n of benchSizes([10_000, 1_000_000], 'BIRD_BENCH_ROUTES'))
        rows.push(...fullTableRows(n, await measureFullTable(n, dir)));
    if (want('drift')) {
      const repeats = Math.max(...benchSizes([5, 20], 'BIRD_BENCH_DRIFT_REPEATS'));
      rows.push(...driftRows(await measureDriftRepair(repeats, dir)));
    }
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
  printSummary('tricolor-bird against BIRD 2 and GoBGP (same run)', rows);
}

void main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
