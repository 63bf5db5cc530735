/** What the bird benches share: process figures from /proc, daemon cleanup, BIRD route counts. */
import { readFileSync } from 'node:fs';
import { type Bird, type Daemon, type Netns, run } from '@tricolor/testkit';

/** Peak resident set (VmHWM) of a live process, MiB. */
export function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/**
 * CPU seconds (user + system) a live process used so far; with `children`, also what its
 * exited children used (the `ip` processes a speaker runs).
 */
export function cpuSeconds(pid: number, children = false): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at ") ".
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime, stime (and cutime, cstime) in USER_HZ, 100 on Linux
  const own = Number(f[11]) + Number(f[12]);
  return (children ? own + Number(f[13]) + Number(f[14]) : own) / 100;
}

const live = new Set<Daemon>();
let hooked = false;

/**
 * Remembers a daemon so it is killed however the bench ends (exception, SIGINT, SIGTERM):
 * a bench leaves no BIRD, GoBGP or speaker of its own behind.
 */
export function track<T extends Daemon>(d: T): T {
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const x of live) if (x.alive) x.child.kill('SIGKILL');
    });
  }
  live.add(d);
  d.child.once('exit', () => live.delete(d));
  return d;
}

export async function stopAll(): Promise<void> {
  for (const d of [...live]) await d.stop('SIGKILL');
}

/** Total routes in BIRD's tables (`show route count`), 0 while it cannot answer. */
export async function birdRouteCount(b: Bird): Promise<number> {
  const out = await b.birdc('show route table all count', { timeoutMs: 60_000 });
  const m = /Total: (\d+) of/.exec(out) ?? /(\d+) of \d+ routes/.exec(out);
  return m ? Number(m[1]) : 0;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `fn` is true; resolves with the seconds since `t0` (performance.now()). */
export async function secondsUntil(
  what: string,
  t0: number,
  fn: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return (performance.now() - t0) / 1000;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Deletes a namespace of the bench, retrying while the kernel still holds it busy. */
export async function destroyNamespace(ns: Netns): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    await ns.destroy();
    if (!(await run('ip', ['netns', 'list'])).stdout.split('\n').some((l) => l.split(' ')[0] === ns.name))
      return;
    await sleep(500);
  }
  process.stderr.write(`could not delete namespace ${ns.name}\n`);
}
