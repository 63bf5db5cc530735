/** Test support: our daemon inside network namespaces (real peers: @tricolor/testkit). */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectVeth, Daemon, Netns, waitFor } from '@tricolor/testkit';
import { query } from '../src/control/client.js';

export const BIRD_JS = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'bird.js');
export const BIRDC_JS = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'birdc.js');
/** The command operators run: bin/tricolor-bird.js, with the node flags of its #! line. */
export const BIRD_BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'tricolor-bird.js');

/**
 * A speaker with no BGP listener and no kernel (no namespace, no root needed): router id
 * 10.66.0.1, one peer that never connects, control socket at `ctl`.
 */
export function offlineSpeakerArgs(ctl: string, peer: string): string[] {
  return ['--router-id', '10.66.0.1', '--no-listen', '--no-kernel', '--control', ctl, '--peer', peer];
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
  try {
    // Generous: ten daemons starting at once on a loaded 2-core machine take a while.
    await d.waitForFile(ctl, 'control socket', 45_000);
  } catch (e) {
    await d.stop('SIGKILL'); // a daemon that is not handed back is nobody's to stop
    throw e;
  }
  return { d, ctl };
}

export interface Scene {
  us: Netns;
  them: Netns;
  dir: string;
  /** Daemons to print the logs of on failure and to stop at the end. */
  daemons: Daemon[];
}

/** us (10.60.0.1, 2001:db8:60::1) and them (.2) on a veth, a temp dir; logs on failure, all removed after. */
export async function scene(hint: string, body: (s: Scene) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `tb-${hint}-`));
  const us = await Netns.create('us');
  const them = await Netns.create('them');
  const daemons: Daemon[] = [];
  try {
    await connectVeth(us, ['10.60.0.1/24', '2001:db8:60::1/64'], them, ['10.60.0.2/24', '2001:db8:60::2/64']);
    await body({ us, them, dir, daemons });
  } catch (e) {
    for (const d of daemons) process.stderr.write(`--- ${d.name}\n${d.logs().slice(-3000)}\n`);
    throw e;
  } finally {
    for (const d of daemons) await d.stop();
    await us.destroy();
    await them.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Proto {
  address: string;
  state: string;
  as: number;
  prefixesReceived: number;
  gracefulRestart: { negotiated: boolean; pending: boolean };
  lastError: string;
  establishedTotal: number;
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

export const RAW_PEER_JS = join(dirname(fileURLToPath(import.meta.url)), 'raw-peer.js');

export interface RawEvent {
  ev: string;
  conn?: string;
  type?: string;
  code?: number;
  subcode?: number;
  port?: number;
}

/** Drives test/raw-peer.ts inside a namespace: raw connections and byte-exact BGP messages. */
export class RawPeer {
  readonly events: RawEvent[] = [];
  private readonly stderr: string[] = [];
  private constructor(readonly child: ChildProcess) {
    let buf = '';
    child.stderr?.on('data', (c: Buffer) => this.stderr.push(c.toString()));
    child.stdout?.on('data', (c: Buffer) => {
      buf += c.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('{')) this.events.push(JSON.parse(line) as RawEvent);
      }
    });
  }

  static start(ns: Netns): RawPeer {
    return new RawPeer(
      spawn('ip', ['netns', 'exec', ns.name, process.execPath, RAW_PEER_JS], {
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
  }

  cmd(o: object): void {
    this.child.stdin?.write(`${JSON.stringify(o)}\n`);
  }

  logs(): string {
    return `${JSON.stringify(this.events)}\n${this.stderr.join('')}`;
  }

  /** The first event (seen so far or arriving within the timeout) matching `pred`. */
  wait(what: string, pred: (e: RawEvent) => boolean, timeoutMs = 15_000): Promise<RawEvent> {
    return waitFor(`raw peer: ${what}`, () => this.events.find(pred), timeoutMs, 50);
  }

  /** Messages of one type received on a connection. */
  got(conn: string, type: string): RawEvent[] {
    return this.events.filter((e) => e.ev === 'msg' && e.conn === conn && e.type === type);
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGKILL');
    });
  }
}
