/**
 * A cluster of many nodes (felix and bird per node, one real etcd), BGP full mesh or through
 * 2 route reflectors:
 * - convergence: one new block per node, claimed at once through IPAM (what the nodes' first
 *   CNI ADDs do), until every node's kernel has a route to every other node's block — read
 *   from `ip -tshort monitor route` in every node, so the times are the kernel's. Anchor: the
 *   etcd writes of those blocks (nothing can converge before the last one is written);
 * - reach: a pod ADDed on one node until a pod on every other node gets its first echo reply
 *   (a waiting shell per pod, started beforehand, turns into `ping -D` when the address is
 *   known, so process start-up is not timed);
 * - memory of felix and bird per node, idle: RSS, PSS (shared pages split between the
 *   processes that map them) and anonymous memory from /proc/PID/smaps_rollup; bird's V8 heap
 *   from its `show status`.
 * Either layout of a node's daemons (Cluster `layout`): felix and bird as two processes, or
 * both in one tricolor-node process (then the heap is the one process's).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { configFromEnv, Datastore } from '@tricolor/datastore';
import { Ipam } from '@tricolor/ipam';
import type { BenchRow } from '@tricolor/testkit';
import { Cluster, type Layout, type NodeHandle, type PodHandle } from '../src/cluster.js';
import { AHEAD_OF_NODES_NICE, aheadOfNodes } from './priority.js';
import { MiB, median, percentile } from './stats.js';

export type ScaleMode = 'mesh' | 'rr';

export interface ScaleOptions {
  reachSamples: number;
  /** Longest wait for convergence and for each reach sample. */
  timeoutMs: number;
  log: (line: string) => void;
}

export interface ScaleResult {
  nodes: number;
  mode: ScaleMode;
  layout: Layout;
  upMs: number;
  etcdWritesMs: number;
  /** Until the last node had the last block; undefined when some never did within the timeout. */
  convergedMs: number | undefined;
  /**
   * Per block: from the write that confirmed its node's affinity (what the node's bird
   * exports on) until the last other node had a route to it — the routing's own share,
   * whatever the pace of the writes.
   */
  blockSpreadMs: number[];
  /** Per sample: until the new pod answered every other node's pod (undefined: some never did). */
  reachEverywhereMs: (number | undefined)[];
  /** Every (sample, other node) pair's time to first reply. */
  reachPairMs: number[];
  /** The CNI ADD of each sample's pod (part of the reach times). */
  reachAddMs: number[];
  memory: NodeMemory[];
  floor: ProcessMemory;
}

export interface ProcessMemory {
  rss: number;
  pss: number;
  anon: number;
}

export interface TreeMemory extends ProcessMemory {
  processes: number;
  /** Of which Node.js processes (each pays the runtime's floor). */
  nodeProcesses: number;
}

export interface NodeMemory {
  node: string;
  /** felix and bird with felix's helper processes: both trees, or the one tricolor-node tree. */
  total: TreeMemory;
  /** The daemons' own processes, without their helpers (felix's spawners, `ip` monitors). */
  own: TreeMemory;
  /** Separate layout only: felix with its helper processes, and bird. */
  felix?: TreeMemory;
  bird?: TreeMemory;
  /** CPU used while idle, in % of one core: both daemons, and (separate layout) each one's. */
  cpu: number;
  felixCpu?: number;
  birdCpu?: number;
  /** bird's V8 heap in use and allocated, from `show status` (one process: felix's too). */
  birdHeapUsed?: number;
  birdHeapTotal?: number;
}

/** Two trees' memory as one (a node's felix and bird). */
function sumMemory(a: TreeMemory, b: TreeMemory): TreeMemory {
  return {
    rss: a.rss + b.rss,
    pss: a.pss + b.pss,
    anon: a.anon + b.anon,
    processes: a.processes + b.processes,
    nodeProcesses: a.nodeProcesses + b.nodeProcesses,
  };
}

/** RSS, PSS and anonymous bytes of a process, from /proc/PID/smaps_rollup. */
export function processMemory(pid: number): ProcessMemory {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { rss: kb('Rss'), pss: kb('Pss'), anon: kb('Anonymous') };
}

/** /proc/PID/stat fields after the command name: [state, ppid, …]. */
function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** A process and all its descendants (felix runs helper processes: spawners, monitors). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const ppid = Number(statFields(pid)?.[1]);
    if (ppid) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(root);
  return out;
}

/** Memory of a process tree, summed (a process gone meanwhile counts 0). */
export function treeMemory(pids: number[]): TreeMemory {
  const sum = { rss: 0, pss: 0, anon: 0, processes: 0, nodeProcesses: 0 };
  for (const pid of pids) {
    try {
      const m = processMemory(pid);
      sum.rss += m.rss;
      sum.pss += m.pss;
      sum.anon += m.anon;
      sum.processes++;
      if (readlinkSync(`/proc/${pid}/exe`) === process.execPath) sum.nodeProcesses++;
    } catch {
      /* exited */
    }
  }
  return sum;
}

/** CPU seconds of a process tree: its own and its reaped children's (utime+stime+cutime+cstime). */
export function treeCpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const f = statFields(pid);
    if (f) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks / CLOCK_TICKS;
}

/** USER_HZ: what /proc/PID/stat counts in (100 on Linux everywhere that matters). */
const CLOCK_TICKS = 100;

/** `ip -tshort monitor route` in a node: when each destination first appeared (ms since the epoch). */
class RouteMonitor {
  readonly firstSeen = new Map<string, number>();
  private buf = '';
  private constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => {
      this.buf += d.toString();
      const lines = this.buf.split('\n');
      this.buf = lines.pop()!;
      for (const l of lines) {
        const m = /^\[([^\]]+)\] (?!Deleted)(?:unreachable |blackhole )?(\S+)/.exec(l);
        if (!m) continue;
        const dst = m[2]!.includes('/') ? m[2]! : `${m[2]}/32`;
        if (!this.firstSeen.has(dst)) this.firstSeen.set(dst, parseShortTimestamp(m[1]!));
      }
    });
  }

  static start(node: NodeHandle): RouteMonitor {
    return new RouteMonitor(
      spawn('ip', ['-tshort', '-n', node.ns.name, 'monitor', 'route'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    );
  }

  stop(): void {
    this.child.kill('SIGTERM');
  }
}

/** `ip -tshort` prints local time with microseconds, without a zone: "2026-12-05T21:40:00.123456". */
export function parseShortTimestamp(ts: string): number {
  const m = /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d+)$/.exec(ts);
  if (!m) return Number.NaN;
  const [, y, mo, d, h, mi, s, frac] = m.map(Number) as number[];
  const ms = Number(`0.${m[7]}`) * 1000;
  void frac;
  return new Date(y!, mo! - 1, d!, h!, mi!, s!).getTime() + ms;
}

/**
 * A shell in a pod's namespace that says "ready", waits for an address on stdin and becomes
 * `ping -D` to it: the reply's kernel timestamp, not when this process noticed it. No count:
 * ping would stop at an ICMP error (an early "host unreachable" while the pod's route is on
 * its way), which is not an answer; it is stopped at the first reply instead.
 */
class ReplyWaiter {
  readonly ready: Promise<void>;
  readonly reply: Promise<number | undefined>;
  /** What ping printed besides replies (errors), for the log. */
  notes = '';
  private constructor(readonly child: ChildProcess) {
    let out = '';
    let readyResolve: () => void = () => undefined;
    this.ready = new Promise((r) => {
      readyResolve = r;
    });
    this.reply = new Promise((resolve) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.startsWith('ready\n')) readyResolve();
        const m = /^\[(\d+\.\d+)\] \d+ bytes from/m.exec(out);
        if (m) {
          resolve(Number(m[1]) * 1000);
          child.kill('SIGKILL');
        }
      });
      child.once('exit', () => {
        readyResolve();
        this.notes = out
          .split('\n')
          .filter((l) => /From |unreachable|error/i.test(l))
          .slice(0, 2)
          .join('; ');
        resolve(undefined);
      });
    });
  }

  static start(pod: PodHandle, timeoutS: number): ReplyWaiter {
    const script = `echo ready; read -r ip; exec ping -D -n -i 0.01 -w ${timeoutS} "$ip"`;
    return new ReplyWaiter(
      spawn('ip', ['netns', 'exec', pod.ns.name, 'sh', '-c', script], { stdio: ['pipe', 'pipe', 'ignore'] }),
    );
  }

  send(ip: string): void {
    this.child.stdin!.end(`${ip}\n`);
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

async function measureConvergence(
  cluster: Cluster,
  o: ScaleOptions,
): Promise<{ etcdWritesMs: number; convergedMs: number | undefined; blockSpreadMs: number[] }> {
  const nodes = [...cluster.nodes.values()];
  const monitors = nodes.map((n) => RouteMonitor.start(n));
  try {
    // Each monitor must be listening before the first write: a route in a table of our own
    // (no daemon looks there) that each one reports.
    const probe = '198.51.100.250/32';
    await new Promise((r) => setTimeout(r, 500));
    for (const n of nodes) await n.ns.exec('ip', ['route', 'add', 'unreachable', probe, 'table', '250']);
    await cluster.waitFor(
      async () => monitors.every((m) => m.firstSeen.has(probe)),
      30_000,
      'route monitors',
    );
    for (const n of nodes) await n.ns.exec('ip', ['route', 'del', 'unreachable', probe, 'table', '250']);

    // A client of its own with a longer request deadline: on a loaded machine a burst of
    // claims can outlast the default 10 s, and etcd3's circuit breaker then fails the rest.
    const ds = Datastore.connect({ ...configFromEnv(cluster.etcdEnv()), requestTimeoutMs: 30_000 });
    // The claim's last step is its allocation; the block is exported from the affinity's
    // confirmation, a few writes before the claim returns.
    const confirmedAt = new Map<string, number>();
    const ipam = new Ipam(ds, {
      maxRetries: 100,
      hook: (point, info) => {
        if (point === 'claim:confirmed' && info.node) confirmedAt.set(info.node, Date.now());
      },
    });
    const claim = async (n: NodeHandle) => {
      for (let attempt = 1; ; attempt++) {
        try {
          const { ipv4 } = await ipam.autoAssign({
            node: n.name,
            handle: `bench-block.${n.name}`,
            num4: 1,
            num6: 0,
          });
          return { node: n.name, block: blockOf(ipv4[0]!), writtenAt: confirmedAt.get(n.name) ?? Date.now() };
        } catch (e) {
          if (attempt === 3) throw e;
          o.log(`block claim for ${n.name} failed (${(e as Error).message}); again in 6 s`);
          await new Promise((r) => setTimeout(r, 6000));
        }
      }
    };
    // The claims stand in for each node's CNI plugin, which in a real cluster shares the cores
    // of its own node only; here it would wait behind every node's daemons for two cores, and
    // the claims' pace would measure that wait. So this thread, and etcd through this
    // session's scheduling group, run ahead of the nodes while it claims (priority.ts). Route
    // times are the `ip monitor` children's, not ours.
    const t0 = Date.now();
    // As the nodes' first ADDs would, at once — ten in flight at a time from this one client.
    const blocks: { node: string; block: string; writtenAt: number }[] = [];
    let next = 0;
    await aheadOfNodes(
      () =>
        Promise.all(
          Array.from({ length: Math.min(10, nodes.length) }, async () => {
            while (next < nodes.length) blocks.push(await claim(nodes[next++]!));
          }),
        ),
      o.log,
    ).finally(() => ds.close());
    const etcdWritesMs = Date.now() - t0;
    const complete = (i: number) =>
      blocks.every((b) => b.node === nodes[i]!.name || monitors[i]!.firstSeen.has(b.block));
    let done = false;
    try {
      await cluster.waitFor(
        async () => nodes.every((_, i) => complete(i)),
        o.timeoutMs,
        'every node has every block',
      );
      done = true;
    } catch {
      const missing = nodes.filter((_, i) => !complete(i)).map((n) => n.name);
      o.log(
        `convergence: ${missing.length} node(s) still missing blocks after ${o.timeoutMs} ms: ${missing.slice(0, 10).join(', ')}`,
      );
    }
    if (!done) return { etcdWritesMs, convergedMs: undefined, blockSpreadMs: [] };
    let last = t0;
    const spread = blocks.map(() => 0);
    for (let i = 0; i < nodes.length; i++)
      blocks.forEach((b, j) => {
        if (b.node === nodes[i]!.name) return;
        const seen = monitors[i]!.firstSeen.get(b.block)!;
        last = Math.max(last, seen);
        spread[j] = Math.max(spread[j]!, seen - b.writtenAt);
      });
    return { etcdWritesMs, convergedMs: last - t0, blockSpreadMs: spread };
  } finally {
    for (const m of monitors) m.stop();
  }
}

/** The /26 a pod address lies in (the pool's block size). */
function blockOf(cidr: string): string {
  const ip = cidr.split('/')[0]!.split('.').map(Number);
  const n = ((ip[0]! << 24) | (ip[1]! << 16) | (ip[2]! << 8) | ip[3]!) >>> 0;
  const base = n & ~0x3f;
  return `${[base >>> 24, (base >>> 16) & 255, (base >>> 8) & 255, base & 255].join('.')}/26`;
}

async function measureReach(
  cluster: Cluster,
  probes: Map<string, PodHandle>,
  o: ScaleOptions,
): Promise<{ everywhere: (number | undefined)[]; pairs: number[]; addMs: number[] }> {
  const nodes = [...cluster.nodes.keys()];
  const everywhere: (number | undefined)[] = [];
  const pairs: number[] = [];
  const addMs: number[] = [];
  const timeoutS = Math.ceil(o.timeoutMs / 1000);
  for (let s = 0; s < o.reachSamples; s++) {
    const target = nodes[(s * 7) % nodes.length]!;
    const waiters = [...probes.values()]
      .filter((p) => p.node !== target)
      .map((p) => ReplyWaiter.start(p, timeoutS));
    try {
      await Promise.all(waiters.map((w) => w.ready));
      const t0 = Date.now();
      const pod = await cluster.createPod(target, `reach-${s}`);
      addMs.push(pod.addMs);
      for (const w of waiters) w.send(pod.ip);
      const replies = await Promise.all(waiters.map((w) => w.reply));
      const times = replies.map((r) => (r === undefined ? undefined : r - t0));
      for (const t of times) if (t !== undefined) pairs.push(t);
      const lost = times.filter((t) => t === undefined).length;
      const notes = waiters.map((w) => w.notes).filter(Boolean);
      if (notes.length) o.log(`reach ${s + 1}: ping said: ${notes.slice(0, 3).join(' | ')}`);
      everywhere.push(lost ? undefined : Math.max(...(times as number[])));
      o.log(
        `reach ${s + 1}/${o.reachSamples}: pod on ${target} answered ${times.length - lost}/${times.length} nodes, last after ${lost ? '—' : `${Math.round(Math.max(...(times as number[])))} ms`}`,
      );
    } finally {
      for (const w of waiters) w.kill();
    }
  }
  return { everywhere, pairs, addMs };
}

async function measureMemory(cluster: Cluster, idleMs: number): Promise<NodeMemory[]> {
  const nodes = [...cluster.nodes.values()].filter((n) => n.felix.pid && n.bird?.pid);
  // One tricolor-node process is felix and bird at once: its tree counts once.
  const roots = (n: NodeHandle) => (n.bird === n.felix ? [n.felix.pid!] : [n.felix.pid!, n.bird!.pid!]);
  const trees = nodes.map((n) => roots(n).map(processTree));
  const cpu0 = trees.map((t) => t.map(treeCpuSeconds));
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, idleMs));
  const seconds = (performance.now() - t0) / 1000;
  const out: NodeMemory[] = nodes.map((n, i) => {
    // CPU of the trees seen at the start; memory of the trees again: helpers started meanwhile
    // count, ones gone count 0.
    const cpu = trees[i]!.map((t, j) => ((treeCpuSeconds(t) - cpu0[i]![j]!) / seconds) * 100);
    const memory = roots(n).map((pid) => treeMemory(processTree(pid)));
    const total = memory.reduce(sumMemory);
    const own = treeMemory(roots(n));
    if (memory.length === 1) return { node: n.name, total, own, cpu: cpu[0]! };
    return {
      node: n.name,
      total,
      own,
      felix: memory[0],
      bird: memory[1],
      cpu: cpu[0]! + cpu[1]!,
      felixCpu: cpu[0],
      birdCpu: cpu[1],
    };
  });
  // bird's heap (a CLI process per node: a sample of ten is enough).
  for (const m of out.slice(0, 10)) {
    try {
      const s = JSON.parse(await cluster.birdc(m.node, ['show', 'status', '-o', 'json'])) as {
        memory?: { heapUsed: number; heapTotal: number };
      };
      m.birdHeapUsed = s.memory?.heapUsed;
      m.birdHeapTotal = s.memory?.heapTotal;
    } catch {
      /* left out of the heap figures */
    }
  }
  return out;
}

/**
 * The floor every Node.js daemon pays before doing anything: an idle `node` process with a
 * timer, measured the same way in the same run (the anchor of the memory rows).
 */
export async function nodeRuntimeFloor(): Promise<ProcessMemory> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 2000));
    return processMemory(child.pid!);
  } finally {
    child.kill('SIGTERM');
  }
}

export async function measureScale(
  nodes: number,
  mode: ScaleMode,
  layout: Layout,
  o: ScaleOptions,
): Promise<ScaleResult> {
  const t0 = performance.now();
  const cluster = await Cluster.up({
    nodes,
    mode,
    layout,
    routeReflectors: 2,
    readyTimeoutMs: Math.max(60_000, nodes * 3000),
    // felix's own refresh intervals, as on a production node (the tests' 5 s would have a
    // hundred felixes re-reading their kernel state twenty times a second on two cores).
    felixRefreshSeconds: null,
    // etcd's own watch progress interval too: the tests' 200 ms wakes every watcher of every
    // daemon five times a second.
    watchProgressNotifyMs: null,
    // etcd as a control plane with machines of its own: ahead of the nodes for the CPU, its
    // data on a disk nobody else writes (tmpfs). At 100 nodes sharing the disk its fsyncs took
    // 60–150 ms and 100 block claims took 211–269 s: every figure after measured the disk.
    etcdNice: AHEAD_OF_NODES_NICE,
    etcdDataParent: '/dev/shm',
    log: o.log,
  });
  try {
    const upMs = performance.now() - t0;
    o.log(`${nodes} nodes (${mode}, ${layout}) up in ${Math.round(upMs)} ms`);
    const conv = await measureConvergence(cluster, o);
    o.log(
      `convergence: etcd writes ${conv.etcdWritesMs} ms, every node has every block after ${conv.convergedMs ?? '—'} ms`,
    );
    // One pod per node to answer the reach samples (in the node's block claimed above).
    const probes = new Map<string, PodHandle>();
    for (const n of cluster.nodes.keys()) probes.set(n, await cluster.createPod(n, `probe-${n}`));
    const reach = await measureReach(cluster, probes, o);
    // Idle: nothing changes (felix refreshes, BGP keepalives only); CPU counted over 20 s.
    await new Promise((r) => setTimeout(r, 5_000));
    const memory = await measureMemory(cluster, 20_000);
    const floor = await nodeRuntimeFloor();
    return {
      nodes,
      mode,
      layout,
      upMs,
      etcdWritesMs: conv.etcdWritesMs,
      convergedMs: conv.convergedMs,
      blockSpreadMs: conv.blockSpreadMs,
      reachEverywhereMs: reach.everywhere,
      reachPairMs: reach.pairs,
      reachAddMs: reach.addMs,
      memory,
      floor,
    };
  } finally {
    await cluster.down();
  }
}

/** The rows' label: the separate layout keeps the names earlier runs reported under. */
export function scaleLabel(nodes: number, mode: ScaleMode, layout: Layout): string {
  return `${nodes} nodes, ${mode === 'mesh' ? 'full mesh' : '2 route reflectors'}${layout === 'one-process' ? ', one process' : ''}`;
}

export function scaleRows(r: ScaleResult, timeoutMs: number): BenchRow[] {
  const label = scaleLabel(r.nodes, r.mode, r.layout);
  // A sample that never answered everywhere counts as the timeout (and misses the target).
  const everywhere = r.reachEverywhereMs.map((x) => x ?? timeoutMs);
  const perNode = r.memory.map((m) => m.total.rss);
  const mib = (x: number) => x / MiB;
  // As many idle Node.js processes as felix and bird run per node (felix has helpers).
  const nodeProcs = median(r.memory.map((m) => m.total.nodeProcesses));
  const separate = r.memory.filter(
    (m): m is NodeMemory & Required<Pick<NodeMemory, 'felix' | 'bird' | 'felixCpu' | 'birdCpu'>> =>
      m.felix !== undefined,
  );
  const floors = (f: (m: ProcessMemory) => number) => ({
    name: `${nodeProcs} idle node processes`,
    figure: mib(nodeProcs * f(r.floor)),
  });
  const heaps = r.memory.filter((m) => m.birdHeapUsed !== undefined).map((m) => m.birdHeapUsed!);
  return [
    { row: `${label}: cluster up (daemons ready)`, figure: r.upMs / 1000, unit: 's' },
    {
      row: `${label}: every node has every block`,
      figure: (r.convergedMs ?? timeoutMs) / 1000,
      unit: 's',
      anchor: { name: `etcd writes of the ${r.nodes} blocks`, figure: r.etcdWritesMs / 1000 },
      target: { on: 'figure', op: '<', value: 30 },
    },
    ...(r.blockSpreadMs.length
      ? [50, 99].map((p) => ({
          row: `${label}: a block's route on every other node after its claim's confirmation, p${p} (${r.blockSpreadMs.length})`,
          figure: percentile(r.blockSpreadMs, p),
          unit: 'ms',
        }))
      : []),
    {
      row: `${label}: new pod answers every other node p50 (${everywhere.length})`,
      figure: percentile(everywhere, 50),
      unit: 'ms',
    },
    {
      row: `${label}: new pod answers every other node p99 (${everywhere.length})`,
      figure: percentile(everywhere, 99),
      unit: 'ms',
      target: { on: 'figure', op: '<', value: 1000 },
    },
    {
      row: `${label}: new pod answers one other node p50 (${r.reachPairMs.length} pairs)`,
      figure: percentile(r.reachPairMs, 50),
      unit: 'ms',
    },
    { row: `${label}: of which the CNI ADD, p50`, figure: percentile(r.reachAddMs, 50), unit: 'ms' },
    {
      row: `${label}: felix + bird RSS per node idle, max`,
      figure: mib(Math.max(...perNode)),
      unit: 'MiB',
      anchor: floors((m) => m.rss),
      target: { on: 'figure', op: '<=', value: 150 },
    },
    ...(separate.length
      ? [
          {
            row: `${label}: felix RSS per node (${median(separate.map((m) => m.felix.processes))} processes), median`,
            figure: mib(median(separate.map((m) => m.felix.rss))),
            unit: 'MiB',
          },
          {
            row: `${label}: bird RSS per node, median`,
            figure: mib(median(separate.map((m) => m.bird.rss))),
            unit: 'MiB',
          },
        ]
      : [
          {
            row: `${label}: tricolor-node RSS per node (${median(r.memory.map((m) => m.total.processes))} processes), median`,
            figure: mib(median(r.memory.map((m) => m.total.rss))),
            unit: 'MiB',
          },
        ]),
    {
      row: `${label}: felix + bird RSS per node without helper processes, median`,
      figure: mib(median(r.memory.map((m) => m.own.rss))),
      unit: 'MiB',
      anchor: {
        name: `${median(r.memory.map((m) => m.own.nodeProcesses))} idle node processes`,
        figure: mib(median(r.memory.map((m) => m.own.nodeProcesses)) * r.floor.rss),
      },
    },
    {
      row: `${label}: felix + bird PSS per node, median`,
      figure: mib(median(r.memory.map((m) => m.total.pss))),
      unit: 'MiB',
      anchor: floors((m) => m.pss),
    },
    {
      row: `${label}: felix + bird anonymous memory per node, median`,
      figure: mib(median(r.memory.map((m) => m.total.anon))),
      unit: 'MiB',
      anchor: floors((m) => m.anon),
    },
    ...(separate.length
      ? [
          {
            row: `${label}: felix CPU per node idle, median`,
            figure: median(separate.map((m) => m.felixCpu)),
            unit: '% of a core',
          },
          {
            row: `${label}: bird CPU per node idle, median`,
            figure: median(separate.map((m) => m.birdCpu)),
            unit: '% of a core',
          },
        ]
      : [
          {
            row: `${label}: felix + bird CPU per node idle, median`,
            figure: median(r.memory.map((m) => m.cpu)),
            unit: '% of a core',
          },
        ]),
    {
      row: `${label}: ${separate.length ? 'bird' : 'felix + bird'} V8 heap used, median of ${heaps.length}`,
      figure: mib(median(heaps)),
      unit: 'MiB',
    },
  ];
}
