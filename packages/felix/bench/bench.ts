/**
 * Dataplane benchmark: time for felix to program N local endpoints from cold (routes,
 * neighbors, sysctls, ipsets, iptables), and the latency of one more endpoint on top.
 * Each size runs in a fresh network namespace with N real veth pairs (created in bulk
 * with `ip -batch`, not timed). Needs root. Run: npm run bench (in packages/felix).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { computeDesiredState } from '../src/calc/desired-state.js';
import { DEFAULT_SETTINGS } from '../src/config-types.js';
import { Dataplane } from '../src/dataplane/dataplane.js';
import { pool, wep } from '../test/helpers.js';

const SIZES = (process.env.FELIX_BENCH_SIZES ?? '1,100,1000,10000').split(',').map(Number);

const iface = (i: number) => `cali${i.toString(16).padStart(11, '0')}`;
const ipOf = (i: number) => `10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

function veths(from: number, to: number): void {
  const lines: string[] = [];
  for (let i = from; i < to; i++) lines.push(`link add ${iface(i)} type veth peer name p${i.toString(16)}`);
  for (let i = from; i < to; i++) lines.push(`link set dev ${iface(i)} up`);
  execFileSync('ip', ['-batch', '-'], { input: `${lines.join('\n')}\n`, maxBuffer: 1 << 26 });
}

async function inner(n: number): Promise<void> {
  veths(0, n + 1);
  const settings = { ...DEFAULT_SETTINGS };
  const endpoints = Array.from({ length: n }, (_, i) =>
    wep(`pod-${i}`, 'bench', iface(i), `${ipOf(i)}/32`, 'ee:ee:ee:00:00:01'),
  );
  const pools = [pool('p', '10.96.0.0/12', { natOutgoing: true })];
  const inputs = { nodeName: 'bench', settings, endpoints, pools, affinities: [], nodes: [] };
  let t0 = performance.now();
  const desired = computeDesiredState(inputs);
  const calcMs = performance.now() - t0;
  const dp = new Dataplane(settings, 'nft');
  t0 = performance.now();
  const rep = await dp.apply(desired);
  const coldMs = performance.now() - t0;
  // One more endpoint, the steady-state path: calc + apply of the delta.
  endpoints.push(wep(`pod-${n}`, 'bench', iface(n), `${ipOf(n)}/32`, 'ee:ee:ee:00:00:01'));
  t0 = performance.now();
  const d2 = computeDesiredState(inputs);
  const oneCalcMs = performance.now() - t0;
  t0 = performance.now();
  const rep2 = await dp.apply(d2);
  const oneMs = performance.now() - t0;
  const rules = Object.values(rep.rules).reduce((a, b) => a + b, 0);
  process.stdout.write(
    `${JSON.stringify({ n, calcMs, coldMs, oneMs, oneCalcMs, rules, cold: rep.timings, one: rep2.timings, routes: desired.routes.size })}\n`,
  );
}

function outer(): void {
  if (process.getuid?.() !== 0) {
    console.error('bench: needs root (network namespaces)');
    process.exit(1);
  }
  const self = fileURLToPath(import.meta.url);
  const rows: Record<string, unknown>[] = [];
  for (const n of SIZES) {
    const ns = `felixbench-${process.pid}-${n}`;
    execFileSync('ip', ['netns', 'add', ns]);
    try {
      const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, self, '--inner', String(n)], {
        encoding: 'utf8',
        maxBuffer: 1 << 26,
      });
      if (r.status !== 0) throw new Error(`size ${n}: ${r.stderr}`);
      rows.push(JSON.parse(r.stdout.trim().split('\n').at(-1)!));
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
    }
  }
  const f = (x: unknown) => (x as number).toFixed(1).padStart(9);
  console.log(
    '\nfelix dataplane programming (routes + neighbors + sysctls + ipsets + iptables, nft backend)',
  );
  console.log('endpoints | iptables rules | cold calc ms | cold apply ms | +1 apply ms | +1 calc ms');
  console.log('----------|----------------|--------------|---------------|-------------|-----------');
  for (const r of rows)
    console.log(
      [
        String(r.n).padStart(9),
        String(r.rules).padStart(14),
        f(r.calcMs).padStart(12),
        f(r.coldMs).padStart(13),
        f(r.oneMs).padStart(11),
        f(r.oneCalcMs).padStart(10),
      ].join(' | '),
    );
  console.log('\nper-phase ms (cold / +1):');
  for (const r of rows) {
    const ph = (o: Record<string, number>) =>
      Object.entries(o)
        .map(([k, v]) => `${k} ${v.toFixed(0)}`)
        .join(', ');
    console.log(
      `  ${String(r.n).padStart(5)}: ${ph(r.cold as Record<string, number>)} / ${ph(r.one as Record<string, number>)}`,
    );
  }
}

if (process.argv[2] === '--inner') await inner(Number(process.argv[3]));
else outer();
