/**
 * Learning a full table: a BIRD 2 sender with N static IPv4 /24s announces them over eBGP
 * to, one after the other: our speaker (Loc-RIB only), BIRD 2 (RIB only), GoBGP (RIB
 * only), our speaker with kernel install (main table, proto bird) and BIRD 2 with a
 * `kernel` protocol exporting into a routing table of its own. For each receiver: seconds
 * from process start until all routes are in its RIB (and the kernel), and peak RSS (VmHWM).
 * Kernel routes are counted from /proc/net/fib_triestat (no dump of a million routes).
 */
import { join } from 'node:path';
import {
  type BenchRow,
  type Bird,
  Daemon,
  type Gobgp,
  Netns,
  Segment,
  startBird,
  startGobgp,
} from '@tricolor/testkit';
import { query } from '../src/control/client.js';
import { BIRD_BIN } from '../test/helpers.js';
import {
  birdRouteCount,
  cpuSeconds,
  destroyNamespace,
  peakRssMiB,
  secondsUntil,
  sleep,
  track,
} from './lib.js';

const SENDER = '10.63.0.1';
const RECEIVER = '10.63.0.2';
const KERNEL_TABLE = 100;

export interface ReceiverFigures {
  name: string;
  seconds: number;
  peakRssMiB: number;
  /** CPU seconds, with those of the `ip` processes our speaker ran. */
  cpuSeconds: number;
}

/** Prefixes the kernel holds in a table (`Main` or `Id N`), from /proc/net/fib_triestat. */
async function kernelPrefixes(ns: Netns, table: 'Main' | number): Promise<number> {
  const out = (await ns.exec('cat', ['/proc/net/fib_triestat'])).stdout;
  const head = table === 'Main' ? 'Main:' : `Id ${table}:`;
  const at = out.indexOf(`\n${head}`);
  if (at < 0) return 0;
  return Number(/Prefixes:\s+(\d+)/.exec(out.slice(at))?.[1] ?? 0);
}

export async function measureFullTable(count: number, dir: string): Promise<ReceiverFigures[]> {
  const seg = await Segment.create('ftb');
  const sender = await Netns.create('snd');
  const recv = await Netns.create('rcv');
  const figs: ReceiverFigures[] = [];
  let snd: Bird | undefined;
  try {
    await seg.attach(sender, `${SENDER}/16`);
    await seg.attach(recv, `${RECEIVER}/16`);
    const lines: string[] = [];
    for (let i = 0; i < count; i++)
      lines.push(`route ${16 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24 blackhole;`);
    snd = await startBird(sender, {
      dir,
      name: 'sender',
      readyTimeoutMs: 300_000,
      config: `router id ${SENDER};
protocol device {}
protocol static big { ipv4; ${lines.join('\n')} }
protocol bgp rcv { local ${SENDER} as 65000; neighbor ${RECEIVER} as 64512; passive on; hold time 240;
  ipv4 { import none; export all; next hop self; }; }
`,
    });
    lines.length = 0;
    track(snd.daemon);
    const s = snd;
    await secondsUntil(
      'sender loaded',
      performance.now(),
      async () => (await birdRouteCount(s)) >= count,
      300_000,
      1000,
    );
    process.stderr.write(`full table ${count}: sender ready\n`);
    const mainBase = await kernelPrefixes(recv, 'Main');

    const measure = async (name: string, start: () => Promise<Daemon>, done: () => Promise<boolean>) => {
      const t0 = performance.now();
      const d = track(await start());
      try {
        const secs = await secondsUntil(
          `${name}: full table`,
          t0,
          async () => {
            if (!d.alive) throw new Error(`${name} exited: ${d.logs().slice(-2000)}`);
            return done();
          },
          900_000,
          250,
        );
        const pid = d.child.pid!;
        const f = { name, seconds: secs, peakRssMiB: peakRssMiB(pid), cpuSeconds: cpuSeconds(pid, true) };
        figs.push(f);
        process.stderr.write(
          `full table ${count}, ${name}: ${secs.toFixed(1)} s, peak RSS ${f.peakRssMiB.toFixed(0)} MiB, CPU ${f.cpuSeconds.toFixed(1)} s\n`,
        );
      } finally {
        await d.stop('SIGKILL');
        await sleep(1000);
      }
    };

    const ours = (kernel: boolean) => {
      const ctl = join(dir, `ours-${kernel}.ctl`);
      return {
        start: async () =>
          Daemon.spawn(
            recv,
            BIRD_BIN,
            [
              '--router-id',
              RECEIVER,
              '--as',
              '64512',
              '--listen',
              RECEIVER,
              '--peer',
              `${SENDER}:65000`,
              '--control',
              ctl,
              '--connect-retry',
              '1',
              '--connect-delay',
              '0',
              '--no-graceful-restart',
              '--reconcile',
              '3600',
              '--log-level',
              'warn',
              kernel ? '--kernel' : '--no-kernel',
            ],
            'tricolor-bird',
          ),
        done: async () => {
          const st = (await query(ctl, 'show status').catch(() => undefined)) as
            | { locRibPrefixes: number }
            | undefined;
          if (!st || st.locRibPrefixes < count) return false;
          return !kernel || (await kernelPrefixes(recv, 'Main')) - mainBase >= count;
        },
      };
    };
    const o1 = ours(false);
    await measure('tricolor-bird (Loc-RIB)', o1.start, o1.done);

    const birdReceiver = (kernel: boolean) => {
      let b: Bird | undefined;
      return {
        start: async () => {
          b = await startBird(recv, {
            dir,
            name: kernel ? 'rbird-kernel' : 'rbird',
            config: `router id ${RECEIVER};
protocol device {}
${kernel ? `protocol kernel k { ipv4 { export all; }; kernel table ${KERNEL_TABLE}; learn off; scan time 3600; }` : ''}
protocol bgp snd { local ${RECEIVER} as 64512; neighbor ${SENDER} as 65000; connect delay time 0; connect retry time 1;
  ipv4 { import all; export none; }; }
`,
          });
          return b.daemon;
        },
        done: async () => {
          if (!b || (await birdRouteCount(b)) < count) return false;
          return !kernel || (await kernelPrefixes(recv, KERNEL_TABLE)) >= count;
        },
      };
    };
    const b1 = birdReceiver(false);
    await measure('BIRD 2 (RIB)', b1.start, b1.done);

    let gobgpd: Gobgp | undefined;
    await measure(
      'GoBGP (RIB)',
      async () => {
        gobgpd = await startGobgp(recv, {
          dir,
          toml: `[global.config]
  as = 64512
  router-id = "${RECEIVER}"
  local-address-list = ["${RECEIVER}"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${SENDER}"
    peer-as = 65000
  [neighbors.timers.config]
    connect-retry = 1
    hold-time = 240
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
`,
        });
        return gobgpd.daemon;
      },
      async () => {
        const r = await gobgpd?.gobgp(['global', 'rib', 'summary', '-a', 'ipv4'], {
          allowFail: true,
          timeoutMs: 60_000,
        });
        return Number(/Destination:\s*(\d+)/.exec(r?.stdout ?? '')?.[1] ?? 0) >= count;
      },
    );

    const o2 = ours(true);
    await measure('tricolor-bird (Loc-RIB + kernel)', o2.start, o2.done);
    const b2 = birdReceiver(true);
    await measure('BIRD 2 (RIB + kernel)', b2.start, b2.done);
  } finally {
    await snd?.stop('SIGKILL');
    for (const ns of [recv, sender, seg.hub]) await destroyNamespace(ns);
  }
  return figs;
}

/**
 * Summary rows for one table size. The targets are set for a full table (a million routes);
 * with a few thousand, session start-up and Node's footprint are most of the figures, so
 * smaller sizes are shown without them.
 */
export function fullTableRows(count: number, figs: ReceiverFigures[]): BenchRow[] {
  const atScale = count >= 100_000;
  const by = (name: string) => figs.find((f) => f.name === name);
  const rows: BenchRow[] = [];
  const n = count.toLocaleString('en-US');
  const pair = (
    row: string,
    ours: ReceiverFigures | undefined,
    anchor: ReceiverFigures | undefined,
    value: (f: ReceiverFigures) => number,
    unit: string,
    target: BenchRow['target'],
  ) => {
    if (!ours) return;
    rows.push({
      row,
      figure: value(ours),
      unit,
      ...(anchor ? { anchor: { name: anchor.name, figure: value(anchor) } } : {}),
      ...(target && atScale ? { target } : {}),
    });
  };
  const rib = by('tricolor-bird (Loc-RIB)');
  const kern = by('tricolor-bird (Loc-RIB + kernel)');
  pair(`full table ${n}: RIB only`, rib, by('BIRD 2 (RIB)'), (f) => f.seconds, 's', {
    on: 'ratio',
    op: '<=',
    value: 2,
  });
  pair(`full table ${n}: RIB only vs GoBGP`, rib, by('GoBGP (RIB)'), (f) => f.seconds, 's', {
    on: 'ratio',
    op: '<',
    value: 1,
  });
  pair(`full table ${n}: RIB only, peak RSS`, rib, by('BIRD 2 (RIB)'), (f) => f.peakRssMiB, 'MiB', {
    on: 'ratio',
    op: '<=',
    value: 3,
  });
  pair(`full table ${n}: into the kernel`, kern, by('BIRD 2 (RIB + kernel)'), (f) => f.seconds, 's', {
    on: 'ratio',
    op: '<=',
    value: 1,
  });
  pair(
    `full table ${n}: into the kernel, peak RSS`,
    kern,
    by('BIRD 2 (RIB + kernel)'),
    (f) => f.peakRssMiB,
    'MiB',
    {
      on: 'figure',
      op: '<=',
      value: 300,
    },
  );
  pair(
    `full table ${n}: into the kernel, CPU with ip`,
    kern,
    by('BIRD 2 (RIB + kernel)'),
    (f) => f.cpuSeconds,
    's',
    undefined,
  );
  return rows;
}
