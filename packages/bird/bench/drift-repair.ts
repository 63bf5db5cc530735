/**
 * Kernel drift repair: a `proto bird` route deleted by someone else on a node, until our
 * speaker has put it back, from the kernel's own timestamps (`ip -ts monitor route`: the
 * deletion and the re-add). The anchor in the same run is the least any process can do on
 * netlink events: a shell loop reading `ip monitor route` that runs `ip route replace` on
 * each deletion. Two of our speakers on one segment; the periodic read-back is set to 600 s
 * so every repair measured comes from the route announcements.
 */
import { join } from 'node:path';
import { type BenchRow, Daemon, Netns, Segment } from '@tricolor/testkit';
import { query } from '../src/control/client.js';
import { BIRD_BIN } from '../test/helpers.js';
import { destroyNamespace, secondsUntil, sleep, track } from './lib.js';

const A = '10.64.0.1';
const B = '10.64.0.2';
const BLOCK = '10.244.64.0/26';
const ROUTE = `${BLOCK} via ${B} dev eth0 proto bird onlink`;

export interface DriftFigures {
  repeats: number;
  /** Milliseconds from the deletion to the route back, per repeat (kernel timestamps). */
  ours: number[];
  anchor: number[];
}

/** Kernel timestamps (ms) of `ip -ts monitor` lines matching `re`. */
function stamps(d: Daemon, re: RegExp): number[] {
  const out: number[] = [];
  for (const l of d.logs().split('\n')) {
    const m = /^\[(\S+)\] (.*)$/.exec(l);
    if (!m || !re.test(m[2]!)) continue;
    out.push(Date.parse(`${m[1]!.slice(0, 23)}Z`) + Number(m[1]!.slice(23, 26)) / 1000);
  }
  return out;
}

/** Deletes the route `repeats` times, each time waiting until it is back; the repair times. */
async function deleteAndTime(ns: Netns, repeats: number): Promise<number[]> {
  const monitor = track(Daemon.spawn(ns, 'ip', ['-ts', '-4', 'monitor', 'route'], 'ip monitor'));
  const escaped = BLOCK.replace(/\./g, '\\.');
  const deleted = new RegExp(`^Deleted ${escaped} `);
  const added = new RegExp(`^${escaped} via ${B.replace(/\./g, '\\.')} dev eth0 proto bird`);
  const times: number[] = [];
  try {
    await sleep(300);
    for (let i = 0; i < repeats; i++) {
      const before = stamps(monitor, added).length;
      await ns.exec('ip', ['route', 'del', BLOCK]);
      await secondsUntil(
        'route back',
        performance.now(),
        async () => stamps(monitor, added).length > before,
        10_000,
        5,
      );
      const del = stamps(monitor, deleted).at(-1)!;
      times.push(stamps(monitor, added).at(-1)! - del);
      await sleep(100);
    }
  } finally {
    await monitor.stop('SIGKILL');
  }
  return times;
}

export async function measureDriftRepair(repeats: number, dir: string): Promise<DriftFigures> {
  const seg = await Segment.create('drb');
  const a = await Netns.create('dra');
  const b = await Netns.create('drb');
  try {
    await seg.attach(a, `${A}/24`);
    await seg.attach(b, `${B}/24`);
    const start = (ns: Netns, me: string, peer: string, extra: string[]) => {
      const ctl = join(dir, `drift-${me}.ctl`);
      const args = ['--router-id', me, '--as', '64512', '--listen', me, '--peer', peer, '--control', ctl];
      return { d: track(Daemon.spawn(ns, BIRD_BIN, [...args, ...extra], `tricolor-bird ${me}`)), ctl };
    };
    const ours = start(a, A, B, ['--reconcile', '600', '--connect-retry', '1']);
    start(b, B, A, ['--export', BLOCK, '--no-kernel', '--connect-retry', '1']);
    await secondsUntil(
      'route installed',
      performance.now(),
      async () => (await a.exec('ip', ['route', 'show', BLOCK, 'proto', 'bird'])).stdout.includes(B),
      60_000,
    );
    await query(ours.ctl, 'show status');
    const oursTimes = await deleteAndTime(a, repeats);
    // The anchor: the speaker gone (its route stays), a shell loop on netlink events instead.
    await ours.d.stop('SIGKILL');
    // ip monitor as a coprocess the shell ends when told to stop (no process is left behind).
    const loop = [
      'coproc MON { exec ip monitor route; }',
      'trap "kill $MON_PID 2>/dev/null; exit 0" TERM',
      `while read -r l <&"\${MON[0]}"; do case "$l" in "Deleted ${BLOCK} "*) ip route replace ${ROUTE};; esac; done`,
    ].join('\n');
    const shell = track(Daemon.spawn(a, 'bash', ['-c', loop], 'shell reactor'));
    const anchorTimes = await deleteAndTime(a, repeats);
    await shell.stop('SIGTERM');
    return { repeats, ours: oursTimes, anchor: anchorTimes };
  } finally {
    await destroyNamespace(a);
    await destroyNamespace(b);
    await seg.destroy();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor((s.length - 1) / 2)]!;
};

export function driftRows(f: DriftFigures): BenchRow[] {
  const anchor = 'ip monitor | bash: ip route replace';
  return [
    {
      row: `kernel drift repair, route deleted (median of ${f.repeats})`,
      figure: Number(median(f.ours).toFixed(1)),
      unit: 'ms',
      anchor: { name: anchor, figure: Number(median(f.anchor).toFixed(1)) },
      target: { on: 'figure', op: '<=', value: 200 },
    },
    {
      row: `kernel drift repair, route deleted (slowest of ${f.repeats})`,
      figure: Number(Math.max(...f.ours).toFixed(1)),
      unit: 'ms',
      anchor: { name: anchor, figure: Number(Math.max(...f.anchor).toFixed(1)) },
      target: { on: 'figure', op: '<=', value: 200 },
    },
  ];
}
