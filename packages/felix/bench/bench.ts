/**
 * Dataplane benchmark: time for felix to program N local endpoints from cold (routes,
 * neighbors, sysctls, ipsets, iptables), the latency of one more endpoint on top
 * (calculation + apply, repeated), and the cost of a refresh (everything re-read, nothing
 * to write). Needs root. Run: npm run bench (in packages/felix);
 * FELIX_BENCH_SIZES=1,100 and FELIX_BENCH_ONES=5 change the sizes and the "+1" repeats;
 * FELIX_BENCH_NODE_ARGS passes flags (e.g. --cpu-prof) to the measuring process;
 * FELIX_BENCH_IPV6=1 adds an IPv6 pool (dual stack: ip6tables programmed too).
 *
 * Each size gets a namespace laid out like a real node (all names from @tricolor/testkit):
 * - the node namespace, where felix runs, with an uplink `eth0` holding the node's address,
 *   created before any workload interface (as on a booted node). This matters: for a route
 *   onto a device without IPv4 address (every `cali…`), the kernel picks a source address
 *   by walking the namespace's devices until one has a usable address (inet_select_addr),
 *   so without an uplink address each route costs O(devices);
 * - N host ends `cali` + 11 hex characters of sha1(namespace.pod), as the CNI plugin names
 *   them, up, in the node namespace; their pod ends (up) live in a few pod namespaces, not
 *   in the node namespace (a real node holds N workload devices, not 2N).
 * Building the namespaces and veths is not timed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { connectVeth, Netns } from '@tricolor/testkit';
import { CalcCache, computeDesiredState } from '../src/calc/desired-state.js';
import { EndpointIndex } from '../src/calc/endpoint-index.js';
import { DEFAULT_SETTINGS } from '../src/config-types.js';
import { Dataplane } from '../src/dataplane/dataplane.js';
import { pool, wep } from '../test/helpers.js';

const SIZES = (process.env.FELIX_BENCH_SIZES ?? '1,100,1000,10000').split(',').map(Number);
/** How many "+1" endpoints are added one after the other (median and max reported). */
const ONES = Number(process.env.FELIX_BENCH_ONES ?? 5);
/** Extra node flags for the measuring process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`. */
/** FELIX_BENCH_IPV6=1: an IPv6 pool too, so both iptables and ip6tables are programmed. */
const DUAL_STACK = process.env.FELIX_BENCH_IPV6 === '1';
const NODE_ARGS = (process.env.FELIX_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
/** Pod ends per pod namespace. */
const PODS_PER_NS = 2500;

const iface = (i: number) => `cali${createHash('sha1').update(`bench.pod-${i}`).digest('hex').slice(0, 11)}`;
const ipOf = (i: number) => `10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

function veths(count: number, podNs: string[]): void {
  const host: string[] = [];
  const pod = podNs.map(() => [] as string[]);
  for (let i = 0; i < count; i++) {
    const ns = i % podNs.length;
    host.push(`link add ${iface(i)} type veth peer name p${i.toString(16)} netns ${podNs[ns]}`);
    pod[ns]!.push(`link set dev p${i.toString(16)} up`);
  }
  for (let i = 0; i < count; i++) host.push(`link set dev ${iface(i)} up`);
  execFileSync('ip', ['-batch', '-'], { input: `${host.join('\n')}\n`, maxBuffer: 1 << 26 });
  podNs.forEach((ns, k) => {
    execFileSync('ip', ['-n', ns, '-batch', '-'], { input: `${pod[k]!.join('\n')}\n`, maxBuffer: 1 << 26 });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/**
 * Waits until the kernel is done with the new devices: bringing 2N veth ends up at once
 * starts IPv6 address configuration (DAD, MLD) on all of them, and those workers hold the
 * RTNL lock for seconds, which would be charged to felix's first apply. On a real node
 * the veths appear one pod at a time, long before.
 */
function settle(podNs: string[]): number {
  const t0 = performance.now();
  const tentative = (ns?: string) =>
    execFileSync('ip', [...(ns ? ['-n', ns] : []), '-6', 'addr', 'show', 'tentative'], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    }).includes('inet6');
  while (tentative() || podNs.some((ns) => tentative(ns))) execFileSync('sleep', ['0.5']);
  execFileSync('sleep', ['2']);
  return performance.now() - t0;
}

async function inner(n: number, podNs: string[]): Promise<void> {
  // ONES endpoints added one by one, and one more during the iptables refresh read.
  const TOTAL = n + ONES + 1;
  veths(TOTAL, podNs);
  const settleMs = settle(podNs);
  const settings = { ...DEFAULT_SETTINGS };
  // As the agent does: endpoints in an EndpointIndex (fed by the watch), one CalcCache.
  const endpoints = new EndpointIndex('bench');
  const add = (i: number) =>
    endpoints.set(`bench/pod-${i}`, wep(`pod-${i}`, 'bench', iface(i), `${ipOf(i)}/32`, 'ee:ee:ee:00:00:01'));
  for (let i = 0; i < n; i++) add(i);
  const pools = [pool('p', '10.96.0.0/12', { natOutgoing: true })];
  // Dual stack: an IPv6 pool makes felix program ip6tables as well (ipv6Support 'auto').
  if (DUAL_STACK) pools.push(pool('p6', 'fd00:96::/64', { natOutgoing: true, blockSize: 122 }));
  const inputs = { nodeName: 'bench', settings, endpoints, pools, affinities: [], nodes: [] };
  const cache = new CalcCache();
  let t0 = performance.now();
  const desired = computeDesiredState(inputs, cache);
  const calcMs = performance.now() - t0;
  const dp = new Dataplane(settings, 'nft');
  t0 = performance.now();
  const rep = await dp.apply(desired);
  const coldMs = performance.now() - t0;
  const coldNeigh = await dp.applyNeighbors();
  const coldNeighMs = performance.now() - t0;
  // One more endpoint at a time, the steady-state path: calc + apply of the delta (routes,
  // sysctls, iptables in the kernel), then the neighbor lane (timed from the same start).
  const ones: {
    calc: number;
    apply: number;
    neighbors: number;
    timings: Record<string, number>;
  }[] = [];
  let last = desired;
  for (let k = 0; k < ONES; k++) {
    const i = n + k;
    add(i);
    t0 = performance.now();
    last = computeDesiredState(inputs, cache);
    const calc = performance.now() - t0;
    t0 = performance.now();
    const r = await dp.apply(last);
    const apply = performance.now() - t0;
    if (!r.incremental) throw new Error('+1 apply did not use the calculation delta');
    const nr = await dp.applyNeighbors();
    if (nr.commands !== 1) throw new Error(`+1 neighbor lane wrote ${nr.commands} entries, expected 1`);
    ones.push({
      calc,
      apply,
      neighbors: performance.now() - t0 + calc,
      timings: { ...r.timings, ...nr.timings },
    });
  }
  // The refresh timers: every model invalidated, everything re-read, nothing to write.
  dp.invalidateAll();
  t0 = performance.now();
  const refresh = await dp.apply(last);
  const refreshNeigh = await dp.applyNeighbors();
  const refreshMs = performance.now() - t0;
  if (refresh.routeCommands || refresh.iptablesChanged || refresh.sysctlsWritten || refreshNeigh.commands)
    throw new Error(`refresh found differences: ${JSON.stringify({ refresh, refreshNeigh })}`);
  // The refresh timers as the agent runs them (both at once here): iptables-save, the route
  // table and every sysctl read in the background, one more endpoint applied meanwhile
  // (timed), then the apply that compares everything.
  const reading = Promise.all([dp.refreshIptables(), dp.refreshRoutes(), dp.refreshSysctls()]);
  add(n + ONES);
  t0 = performance.now();
  const duringRefresh = await dp.apply(computeDesiredState(inputs, cache));
  const duringRefreshMs = performance.now() - t0;
  if (!duringRefresh.incremental) throw new Error('the +1 during the refresh read did not use the delta');
  await dp.applyNeighbors();
  const readDone = await reading.then(() => performance.now() - t0);
  t0 = performance.now();
  const afterRefresh = await dp.apply(computeDesiredState(inputs, cache));
  const afterRefreshMs = performance.now() - t0;
  if (afterRefresh.iptablesChanged || afterRefresh.routeCommands || afterRefresh.sysctlsWritten)
    throw new Error(`the apply after the refresh read wrote: ${JSON.stringify(afterRefresh)}`);
  // Sanity: every endpoint's permanent neighbor is in the kernel.
  const neighs = execFileSync('ip', ['neigh', 'show', 'nud', 'permanent'], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const gotN = neighs.split('\n').filter((l) => l.includes(' dev cali')).length;
  if (gotN !== TOTAL) throw new Error(`expected ${TOTAL} workload neighbors, kernel has ${gotN}`);
  // Sanity: the kernel holds what was asked for.
  const routes = execFileSync('ip', ['route', 'show', 'proto', '80'], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const got = routes.split('\n').filter((l) => l.includes(' dev cali')).length;
  if (got !== TOTAL) throw new Error(`expected ${TOTAL} workload routes, kernel has ${got}`);
  // Both families (iptables and ip6tables), as the agent programs them by default.
  const rules = Object.values(rep.rules)
    .flatMap((t) => Object.values(t))
    .reduce((a, b) => a + b, 0);
  const total = ones.map((o) => o.calc + o.apply);
  if (process.env.FELIX_BENCH_VERBOSE)
    writeFileSync(
      process.env.FELIX_BENCH_VERBOSE,
      JSON.stringify(ones.map((o) => [o.calc, o.apply, o.timings])),
    );
  process.stdout.write(
    `${JSON.stringify({
      n,
      calcMs,
      coldMs,
      coldNeighMs,
      oneCalcMs: median(ones.map((o) => o.calc)),
      oneMs: median(ones.map((o) => o.apply)),
      oneTotalMs: median(total),
      oneMaxMs: Math.max(...total),
      oneNeighMs: median(ones.map((o) => o.neighbors)),
      oneNeighMaxMs: Math.max(...ones.map((o) => o.neighbors)),
      refreshMs,
      duringRefreshMs,
      readDoneMs: readDone,
      afterRefreshMs,
      settleMs,
      rules,
      cold: { ...rep.timings, ...coldNeigh.timings },
      one: ones[ones.length >> 1]!.timings,
      refresh: { ...refresh.timings, ...refreshNeigh.timings },
    })}\n`,
  );
}

async function outer(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('bench: needs root (network namespaces)');
    process.exit(1);
  }
  const self = fileURLToPath(import.meta.url);
  const rows: Record<string, unknown>[] = [];
  for (const n of SIZES) {
    const made: Netns[] = [];
    try {
      const node = await Netns.create('fbnode');
      made.push(node);
      const uplink = await Netns.create('fbup');
      made.push(uplink);
      await connectVeth(node, '192.168.201.2/24', uplink, '192.168.201.1/24');
      const pods: string[] = [];
      for (let k = 0; k < Math.ceil((n + ONES + 1) / PODS_PER_NS); k++) {
        const ns = await Netns.create('fbpod');
        made.push(ns);
        pods.push(ns.name);
      }
      const r = spawnSync(
        'ip',
        [
          'netns',
          'exec',
          node.name,
          process.execPath,
          ...NODE_ARGS,
          self,
          '--inner',
          String(n),
          pods.join(','),
        ],
        { encoding: 'utf8', maxBuffer: 1 << 26 },
      );
      if (r.status !== 0) throw new Error(`size ${n}: ${r.stderr}`);
      rows.push(JSON.parse(r.stdout.trim().split('\n').at(-1)!));
    } finally {
      for (const ns of made.reverse()) await ns.destroy();
    }
  }
  const f = (x: unknown) => (x as number).toFixed(1);
  console.log(
    `\nfelix dataplane programming (routes + neighbors + sysctls + ipsets + ${DUAL_STACK ? 'iptables and ip6tables (dual stack)' : 'iptables (IPv4 pools only)'}, nft backend)`,
  );
  console.log(
    `+1 = one more endpoint, calc + apply until its route, sysctls and iptables are in the kernel; median and max of ${ONES}`,
  );
  console.log('+nb = the same, until the neighbor lane has also written its static neighbor');
  console.log('cold apply = routes, sysctls, ipsets, iptables; cold +nb = then the neighbor lane');
  console.log(
    'refresh = every model dropped and re-read inside one apply; +1 in refresh = one more endpoint while the refresh timers read iptables, routes and sysctls in the background (read ms: until those reads are done), after read = the apply that then compares everything',
  );
  const head = [
    'endpoints',
    'iptables rules',
    'cold calc ms',
    'cold apply ms',
    'cold +nb ms',
    '+1 calc ms',
    '+1 apply ms',
    '+1 total ms',
    '+1 max ms',
    '+1 +nb ms',
    '+1 +nb max',
    'refresh ms',
    '+1 in refresh ms',
    'read ms',
    'after read ms',
  ];
  console.log(head.join(' | '));
  console.log(head.map((h) => '-'.repeat(h.length)).join('-|-'));
  for (const r of rows)
    console.log(
      [
        String(r.n),
        String(r.rules),
        f(r.calcMs),
        f(r.coldMs),
        f(r.coldNeighMs),
        f(r.oneCalcMs),
        f(r.oneMs),
        f(r.oneTotalMs),
        f(r.oneMaxMs),
        f(r.oneNeighMs),
        f(r.oneNeighMaxMs),
        f(r.refreshMs),
        f(r.duringRefreshMs),
        f(r.readDoneMs),
        f(r.afterRefreshMs),
      ]
        .map((s, i) => s.padStart(head[i]!.length))
        .join(' | '),
    );
  console.log('\nper-phase ms (cold / +1 median / refresh):');
  const ph = (o: Record<string, number>) =>
    Object.entries(o)
      .map(([k, v]) => `${k} ${v.toFixed(0)}`)
      .join(', ');
  for (const r of rows)
    console.log(
      `  ${String(r.n).padStart(5)}: ${ph(r.cold as Record<string, number>)} / ${ph(r.one as Record<string, number>)} / ${ph(r.refresh as Record<string, number>)}`,
    );
}

if (process.argv[2] === '--inner') await inner(Number(process.argv[3]), process.argv[4]!.split(','));
else await outer();
