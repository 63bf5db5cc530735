#!/usr/bin/env node
/**
 * npm run chaos -- [--minutes N] [--nodes K] [--seed S] [--pods-per-node M] [--report FILE]
 *
 * Runs the chaos run (run.ts), prints the report as a table, writes it as JSON, and exits 0
 * when every budget is met, 1 when one is missed (the seed to replay it is printed), 2 on a
 * usage or setup error.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { isRoot } from '@tricolor/testkit';
import { REPO_ROOT } from '../paths.js';
import { freshSeed } from './random.js';
import { formatReport, replayCommand } from './report.js';
import { runChaos } from './run.js';
import { FAULT_KINDS, type FaultKind } from './schedule.js';

const USAGE =
  'usage: npm run chaos -- [--minutes N (2)] [--nodes K (3)] [--seed S] [--pods-per-node M (2)] [--faults KIND,…] [--report FILE]\n' +
  `fault kinds: ${FAULT_KINDS.join(', ')}\n`;

function positiveInt(name: string, v: string, max: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > max)
    throw new Error(`--${name}: ${JSON.stringify(v)} is not a whole number from 1 to ${max}`);
  return n;
}

async function main(): Promise<number> {
  let opts: {
    minutes: number;
    nodes: number;
    seed: number;
    podsPerNode: number;
    kinds?: FaultKind[];
    report: string;
  };
  try {
    const { values } = parseArgs({
      options: {
        minutes: { type: 'string', default: '2' },
        nodes: { type: 'string', default: '3' },
        seed: { type: 'string' },
        'pods-per-node': { type: 'string', default: '2' },
        report: { type: 'string' },
        faults: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    const seed = values.seed === undefined ? freshSeed() : Number(values.seed);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
      throw new Error(`--seed: ${JSON.stringify(values.seed)} is not a whole number from 0 to 4294967295`);
    const kinds = values.faults?.split(',').map((k) => k.trim()) as FaultKind[] | undefined;
    for (const k of kinds ?? [])
      if (!(FAULT_KINDS as readonly string[]).includes(k))
        throw new Error(`--faults: ${JSON.stringify(k)} is not a fault kind`);
    opts = {
      kinds,
      minutes: positiveInt('minutes', values.minutes!, 24 * 60),
      nodes: positiveInt('nodes', values.nodes!, 20),
      podsPerNode: positiveInt('pods-per-node', values['pods-per-node']!, 20),
      seed,
      report: values.report ?? join(REPO_ROOT, '.tricolor-run', 'chaos', `report-${seed}.json`),
    };
    if (opts.nodes < 2) throw new Error('--nodes: at least 2 (faults need other nodes to probe across)');
  } catch (e) {
    process.stderr.write(`chaos: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!isRoot()) {
    process.stderr.write('chaos: must run as root (network namespaces, routes, iptables)\n');
    return 2;
  }
  const log = (l: string) => process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${l}\n`);
  log(`chaos: seed ${opts.seed} (replay: ${replayCommand(opts)})`);
  let report: Awaited<ReturnType<typeof runChaos>>;
  try {
    report = await runChaos({ ...opts, log, logDir: join(dirname(opts.report), `logs-${opts.seed}`) });
  } catch (e) {
    process.stderr.write(`chaos: ${(e as Error).stack}\nchaos: seed ${opts.seed}\n`);
    return 2;
  }
  mkdirSync(dirname(opts.report), { recursive: true });
  writeFileSync(opts.report, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${formatReport(report)}\nreport: ${opts.report}\n`);
  return report.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`chaos: ${(e as Error).stack}\n`);
    process.exit(2);
  },
);
