/**
 * `npm run bench` in e2e, ending with one summary table: CNI ADD latency and pod reach time
 * (bench/cni.ts); the data path pod ↔ pod against node ↔ node, direct and VXLAN
 * (bench/datapath.ts); a cluster of many nodes, full mesh and through 2 route reflectors:
 * convergence, pod reach, memory per node (bench/scale.ts); throughput with network policy
 * against the same pods without (bench/policy-datapath.ts). Needs root (network namespaces),
 * etcd, ip, ping, iperf3, ethtool.
 * Sizes: E2E_BENCH_PODS_PER_NODE (default 5,50), E2E_BENCH_IPERF_RUNS (default 5 runs of 3 s),
 * E2E_BENCH_NODES (default 3,100), E2E_BENCH_SCALE_MODES (default mesh,rr),
 * E2E_BENCH_SCALE_LAYOUTS (default separate,one-process: felix and bird as two processes per
 * node, or both in one tricolor-node; smoke runs one-process with the first mode only),
 * E2E_BENCH_REACH_SAMPLES (default 10), E2E_BENCH_POLICIES (default 1000),
 * E2E_BENCH_POLICY_REMOTE (default 5000); TRICOLOR_BENCH_SMOKE=1 runs the smallest.
 * Usage: node dist/bench/main.js [cni|datapath|policy|scale]...
 */
import { type BenchRow, benchSizes, benchSmoke, hasCommand, isRoot, printSummary } from '@tricolor/testkit';
import { LAYOUTS, type Layout } from '../src/cluster.js';
import { measureCni } from './cni.js';
import { measureDataPath } from './datapath.js';
import { measurePolicyDataPath } from './policy-datapath.js';
import { measureScale, type ScaleMode, scaleLabel, scaleRows } from './scale.js';

const PARTS = ['cni', 'datapath', 'policy', 'scale'] as const;
type Part = (typeof PARTS)[number];

/** E2E_BENCH_SCALE_MODES: mesh,rr (default both). */
function scaleModes(): ScaleMode[] {
  const modes = (process.env.E2E_BENCH_SCALE_MODES ?? 'mesh,rr').split(',');
  const bad = modes.filter((m) => m !== 'mesh' && m !== 'rr');
  if (bad.length) throw new Error(`E2E_BENCH_SCALE_MODES: unknown mode(s) ${bad.join(', ')} (mesh, rr)`);
  return modes as ScaleMode[];
}

/** E2E_BENCH_SCALE_LAYOUTS: separate,one-process (default both, side by side in one table). */
function scaleLayouts(): Layout[] {
  const layouts = (process.env.E2E_BENCH_SCALE_LAYOUTS ?? LAYOUTS.join(',')).split(',');
  const bad = layouts.filter((l) => !(LAYOUTS as readonly string[]).includes(l));
  if (bad.length)
    throw new Error(`E2E_BENCH_SCALE_LAYOUTS: unknown layout(s) ${bad.join(', ')} (${LAYOUTS.join(', ')})`);
  return layouts as Layout[];
}

const log = (line: string) => console.error(`bench: ${line}`);

async function main(): Promise<void> {
  const missing = ['ip', 'ping', 'etcd'].filter((c) => !hasCommand(c));
  if (!isRoot() || missing.length) {
    console.error(`the e2e bench needs root and ${missing.join(', ') || 'nothing else'}; nothing measured`);
    process.exit(1);
  }
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => !(PARTS as readonly string[]).includes(a));
  if (unknown.length) {
    console.error(`unknown part(s) ${unknown.join(', ')}; parts: ${PARTS.join(', ')}`);
    process.exit(2);
  }
  const want = (p: Part) => args.length === 0 || args.includes(p);
  const smoke = benchSmoke();
  const rows: BenchRow[] = [];
  if (want('cni'))
    for (const n of benchSizes([5, 50], 'E2E_BENCH_PODS_PER_NODE'))
      rows.push(...(await measureCni(n, smoke ? 2 : 10)));
  if (want('datapath')) {
    const missingDp = ['iperf3', 'ethtool'].filter((c) => !hasCommand(c));
    if (missingDp.length)
      throw new Error(`the data-path bench needs ${missingDp.join(', ')} (scripts/setup.sh)`);
    const o = smoke
      ? { runs: 1, seconds: 1, pings: 20, log }
      : { runs: Number(process.env.E2E_BENCH_IPERF_RUNS ?? 5), seconds: 3, pings: 200, log };
    for (const mode of ['mesh', 'vxlan'] as const) rows.push(...(await measureDataPath(mode, o)));
  }
  if (want('policy')) {
    if (!hasCommand('iperf3')) throw new Error('the policy data-path bench needs iperf3 (scripts/setup.sh)');
    rows.push(
      ...(await measurePolicyDataPath(
        smoke
          ? { runs: 1, seconds: 1, policies: 10, remote: 50, log }
          : {
              runs: Number(process.env.E2E_BENCH_IPERF_RUNS ?? 5),
              seconds: 3,
              policies: Number(process.env.E2E_BENCH_POLICIES ?? 1000),
              remote: Number(process.env.E2E_BENCH_POLICY_REMOTE ?? 5000),
              log,
            },
      )),
    );
  }
  if (want('scale')) {
    const o = {
      reachSamples: smoke ? 2 : Number(process.env.E2E_BENCH_REACH_SAMPLES ?? 10),
      timeoutMs: 120_000,
      log,
    };
    const modes = scaleModes();
    for (const n of benchSizes([3, 100], 'E2E_BENCH_NODES'))
      for (const mode of modes)
        for (const layout of scaleLayouts()) {
          // Smoke stays short: the one-process layout once, with the first mode.
          if (smoke && layout === 'one-process' && mode !== modes[0]) continue;
          try {
            rows.push(...scaleRows(await measureScale(n, mode, layout, o), o.timeoutMs));
          } catch (e) {
            // The bench runs to the end: a size that could not be measured is a missed row.
            log(`scale ${n} nodes ${mode} ${layout}: ${(e as Error).stack ?? e}`);
            rows.push({
              row: `${scaleLabel(n, mode, layout)}: run failed (see stderr)`,
              figure: 1,
              unit: '',
              target: { on: 'figure', op: '<=', value: 0 },
            });
          }
        }
  }
  printSummary('Tricolor cluster in network namespaces (same run)', rows);
}

void main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
