/**
 * A route reflector with N clients, as an operator runs one: one BIRD 2 process holds the N
 * client sessions (each with its own address and router id, exporting its own /26 and
 * importing everything reflected), and the reflector under test is (re)started against
 * them. Reflectors, one after the other, each against a freshly started client BIRD:
 * tricolor-bird, BIRD 2 and GoBGP, all configured alike (every client an rr-client, both
 * sides connecting, connect-retry 5 s, no kernel; otherwise each daemon's defaults, e.g. a
 * connect delay of up to 5 s in BIRD and ours). BIRD listens with a backlog of 8, so its
 * sessions bind their own listening socket each (`strict bind`): with one shared socket 500
 * simultaneous connects overflow it and SYN retransmits, not the reflector, set the pace.
 *
 * Figures per reflector: seconds from its start until every client has every other
 * client's block (N·N routes in the client BIRD: N own + N·(N−1) reflected); seconds for one
 * new block (a disabled static protocol enabled in client 0) to reach every client; client
 * sessions that went down after being up (from the client BIRD's state log); the
 * reflector's peak RSS (VmHWM) and CPU seconds over the run.
 */
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BenchRow, type Bird, Daemon, Netns, Segment, startBird, startGobgp } from '@tricolor/testkit';
import { query } from '../src/control/client.js';
import { BIRD_BIN, BIRD_JS } from '../test/helpers.js';
import {
  birdRouteCount,
  cpuSeconds,
  destroyNamespace,
  peakRssMiB,
  secondsUntil,
  sleep,
  track,
} from './lib.js';

const RR = '10.64.0.1';
/**
 * The reflector's address towards client i. BIRD locks one protocol per neighbor address,
 * so the client sessions of one BIRD process each need a neighbor address of their own:
 * the reflector namespace carries one per client (and listens on all of them).
 */
export const reflectorAddress = (i: number) => `10.64.${101 + Math.floor(i / 250)}.${1 + (i % 250)}`;
const CLUSTER_ID = '244.0.0.1';

/** Client i's address (and router id): 10.64.1.1 … , skipping .0 and .255. */
export const clientAddress = (i: number) => `10.64.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
/** Client i's block: the i-th /26 of 10.200.0.0/16. */
export const clientBlock = (i: number) => {
  const a = (200 << 16) + i * 64;
  return `10.${a >>> 16}.${(a >>> 8) & 255}.${a & 255}/26`;
};
const EXTRA = '10.201.0.0/26';
/**
 * The next hop client i announces: on the shared /16 but no client's own address (every
 * client lives in one BIRD process, which would take its own addresses for invalid next hops).
 */
const nextHop = (i: number) => `10.64.${151 + Math.floor(i / 250)}.${1 + (i % 250)}`;

export interface ReflectorFigures {
  name: string;
  convergeSeconds: number;
  spreadSeconds: number;
  drops: number;
  peakRssMiB: number;
  cpuSeconds: number;
}

/**
 * The client BIRD: per client a table of its own holding its static /26 and what it
 * imports, so one imported route is offered to one channel (in one shared table every
 * import would run the export filters of all N channels: N·N·N filter runs, and the client
 * side, not the reflector, would set the pace). Next hops resolve recursively through
 * master4 (the connected /16): in direct mode BIRD keeps a neighbor entry per protocol and
 * next hop, N·N of them in a 256-bucket hash, and the client would spend minutes there.
 */
export function clientConfig(n: number, log: string): string {
  const clients = Array.from({ length: n }, (_, i) => {
    const extra =
      i === 0
        ? `protocol static extra { disabled yes; ipv4 { table t${i}; }; route ${EXTRA} blackhole; }\n`
        : '';
    return `ipv4 table t${i};
protocol static s${i} { ipv4 { table t${i}; }; route ${clientBlock(i)} blackhole; }
${extra}protocol bgp c${i} from client_tpl { router id ${clientAddress(i)}; local ${clientAddress(i)} as 64512;
  neighbor ${reflectorAddress(i)} as 64512;
  ipv4 { table t${i}; igp table master4; gateway recursive; import all; export where source = RTS_STATIC;
    next hop address ${nextHop(i)}; }; }`;
  }).join('\n');
  return `router id 10.64.255.254;
log "${log}" all;
debug protocols { ${process.env.BIRD_BENCH_CLIENT_DEBUG ?? 'states'} };
protocol device {}
protocol direct { ipv4; interface "eth0"; }
template bgp client_tpl { direct; ${process.env.BIRD_BENCH_CLIENT_STRICT ? 'strict bind on;' : ''} connect delay time 1; connect retry time 5; error wait time 1, 10; }
${clients}
`;
}

/** Client sessions that went down after having been up, from BIRD's `debug protocols { states }` log. */
export function dropsFromLog(log: string): number {
  const up = new Set<string>();
  let drops = 0;
  for (const m of log.matchAll(/ (c\d+): State changed to (\w+)/g)) {
    const [, name, state] = m;
    if (state === 'up') up.add(name!);
    else if (up.has(name!)) {
      drops++;
      up.delete(name!);
    }
  }
  return drops;
}

/**
 * `waits`: the reflector is passive towards its clients (as tricolor-bird derives it from
 * etcd); `connects`: both sides connect and their connections collide (the reflector wins
 * none: every client has the higher BGP identifier).
 */
export type ReflectorMode = 'waits' | 'connects';

type Starter = (ns: Netns, dir: string, n: number, mode: ReflectorMode) => Promise<Daemon>;

const ours: Starter = async (ns, dir, n, mode) => {
  const file = join(dir, 'ours-rr.json');
  writeFileSync(
    file,
    JSON.stringify({
      routerId: RR,
      as: 64512,
      listen: '0.0.0.0',
      clusterId: CLUSTER_ID,
      kernel: false,
      controlPath: join(dir, 'ours-rr.ctl'),
      logLevel: process.env.BIRD_BENCH_OURS_LOG ?? 'warn',
      peers: Array.from({ length: n }, (_, i) => ({
        address: clientAddress(i),
        localAddress: reflectorAddress(i),
        rrClient: true,
        passive: mode === 'waits',
        name: `c${i}`,
      })),
    }),
  );
  // The command operators run (the bin script, with the node flags of its #! line), unless
  // node flags are given for profiling.
  const nodeArgs = process.env.BIRD_BENCH_OURS_NODE_ARGS?.split(' ').filter(Boolean);
  if (nodeArgs)
    return Daemon.spawn(ns, process.execPath, [...nodeArgs, BIRD_JS, '--config', file], 'tricolor-bird');
  return Daemon.spawn(ns, BIRD_BIN, ['--config', file], 'tricolor-bird');
};

const bird2: Starter = async (ns, dir, n, mode) => {
  const sessions = Array.from(
    { length: n },
    (_, i) =>
      `protocol bgp c${i} from rr_tpl { local ${reflectorAddress(i)} as 64512; neighbor ${clientAddress(i)} as 64512; }`,
  ).join('\n');
  const b = await startBird(ns, {
    dir,
    name: 'rr-bird',
    config: `router id ${RR};
protocol device {}
template bgp rr_tpl { direct; strict bind on; ${mode === 'waits' ? 'passive on;' : ''} rr client; rr cluster id ${CLUSTER_ID};
  connect retry time 5; ipv4 { import all; export all; }; }
${sessions}
`,
  });
  return b.daemon;
};

const gobgp: Starter = async (ns, dir, n, mode) => {
  const neighbors = Array.from(
    { length: n },
    (_, i) => `[[neighbors]]
  [neighbors.config]
    neighbor-address = "${clientAddress(i)}"
    peer-as = 64512
  [neighbors.transport.config]
    local-address = "${reflectorAddress(i)}"
    passive-mode = ${mode === 'waits'}
  [neighbors.timers.config]
    connect-retry = 5
  [neighbors.route-reflector.config]
    route-reflector-client = true
    route-reflector-cluster-id = "${CLUSTER_ID}"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
`,
  ).join('');
  const g = await startGobgp(ns, {
    dir,
    toml: `[global.config]
  as = 64512
  router-id = "${RR}"
${neighbors}`,
  });
  return g.daemon;
};

export const REFLECTORS: { name: string; start: Starter }[] = [
  { name: 'tricolor-bird', start: ours },
  { name: 'BIRD 2', start: bird2 },
  { name: 'GoBGP', start: gobgp },
];

/** Runs every reflector against N clients; namespaces and processes are removed however it ends. */
export async function measureReflectors(
  n: number,
  mode: ReflectorMode,
  dir: string,
): Promise<ReflectorFigures[]> {
  const seg = await Segment.create('rrb');
  const rrNs = await Netns.create('rr');
  const clNs = await Netns.create('cl');
  const out: ReflectorFigures[] = [];
  try {
    await seg.attach(rrNs, `${RR}/16`);
    await seg.attach(clNs, '10.64.255.254/16');
    const aliases = async (ns: Netns, addr: (i: number) => string) => {
      const lines = Array.from({ length: n }, (_, i) => `addr add ${addr(i)}/16 dev eth0`);
      await ns.exec('ip', ['-batch', '-'], { input: `${lines.join('\n')}\n` });
    };
    await aliases(clNs, clientAddress);
    await aliases(rrNs, reflectorAddress);
    const only = process.env.BIRD_BENCH_REFLECTORS?.split(',');
    for (const r of REFLECTORS.filter((x) => !only || only.includes(x.name))) {
      const log = join(dir, `clients-${n}-${mode}-${out.length}.log`);
      rmSync(log, { force: true });
      let clients: Bird | undefined;
      let rr: Daemon | undefined;
      try {
        clients = await startBird(clNs, {
          dir,
          name: `clients-${n}-${mode}-${out.length}`,
          config: clientConfig(n, log),
          readyTimeoutMs: 60_000,
        });
        track(clients.daemon);
        const c = clients;
        process.stderr.write(`RR ${n} clients, reflector ${mode}, ${r.name}: client BIRD started\n`);
        await secondsUntil(
          'client BIRD loaded',
          performance.now(),
          async () => (await birdRouteCount(c)) >= n + 1,
          60_000,
        );
        const base = await birdRouteCount(c); // the statics and the connected /16
        const t0 = performance.now();
        rr = track(await r.start(rrNs, dir, n, mode));
        const d = rr;
        const alive = async () => {
          if (!d.alive) throw new Error(`${r.name} exited: ${d.logs().slice(-2000)}`);
          return true;
        };
        const converge = await secondsUntil(
          `${r.name}: every client has every block`,
          t0,
          async () => (await alive()) && (await birdRouteCount(c)) >= base + n * (n - 1),
          600_000,
          250,
        );
        const t1 = performance.now();
        await c.birdc('enable extra');
        const spread = await secondsUntil(
          `${r.name}: the new block at every client`,
          t1,
          async () => (await alive()) && (await birdRouteCount(c)) >= base + n * n,
          300_000,
          100,
        );
        await sleep(3000); // sessions that drop after converging count too
        if (r.name === 'tricolor-bird') {
          const st = (await query(join(dir, 'ours-rr.ctl'), 'show status').catch(() => undefined)) as
            | { memory: Record<string, number>; eventLoopDelayMs: Record<string, number> }
            | undefined;
          if (process.env.BIRD_BENCH_HEAPSNAPSHOT) {
            // Needs BIRD_BENCH_OURS_NODE_ARGS=--heapsnapshot-signal=SIGUSR2; written in the daemon's cwd.
            d.signal('SIGUSR2');
            await sleep(15_000);
          }
          if (process.env.BIRD_BENCH_SMAPS)
            writeFileSync(
              join(process.env.BIRD_BENCH_SMAPS, `ours-${n}.smaps`),
              readFileSync(`/proc/${d.child.pid}/smaps`),
            );
          const roll = readFileSync(`/proc/${d.child.pid}/smaps_rollup`, 'utf8');
          const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(roll)?.[1] ?? 0) / 1024;
          process.stderr.write(
            `RR ${n} clients, reflector ${mode}, ${r.name}: resident ${kb('Rss').toFixed(1)} MiB = anonymous ${kb('Anonymous').toFixed(1)} + files ${(kb('Rss') - kb('Anonymous')).toFixed(1)}\n`,
          );
          if (st)
            process.stderr.write(
              `RR ${n} clients, reflector ${mode}, ${r.name}: memory now ${Object.entries(st.memory)
                .map(([k, v]) => `${k} ${(v / 1048576).toFixed(1)}`)
                .join(', ')} MiB; event loop delay ${JSON.stringify(st.eventLoopDelayMs)} ms\n`,
            );
        }
        if (process.env.BIRD_BENCH_KEEP_LOGS && r.name === 'tricolor-bird')
          writeFileSync(join(process.env.BIRD_BENCH_KEEP_LOGS, `ours-${n}.log`), d.logs());
        if (process.env.BIRD_BENCH_KEEP_LOGS)
          copyFileSync(log, join(process.env.BIRD_BENCH_KEEP_LOGS, `clients-${n}-${r.name}.log`));
        const ups = [
          ...readFileSync(log, 'utf8').matchAll(
            /(\d\d):(\d\d):(\d\d\.\d+) <TRACE> c\d+: State changed to up/g,
          ),
        ].map((m) => Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]));
        if (ups.length)
          process.stderr.write(
            `RR ${n} clients, reflector ${mode}, ${r.name}: ${ups.length} sessions up over ${(Math.max(...ups) - Math.min(...ups)).toFixed(2)} s\n`,
          );
        const fig: ReflectorFigures = {
          name: r.name,
          convergeSeconds: converge,
          spreadSeconds: spread,
          drops: dropsFromLog(readFileSync(log, 'utf8')),
          peakRssMiB: peakRssMiB(d.child.pid!),
          cpuSeconds: cpuSeconds(d.child.pid!),
        };
        out.push(fig);
        process.stderr.write(
          `RR ${n} clients, reflector ${mode}, ${r.name}: converge ${fig.convergeSeconds.toFixed(2)} s, one block ${fig.spreadSeconds.toFixed(2)} s, ` +
            `drops ${fig.drops}, peak RSS ${fig.peakRssMiB.toFixed(0)} MiB, CPU ${fig.cpuSeconds.toFixed(1)} s\n`,
        );
      } finally {
        await rr?.stop('SIGTERM');
        await clients?.stop('SIGKILL');
      }
    }
  } finally {
    for (const ns of [clNs, rrNs, seg.hub]) await destroyNamespace(ns);
  }
  return out;
}

/**
 * Summary rows for one size and mode: ours against BIRD 2 (time, drops) and GoBGP (memory).
 * The targets are the issue's, set for hundreds of clients; at a handful of clients process
 * start-up is most of the time and Node's own footprint most of the memory, so smaller sizes
 * are shown without them (drops excepted).
 */
export function reflectorRows(n: number, mode: ReflectorMode, figs: ReflectorFigures[]): BenchRow[] {
  const atScale = n >= 100;
  const by = (name: string) => figs.find((f) => f.name === name);
  const o = by('tricolor-bird');
  const b = by('BIRD 2');
  const g = by('GoBGP');
  if (!o) return [];
  const rows: BenchRow[] = [];
  const anchor = (f: ReflectorFigures | undefined, v: (x: ReflectorFigures) => number) =>
    f ? { anchor: { name: f.name, figure: v(f) } } : {};
  rows.push({
    row: `RR ${n} clients, reflector ${mode}: converge`,
    figure: o.convergeSeconds,
    unit: 's',
    ...anchor(b, (x) => x.convergeSeconds),
    ...(atScale ? { target: { on: 'ratio', op: '<=', value: 1.5 } } : {}),
  });
  rows.push({
    row: `RR ${n} clients, reflector ${mode}: spread one block`,
    figure: o.spreadSeconds,
    unit: 's',
    ...anchor(b, (x) => x.spreadSeconds),
    ...(atScale ? { target: { on: 'ratio', op: '<=', value: 1.5 } } : {}),
  });
  rows.push({
    row: `RR ${n} clients, reflector ${mode}: session drops`,
    figure: o.drops,
    unit: '',
    ...anchor(b, (x) => x.drops),
    target: { on: 'figure', op: '<=', value: 0 },
  });
  rows.push({
    row: `RR ${n} clients, reflector ${mode}: peak RSS`,
    figure: o.peakRssMiB,
    unit: 'MiB',
    ...anchor(b, (x) => x.peakRssMiB),
    ...(atScale ? { target: { on: 'figure', op: '<=', value: 150 } } : {}),
  });
  rows.push({
    row: `RR ${n} clients, reflector ${mode}: peak RSS vs GoBGP`,
    figure: o.peakRssMiB,
    unit: 'MiB',
    ...anchor(g, (x) => x.peakRssMiB),
    ...(atScale ? { target: { on: 'ratio', op: '<', value: 1 } } : {}),
  });
  rows.push({
    row: `RR ${n} clients, reflector ${mode}: CPU`,
    figure: o.cpuSeconds,
    unit: 's',
    ...anchor(b, (x) => x.cpuSeconds),
  });
  if (g)
    rows.push({
      row: `RR ${n} clients, reflector ${mode}: converge vs GoBGP`,
      figure: o.convergeSeconds,
      unit: 's',
      ...anchor(g, (x) => x.convergeSeconds),
    });
  return rows;
}
