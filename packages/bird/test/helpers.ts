/** Test support: our daemon and real peers (BIRD 2, GoBGP, FRR) inside network namespaces. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Netns, run } from '@tricolor/testkit';
import { query } from '../src/control/client.js';

export const BIRD_JS = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'bird.js');
export const BIRDC_JS = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'birdc.js');

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export class Daemon {
  readonly output: string[] = [];
  private constructor(
    readonly child: ChildProcess,
    readonly name: string,
  ) {
    const keep = (d: Buffer) => {
      this.output.push(d.toString());
      if (this.output.length > 2000) this.output.splice(0, 1000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  static spawn(ns: Netns, cmd: string, args: string[], name = cmd): Daemon {
    const child = spawn('ip', ['netns', 'exec', ns.name, cmd, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Daemon(child, name);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The daemon's own pid (the child is `ip netns exec`, which execs into it). */
  signal(sig: NodeJS.Signals): void {
    if (this.alive) this.child.kill(sig);
  }

  stop(sig: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.alive) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill(sig);
      setTimeout(() => this.child.kill('SIGKILL'), 5000).unref();
    });
  }

  logs(): string {
    return this.output.join('');
  }
}

/** Our speaker in a namespace (standalone mode). */
export async function startOurs(
  ns: Netns,
  dir: string,
  name: string,
  args: string[],
): Promise<{ d: Daemon; ctl: string }> {
  const ctl = join(dir, `${name}.ctl`);
  const d = Daemon.spawn(ns, process.execPath, [BIRD_JS, '--control', ctl, ...args], name);
  await waitFor(
    `${name} control socket`,
    () => existsSync(ctl) || (!d.alive && Promise.reject(new Error(d.logs()))),
    15_000,
  );
  return { d, ctl };
}

export interface Proto {
  address: string;
  state: string;
  as: number;
  prefixesReceived: number;
  gracefulRestart: { negotiated: boolean; pending: boolean };
  lastError: string;
}
export interface RouteRow {
  prefix: string;
  paths: { from: string; nextHop: string; asPath: string; best: boolean; stale: boolean }[];
}

export const protocols = (ctl: string) => query(ctl, 'show protocols') as Promise<Proto[]>;
export const routes = (ctl: string) => query(ctl, 'show route') as Promise<RouteRow[]>;

export async function waitEstablished(ctl: string, n = 1, timeoutMs = 40_000): Promise<Proto[]> {
  let last: Proto[] = [];
  try {
    return await waitFor(
      `${n} sessions Established`,
      async () => {
        last = await protocols(ctl);
        return last.filter((p) => p.state === 'Established').length >= n ? last : undefined;
      },
      timeoutMs,
    );
  } catch (e) {
    throw new Error(
      `${(e as Error).message}; sessions: ${JSON.stringify(last.map((p) => [p.address, p.state, p.lastError]))}`,
    );
  }
}

/** Prefixes of `show route` learned from peers (not local). */
export async function learned(ctl: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const r of await routes(ctl)) {
    const b = r.paths.find((p) => p.best);
    if (b && b.from !== 'local') out.set(r.prefix, b.nextHop);
  }
  return out;
}

/** `ip -json route show proto bird` inside a namespace: prefix → gateway. */
export async function kernelRoutes(ns: Netns, family: 4 | 6 = 4): Promise<Map<string, string>> {
  const list = await ns.ipJson<{ dst: string; gateway?: string; nexthops?: { gateway: string }[] }[]>([
    ...(family === 6 ? ['-6'] : []),
    'route',
    'show',
    'proto',
    'bird',
  ]);
  return new Map(
    list.map((r) => [
      r.dst,
      r.gateway ??
        (r.nexthops ?? [])
          .map((n) => n.gateway)
          .sort()
          .join(','),
    ]),
  );
}

export function writeFile(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

export async function birdc(ns: Netns, sock: string, cmd: string): Promise<string> {
  return (await ns.exec('birdc', ['-s', sock, ...cmd.split(' ')], { allowFail: true })).stdout;
}

export { run };
