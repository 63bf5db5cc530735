/**
 * Dataplane benchmark. Endpoints: time for felix to program N local endpoints from cold
 * (routes, neighbors, sysctls, ipsets, iptables), the latency of one more endpoint on top
 * (calculation + apply, repeated), a refresh (every view dropped and re-read, nothing to
 * write), and one more endpoint while the refresh timers' reads run. VXLAN: one more remote
 * node among N (route, FDB entry, VTEP neighbor). Policy: N local endpoints, N/10 policies
 * whose rules select among N/2 remote endpoints — cold start, one policy changed, one remote
 * endpoint relabelled (p99 of FELIX_BENCH_POLICY_REPEATS). Needs root.
 *
 * Run: npm run bench (in packages/felix). FELIX_BENCH_SIZES=1,100,1000,10000 (endpoints),
 * FELIX_BENCH_NODES=100,1000 (VXLAN remote nodes), FELIX_BENCH_ONES=5 (the "+1" repeats),
 * FELIX_BENCH_POLICY=100,1000,10000 (local endpoints of the policy rows; the issue's size is
 * 10000: 1,000 policies, 5,000 remote endpoints), FELIX_BENCH_POLICY_REPEATS=100,
 * FELIX_BENCH_IPV6=1 (an IPv6 pool too: ip6tables programmed as well),
 * FELIX_BENCH_NODE_ARGS (flags for the measuring process, e.g. --cpu-prof),
 * FELIX_BENCH_VERBOSE=<file> (every +1's phases). TRICOLOR_BENCH_SMOKE=1: smallest sizes.
 *
 * Each size gets namespaces laid out like a node (all names from @tricolor/testkit):
 * - the node namespace, where felix runs, with an uplink `eth0` holding the node's address,
 *   created before any workload interface (as on a booted node). This matters: for a route
 *   onto a device without IPv4 address (every `cali…`), the kernel picks a source address
 *   by walking the namespace's devices until one has a usable address (inet_select_addr),
 *   so without an uplink address each route costs O(devices);
 * - N host ends `cali` + 11 hex characters of sha1(namespace.pod), as the CNI plugin names
 *   them, up, in the node namespace; their pod ends (up) live in a few pod namespaces, not
 *   in the node namespace (a real node holds N workload devices, not 2N).
 * Building the namespaces and veths is not timed.
 *
 * Anchors (same run, same namespace): the tools themselves — the very `ip -batch`,
 * `bridge -batch` and `iptables-restore` inputs felix wrote, replayed directly (concurrently
 * where felix runs them concurrently). The ratio is felix's whole path over the kernel's
 * own cost of the same writes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { BatchSession, Spawner } from '@tricolor/linux';
import { type BenchRow, benchSizes, connectVeth, Netns, printSummary } from '@tricolor/testkit';
import { Calculation } from '../src/calc/calculation.js';
import type { Update } from '../src/calc/graph.js';
import { DEFAULT_SETTINGS } from '../src/config-types.js';
import { type ApplyReport, Dataplane } from '../src/dataplane/dataplane.js';
import type { KernelIO } from '../src/dataplane/kernel-io.js';
import { KernelState } from '../src/dataplane/kernel-state.js';
import { binaries, linuxKernel } from '../src/dataplane/linux-io.js';
import { node, pool, wep } from '../test/helpers.js';
import { policyScenario } from './policy-scenario.js';

const SIZES = benchSizes([1, 100, 1000, 10000], 'FELIX_BENCH_SIZES');
const NODE_SIZES = benchSizes([100, 1000], 'FELIX_BENCH_NODES');
const POLICY_SIZES = benchSizes([100, 1000, 10000], 'FELIX_BENCH_POLICY');
/** How many policy changes and remote relabels are timed, one after the other (p99 reported). */
const POLICY_REPEATS = Number(process.env.FELIX_BENCH_POLICY_REPEATS ?? 100);
/** How many "+1" endpoints (nodes) are added one after the other (median and max reported). */
const ONES = Number(process.env.FELIX_BENCH_ONES ?? 5);
/** FELIX_BENCH_IPV6=1: an IPv6 pool too, so both iptables and ip6tables are programmed. */
const DUAL_STACK = process.env.FELIX_BENCH_IPV6 === '1';
const NODE_ARGS = (process.env.FELIX_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
/** Pod ends per pod namespace. */
const PODS_PER_NS = 2500;
/** The node's uplink address (eth0 in the node namespace). */
const NODE_IP = '192.168.201.2';

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

/** The real kernel, with the last input of each tool kept for replaying as the anchor. */
function recordingKernel(): { io: KernelIO; last: Map<string, string[]>; reset(): void } {
  const io = linuxKernel('nft', DEFAULT_SETTINGS.chainPrefix);
  const last = new Map<string, string[]>();
  return {
    last,
    reset: () => last.clear(),
    io: {
      ...io,
      // The first batch after a reset: the routes of the critical path (neighbors come after).
      ipBatch: (lines) => {
        if (!last.has('ip')) last.set('ip', lines);
        return io.ipBatch(lines);
      },
      bridgeBatch: (lines) => {
        last.set('bridge', lines);
        return io.bridgeBatch(lines);
      },
      // Every restore of the apply (a large one is cut into several: see planRestore).
      iptablesRestore: (family, script) => {
        const scripts = last.get(`iptables${family}`) ?? [];
        last.set(`iptables${family}`, [...scripts, script]);
        return io.iptablesRestore(family, script);
      },
      ipsetRestore: (lines) => {
        if (!last.has('ipset')) last.set('ipset', lines);
        return io.ipsetRestore(lines);
      },
    },
  };
}

/** The anchor's own long-running `ip -batch` / `bridge -batch`, as felix writes through (warm). */
const anchorIp = new BatchSession('ip');
const anchorBridge = new BatchSession('bridge');
const anchorSpawner = new Spawner();

/** Replays what felix last wrote with the tools directly (routes ‖ iptables, as felix runs them); ms. */
async function replay(last: Map<string, string[]>): Promise<number> {
  const t0 = performance.now();
  const jobs: Promise<unknown>[] = [];
  const ipLines = last.get('ip');
  if (ipLines?.length) jobs.push(anchorIp.run(ipLines).catch(() => undefined));
  const br = last.get('bridge');
  if (br?.length) jobs.push(anchorBridge.run(br).catch(() => undefined));
  const sets = last.get('ipset');
  // Replayed onto the sets felix made: -exist makes a create or add of what is there a no-op.
  if (sets?.length)
    jobs.push(anchorSpawner.run('ipset', ['-exist', 'restore'], { input: `${sets.join('\n')}\n` }));
  for (const f of [4, 6] as const) {
    // Hook inserts left out: replayed, they would add a second jump (they are 8 rules of thousands).
    const scripts = (last.get(`iptables${f}`) ?? []).map((s) =>
      s
        .split('\n')
        .filter((l) => !/^-[ID] [A-Z]+ /.test(l))
        .join('\n'),
    );
    if (scripts.length)
      jobs.push(
        (async () => {
          for (const input of scripts)
            await anchorSpawner.run(binaries('nft', f).restore, ['--noflush', '-w', '5'], { input });
        })(),
      );
  }
  await Promise.all(jobs);
  return performance.now() - t0;
}

/**
 * The kernel's floor for any write onto the ruleset felix made: one new chain with one rule,
 * committed with iptables-restore (median of 5, the chain removed after each). nf_tables checks
 * every chain reachable from the hooks on each commit that adds a rule, so the floor grows with
 * the ruleset, whatever felix writes.
 */
async function iptablesCommitFloor(): Promise<number> {
  const restore = binaries('nft', 4).restore;
  const ms: number[] = [];
  for (let k = 0; k < 5; k++) {
    const t0 = performance.now();
    await anchorSpawner.run(restore, ['--noflush', '-w', '5'], {
      input: '*filter\n:tri-bench-floor - [0:0]\n-A tri-bench-floor -j RETURN\nCOMMIT\n',
    });
    ms.push(performance.now() - t0);
    await anchorSpawner.run(restore, ['--noflush', '-w', '5'], {
      input: '*filter\n:tri-bench-floor - [0:0]\n-X tri-bench-floor\nCOMMIT\n',
    });
  }
  return median(ms);
}

function newFelix(rec: ReturnType<typeof recordingKernel>) {
  const s = DEFAULT_SETTINGS;
  const state = new KernelState({
    chainPrefix: s.chainPrefix,
    interfacePrefix: s.interfacePrefix,
    vxlanDevice: s.vxlanDevice,
  });
  const calc = new Calculation(state, {
    nodeName: 'bench',
    pinned: { chainPrefix: s.chainPrefix, interfacePrefix: s.interfacePrefix, ipv6Support: 'auto' },
  });
  const dp = new Dataplane(state, rec.io, { ipv6: true });
  return { state, calc, dp };
}

const frozen = <T>(x: T): T => Object.freeze(x);

async function innerEndpoints(n: number, podNs: string[]): Promise<void> {
  // ONES endpoints added one by one, and one more during the refresh reads.
  const TOTAL = n + ONES + 1;
  veths(TOTAL, podNs);
  const settleMs = settle(podNs);
  const rec = recordingKernel();
  const { calc, dp } = newFelix(rec);
  const ep = (i: number): Update => ({
    kind: 'endpoint',
    key: `/tricolor/resources/workloadendpoints/bench/pod-${i}`,
    value: frozen(wep(`pod-${i}`, 'bench', iface(i), `${ipOf(i)}/32`, 'ee:ee:ee:00:00:01')),
  });
  const pools = [pool('p', '10.96.0.0/12', { natOutgoing: true })];
  // Dual stack: an IPv6 pool makes felix program ip6tables as well (ipv6Support 'auto').
  if (DUAL_STACK) pools.push(pool('p6', 'fd00:96::/64', { natOutgoing: true, blockSize: 122 }));
  const cold: Update[] = pools.map((p) => ({ kind: 'pool', key: p.metadata.name, value: frozen(p) }));
  for (let i = 0; i < n; i++) cold.push(ep(i));
  await dp.io.ready(); // felix's helper processes boot while the agent syncs with etcd
  let t0 = performance.now();
  calc.apply(cold);
  const calcMs = performance.now() - t0;
  t0 = performance.now();
  const rep = await dp.apply();
  const coldMs = performance.now() - t0;
  const coldNeigh = await dp.applyNeighbors();
  const coldNeighMs = performance.now() - t0;
  if (process.env.FELIX_BENCH_COLD_ONLY) {
    // Diagnostics (with FELIX_BENCH_NODE_ARGS=--cpu-prof): stop after the cold apply.
    process.stdout.write(`${JSON.stringify({ calcMs, coldMs, coldNeighMs, cold: rep.timings })}\n`);
    process.exit(0);
  }
  // Started before they are timed, as felix's are.
  await anchorIp.run(['link set dev lo up']);
  await anchorSpawner.run('true', []);
  const coldAnchorMs = await replay(rec.last);
  // The delta: one more endpoint is its route, its two chains and the dispatch chains on
  // the path to them (a leaf of each tree; two when the leaf splits), in each IP family.
  const families = DUAL_STACK ? ['4', '6'] : ['4'];
  const wroteDelta = (r: ApplyReport, i: number, what: string) => {
    const w = r.iptablesWritten;
    const ok =
      r.routeCommands === 1 &&
      families.every((f) => {
        const tables = w[f] ?? {};
        const filter = tables.filter ?? [];
        return (
          Object.entries(tables).every(([t, cs]) => t === 'filter' || cs.length === 0) &&
          filter.includes(`tri-tw-${iface(i)}`) &&
          filter.includes(`tri-fw-${iface(i)}`) &&
          filter.every((c) => c.endsWith(iface(i)) || /^tri-(td-|fd-|to-wl-|from-wl-)/.test(c))
        );
      });
    if (!ok) throw new Error(`${what} wrote ${r.routeCommands} routes and chains ${JSON.stringify(w)}`);
  };
  const ones: {
    calc: number;
    apply: number;
    neighbors: number;
    anchor: number;
    timings: Record<string, number>;
  }[] = [];
  for (let k = 0; k < ONES; k++) {
    rec.reset();
    t0 = performance.now();
    calc.apply([ep(n + k)]);
    const c = performance.now() - t0;
    t0 = performance.now();
    const r = await dp.apply();
    const apply = performance.now() - t0;
    wroteDelta(r, n + k, '+1');
    const nr = await dp.applyNeighbors();
    if (nr.commands !== 1) throw new Error(`+1 neighbor lane wrote ${nr.commands} entries, expected 1`);
    const neighbors = performance.now() - t0 + c;
    ones.push({
      calc: c,
      apply,
      neighbors,
      anchor: await replay(rec.last),
      timings: { ...r.timings, ...nr.timings },
    });
  }
  const floorMs = await iptablesCommitFloor();
  // A refresh with every view dropped: everything re-read, nothing to write.
  dp.invalidateAll();
  t0 = performance.now();
  const refresh = await dp.apply();
  const refreshNeigh = await dp.applyNeighbors();
  const refreshMs = performance.now() - t0;
  if (refresh.routeCommands || refresh.iptablesChanged || refresh.sysctlsWritten || refreshNeigh.commands)
    throw new Error(`refresh found differences: ${JSON.stringify({ refresh, refreshNeigh })}`);
  // The refresh timers as the agent runs them (all at once here, the worst case on 2
  // cores): iptables-save, the route table, neighbors, tunnels and every sysctl read in the
  // background; one more endpoint applied meanwhile (timed). Whether a read has finished
  // before that apply or not, it writes the endpoint's delta only: the trackers know what
  // is pending either way (the race the old check tripped over at 1 and 100 endpoints).
  // How long felix's event loop was held up while the reads ran (parsing, comparing).
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const reading = Promise.all([dp.refreshIptables(), dp.refreshRoutes(), dp.refreshSysctls()]);
  t0 = performance.now();
  calc.apply([ep(n + ONES)]);
  const duringRefresh = await dp.apply();
  const duringRefreshMs = performance.now() - t0;
  wroteDelta(duringRefresh, n + ONES, 'the +1 during the refresh reads');
  await dp.applyNeighbors();
  const readDone = await reading.then(() => performance.now() - t0);
  lag.disable();
  t0 = performance.now();
  const afterRefresh = await dp.apply();
  const afterRefreshMs = performance.now() - t0;
  if (afterRefresh.iptablesChanged || afterRefresh.routeCommands || afterRefresh.sysctlsWritten)
    throw new Error(`the apply after the refresh reads wrote: ${JSON.stringify(afterRefresh)}`);
  dp.close();
  anchorIp.close();
  anchorBridge.close();
  anchorSpawner.close();
  // Sanity: the kernel holds every endpoint's route and permanent neighbor.
  const count = (args: string[]) =>
    execFileSync('ip', args, { encoding: 'utf8', maxBuffer: 1 << 26 })
      .split('\n')
      .filter((l) => l.includes(' dev cali')).length;
  const gotN = count(['neigh', 'show', 'nud', 'permanent']);
  if (gotN !== TOTAL) throw new Error(`expected ${TOTAL} workload neighbors, kernel has ${gotN}`);
  const got = count(['route', 'show', 'proto', '80']);
  if (got !== TOTAL) throw new Error(`expected ${TOTAL} workload routes, kernel has ${got}`);
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
      kind: 'endpoints',
      n,
      calcMs,
      coldMs,
      coldNeighMs,
      coldAnchorMs,
      oneCalcMs: median(ones.map((o) => o.calc)),
      oneMs: median(ones.map((o) => o.apply)),
      oneTotalMs: median(total),
      oneMaxMs: Math.max(...total),
      oneAnchorMs: median(ones.map((o) => o.anchor)),
      oneNeighMs: median(ones.map((o) => o.neighbors)),
      oneNeighMaxMs: Math.max(...ones.map((o) => o.neighbors)),
      floorMs,
      refreshMs,
      duringRefreshMs,
      readDoneMs: readDone,
      lagMaxMs: lag.max / 1e6,
      lagP99Ms: lag.percentile(99) / 1e6,
      afterRefreshMs,
      settleMs,
      rules,
      cold: { ...rep.timings, ...coldNeigh.timings },
      one: ones[ones.length >> 1]!.timings,
      refresh: { ...refresh.timings, ...refreshNeigh.timings },
    })}\n`,
  );
}

async function innerVxlan(n: number): Promise<void> {
  const rec = recordingKernel();
  const { calc, dp } = newFelix(rec);
  const remote = (i: number): Update[] => {
    const name = `node-${i}`;
    const blk = `10.${128 + (i >> 10)}.${(i >> 2) & 255}.${(i & 3) * 64}/26`;
    return [
      {
        kind: 'node',
        key: `/tricolor/resources/nodes/${name}`,
        value: frozen(
          node(name, `172.${16 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/12`, {
            vxlanTunnelAddress: `10.${128 + (i >> 10)}.${(i >> 2) & 255}.${(i & 3) * 64}`,
          }),
        ),
      },
      {
        kind: 'affinity',
        key: `/tricolor/ipam/v2/host/${name}/ipv4/block/${blk.replace('/', '-')}`,
        value: frozen({ node: name, block: blk, state: 'confirmed' }),
      },
    ];
  };
  const cold: Update[] = [
    { kind: 'pool', key: 'p', value: frozen(pool('vx', '10.128.0.0/9', { vxlanMode: 'Always' })) },
    {
      kind: 'node',
      key: '/tricolor/resources/nodes/bench',
      value: frozen(node('bench', `${NODE_IP}/24`, { vxlanTunnelAddress: '10.255.255.1' })),
    },
  ];
  for (let i = 0; i < n; i++) cold.push(...remote(i));
  await anchorIp.run(['link set dev lo up']);
  await anchorBridge.run(['fdb show dev lo']).catch(() => undefined); // both started before they are timed
  await dp.io.ready();
  let t0 = performance.now();
  calc.apply(cold);
  const calcMs = performance.now() - t0;
  t0 = performance.now();
  await dp.apply();
  const cold2 = await dp.applyNeighbors();
  const coldMs = performance.now() - t0;
  if (cold2.commands !== n)
    throw new Error(`cold VXLAN wrote ${cold2.commands} VTEP neighbors, expected ${n}`);
  const ones: { calc: number; apply: number; total: number; anchor: number }[] = [];
  for (let k = 0; k < ONES; k++) {
    rec.reset();
    t0 = performance.now();
    calc.apply(remote(n + k));
    const c = performance.now() - t0;
    const r = await dp.apply();
    const apply = performance.now() - t0 - c;
    const nr = await dp.applyNeighbors();
    const total = performance.now() - t0;
    if (r.routeCommands !== 1 || r.tunnelCommands !== 1 || nr.commands !== 1)
      throw new Error(
        `+1 node wrote ${r.routeCommands} routes, ${r.tunnelCommands} FDB entries, ${nr.commands} neighbors`,
      );
    ones.push({ calc: c, apply, total, anchor: await replay(rec.last) });
  }
  const fdb = execFileSync('bridge', ['fdb', 'show', 'dev', DEFAULT_SETTINGS.vxlanDevice], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter((l) => l.includes(' dst ')).length;
  if (fdb !== n + ONES) throw new Error(`expected ${n + ONES} FDB entries, kernel has ${fdb}`);
  process.stdout.write(
    `${JSON.stringify({
      kind: 'vxlan',
      n,
      calcMs,
      coldMs,
      oneCalcMs: median(ones.map((o) => o.calc)),
      oneApplyMs: median(ones.map((o) => o.apply)),
      oneTotalMs: median(ones.map((o) => o.total)),
      oneMaxMs: Math.max(...ones.map((o) => o.total)),
      oneAnchorMs: median(ones.map((o) => o.anchor)),
    })}\n`,
  );
}

const p99 = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.99) - 1)]!;

async function innerPolicy(n: number, podNs: string[]): Promise<void> {
  veths(n, podNs);
  settle(podNs);
  const rec = recordingKernel();
  const { calc, dp } = newFelix(rec);
  const sc = policyScenario(n, iface, ipOf);
  await dp.io.ready();
  await anchorIp.run(['link set dev lo up']);
  await anchorSpawner.run('true', []);
  let t0 = performance.now();
  calc.apply(sc.cold);
  const calcMs = performance.now() - t0;
  const cold = await dp.apply();
  await dp.applyNeighbors();
  const coldMs = performance.now() - t0;
  const coldAnchorMs = await replay(rec.last);
  if (calc.policy.activePolicies !== sc.policies)
    throw new Error(`${calc.policy.activePolicies} policies active, expected ${sc.policies}`);
  const sets = execFileSync('ipset', ['list', '-n'], { encoding: 'utf8', maxBuffer: 1 << 26 })
    .split('\n')
    .filter((l) => l.startsWith('tri-s:')).length;
  if (sets !== sc.selectors) throw new Error(`${sets} selector sets in the kernel, expected ${sc.selectors}`);
  /** Each of POLICY_REPEATS updates applied until in the kernel (ms), checked, and its writes replayed. */
  const repeat = async (update: (k: number) => Update, check: (r: ApplyReport) => string | undefined) => {
    const ms: number[] = [];
    const anchor: number[] = [];
    for (let k = 0; k < POLICY_REPEATS; k++) {
      rec.reset();
      t0 = performance.now();
      calc.apply([update(k)]);
      const r = await dp.apply();
      ms.push(performance.now() - t0);
      const wrong = check(r);
      if (wrong) throw new Error(wrong);
      anchor.push(await replay(rec.last));
    }
    return { ms, anchor };
  };
  // One policy's rules changed: its own chain rewritten, nothing else.
  const { ms: change, anchor: changeAnchor } = await repeat(sc.changePolicy, (r) => {
    const wrote = Object.values(r.iptablesWritten).flatMap((t) => Object.values(t).flat());
    return wrote.length === 0 || wrote.some((c) => !c.startsWith('tri-pi-'))
      ? `a policy change wrote ${JSON.stringify(r.iptablesWritten)}`
      : undefined;
  });
  // A remote endpoint relabelled: set members only, no chain.
  const { ms: relabel, anchor: relabelAnchor } = await repeat(sc.relabelRemote, (r) =>
    r.iptablesChanged !== 0 || !r.ipsetsChanged
      ? `a remote relabel changed ${r.iptablesChanged} chains, ipsets ${r.ipsetsChanged}`
      : undefined,
  );
  const floorMs = await iptablesCommitFloor();
  dp.close();
  anchorIp.close();
  anchorBridge.close();
  anchorSpawner.close();
  const rules = Object.values(cold.rules)
    .flatMap((t) => Object.values(t))
    .reduce((a, b) => a + b, 0);
  process.stdout.write(
    `${JSON.stringify({
      kind: 'policy',
      n,
      policies: sc.policies,
      remote: sc.remote,
      selectors: sc.selectors,
      rules,
      calcMs,
      coldMs,
      coldAnchorMs,
      changeP99: p99(change),
      changeMedian: median(change),
      changeAnchorP99: p99(changeAnchor),
      relabelP99: p99(relabel),
      relabelMedian: median(relabel),
      relabelAnchorP99: p99(relabelAnchor),
      floorMs,
      cold: cold.timings,
    })}\n`,
  );
}

/** Runs one measurement in a fresh node namespace (and pod namespaces for `pods` workloads). */
async function measure(
  kind: 'endpoints' | 'vxlan' | 'policy',
  n: number,
  pods: number,
): Promise<Record<string, unknown>> {
  const made: Netns[] = [];
  try {
    const nodeNs = await Netns.create('fbnode');
    made.push(nodeNs);
    const uplink = await Netns.create('fbup');
    made.push(uplink);
    await connectVeth(nodeNs, `${NODE_IP}/24`, uplink, '192.168.201.1/24');
    const podNs: string[] = [];
    for (let k = 0; k < Math.ceil(pods / PODS_PER_NS); k++) {
      const ns = await Netns.create('fbpod');
      made.push(ns);
      podNs.push(ns.name);
    }
    const self = fileURLToPath(import.meta.url);
    const r = spawnSync(
      'ip',
      [
        'netns',
        'exec',
        nodeNs.name,
        process.execPath,
        ...NODE_ARGS,
        self,
        '--inner',
        kind,
        String(n),
        podNs.join(','),
      ],
      { encoding: 'utf8', maxBuffer: 1 << 26 },
    );
    if (r.status !== 0) throw new Error(`${kind} ${n}: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  } finally {
    for (const ns of made.reverse()) await ns.destroy();
  }
}

async function outer(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('bench: needs root (network namespaces)');
    process.exit(1);
  }
  const rows: Record<string, unknown>[] = [];
  for (const n of SIZES) rows.push(await measure('endpoints', n, n + ONES + 1));
  const vx: Record<string, unknown>[] = [];
  for (const n of NODE_SIZES) vx.push(await measure('vxlan', n, 0));
  const pol: Record<string, unknown>[] = [];
  for (const n of POLICY_SIZES) pol.push(await measure('policy', n, n));

  const f = (x: unknown) => (x as number).toFixed(1);
  console.log(
    `\nfelix dataplane programming (routes + neighbors + sysctls + ipsets + ${DUAL_STACK ? 'iptables and ip6tables (dual stack)' : 'iptables (IPv4 pools only)'}, nft backend)`,
  );
  console.log(
    `+1 = one more endpoint, calc + apply until its route, sysctls and iptables are in the kernel; median and max of ${ONES}; tools = the same writes replayed with ip/iptables-restore directly`,
  );
  console.log('+nb = the same, until the neighbor lane has also written its static neighbor');
  console.log('cold apply = routes, sysctls, ipsets, iptables; cold +nb = then the neighbor lane');
  console.log(
    'refresh = every view dropped and re-read inside one apply; +1 in refresh = one more endpoint while the refresh timers read iptables, routes, neighbors and sysctls in the background (read ms: until those reads are done; loop lag: the longest the event loop was held up meanwhile); after read = the apply that follows them',
  );
  const head = [
    'endpoints',
    'iptables rules',
    'cold calc ms',
    'cold apply ms',
    'cold +nb ms',
    'cold tools ms',
    '+1 calc ms',
    '+1 apply ms',
    '+1 total ms',
    '+1 max ms',
    '+1 tools ms',
    '+1 +nb ms',
    '+1 +nb max',
    'refresh ms',
    '+1 in refresh ms',
    'read ms',
    'loop lag max ms',
    'after read ms',
  ];
  const table = (h: string[], lines: string[][]) => {
    console.log(h.join(' | '));
    console.log(h.map((x) => '-'.repeat(x.length)).join('-|-'));
    for (const l of lines) console.log(l.map((s, i) => s.padStart(h[i]!.length)).join(' | '));
  };
  table(
    head,
    rows.map((r) => [
      String(r.n),
      String(r.rules),
      f(r.calcMs),
      f(r.coldMs),
      f(r.coldNeighMs),
      f(r.coldAnchorMs),
      f(r.oneCalcMs),
      f(r.oneMs),
      f(r.oneTotalMs),
      f(r.oneMaxMs),
      f(r.oneAnchorMs),
      f(r.oneNeighMs),
      f(r.oneNeighMaxMs),
      f(r.refreshMs),
      f(r.duringRefreshMs),
      f(r.readDoneMs),
      f(r.lagMaxMs),
      f(r.afterRefreshMs),
    ]),
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
  console.log(
    '\nVXLAN: one more remote node (its route, FDB entry and VTEP neighbor), median and max of',
    ONES,
  );
  table(
    [
      'remote nodes',
      'cold calc ms',
      'cold ms',
      '+1 calc ms',
      '+1 apply ms',
      '+1 total ms',
      '+1 max ms',
      '+1 tools ms',
    ],
    vx.map((r) => [
      String(r.n),
      f(r.calcMs),
      f(r.coldMs),
      f(r.oneCalcMs),
      f(r.oneApplyMs),
      f(r.oneTotalMs),
      f(r.oneMaxMs),
      f(r.oneAnchorMs),
    ]),
  );

  console.log(
    `\npolicy: N local endpoints, N/10 policies (ingress + egress rules selecting remote endpoints by label), N/2 remote endpoints; cold = calc + apply + neighbors; change = one policy's rules changed, relabel = one remote endpoint's label changed, until in the kernel (${POLICY_REPEATS} each)`,
  );
  table(
    [
      'local eps',
      'policies',
      'remote eps',
      'selector sets',
      'iptables rules',
      'cold calc ms',
      'cold ms',
      'cold tools ms',
      'change p50',
      'change p99',
      'change tools p99',
      'relabel p50',
      'relabel p99',
      'relabel tools p99',
    ],
    pol.map((r) => [
      String(r.n),
      String(r.policies),
      String(r.remote),
      String(r.selectors),
      String(r.rules),
      f(r.calcMs),
      f(r.coldMs),
      f(r.coldAnchorMs),
      f(r.changeMedian),
      f(r.changeP99),
      f(r.changeAnchorP99),
      f(r.relabelMedian),
      f(r.relabelP99),
      f(r.relabelAnchorP99),
    ]),
  );

  const summary: BenchRow[] = [];
  const tools = (figure: unknown) => ({ name: 'ip/iptables-restore replay', figure: figure as number });
  for (const r of rows) {
    const n = r.n as number;
    const at = n.toLocaleString('en-US');
    const big = n === 10_000;
    summary.push(
      {
        row: `${at} endpoints from cold (calc + apply)`,
        figure: ((r.calcMs as number) + (r.coldMs as number)) / 1000,
        unit: 's',
        anchor: { name: 'ip/iptables-restore replay', figure: (r.coldAnchorMs as number) / 1000 },
        ...(big ? { target: { on: 'figure' as const, op: '<=' as const, value: 4 } } : {}),
      },
      {
        row: `one more endpoint at ${at}, median`,
        figure: r.oneTotalMs as number,
        unit: 'ms',
        anchor: tools(r.oneAnchorMs),
        ...(big ? { target: { on: 'figure' as const, op: '<=' as const, value: 50 } } : {}),
      },
      { row: `one more endpoint at ${at}, max`, figure: r.oneMaxMs as number, unit: 'ms' },
      {
        row: `one-rule iptables commit onto the ruleset of ${at} endpoints (the kernel's floor for any write)`,
        figure: r.floorMs as number,
        unit: 'ms',
      },
      {
        row: `one more endpoint at ${at} during the refresh reads`,
        figure: r.duringRefreshMs as number,
        unit: 'ms',
        anchor: tools(r.oneAnchorMs),
        ...(big ? { target: { on: 'figure' as const, op: '<=' as const, value: 100 } } : {}),
      },
    );
  }
  for (const r of vx) {
    const n = r.n as number;
    summary.push({
      row: `one more node at ${n.toLocaleString('en-US')} remote nodes (VXLAN), median, with its neighbor`,
      figure: r.oneTotalMs as number,
      unit: 'ms',
      anchor: tools(r.oneAnchorMs),
      ...(n === 1000 ? { target: { on: 'figure' as const, op: '<' as const, value: 30 } } : {}),
    });
  }
  for (const r of pol) {
    const full = (r.n as number) >= 10_000;
    const what = `${(r.n as number).toLocaleString('en-US')} local eps, ${(r.policies as number).toLocaleString('en-US')} policies, ${(r.remote as number).toLocaleString('en-US')} remote`;
    summary.push(
      {
        row: `policy cold start (${what})`,
        figure: (r.coldMs as number) / 1000,
        unit: 's',
        anchor: { name: 'ip/ipset/iptables-restore replay', figure: (r.coldAnchorMs as number) / 1000 },
        ...(full ? { target: { on: 'figure' as const, op: '<' as const, value: 15 } } : {}),
      },
      {
        row: `one policy changed → programmed, p99 (${what})`,
        figure: r.changeP99 as number,
        unit: 'ms',
        anchor: { name: 'iptables-restore replay', figure: r.changeAnchorP99 as number },
        ...(full ? { target: { on: 'figure' as const, op: '<' as const, value: 150 } } : {}),
      },
      {
        row: `one-rule iptables commit onto the policy ruleset (${what}; the kernel's floor)`,
        figure: r.floorMs as number,
        unit: 'ms',
      },
      {
        row: `one remote endpoint relabelled → programmed, p99 (${what})`,
        figure: r.relabelP99 as number,
        unit: 'ms',
        anchor: { name: 'ipset restore replay', figure: r.relabelAnchorP99 as number },
        ...(full ? { target: { on: 'figure' as const, op: '<' as const, value: 50 } } : {}),
      },
    );
  }
  printSummary('felix dataplane', summary);
}

if (process.argv[2] === '--inner') {
  const n = Number(process.argv[4]);
  if (process.argv[3] === 'vxlan') await innerVxlan(n);
  else if (process.argv[3] === 'policy') await innerPolicy(n, process.argv[5]!.split(','));
  else await innerEndpoints(n, process.argv[5]!.split(','));
} else await outer();
