import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Netns } from './netns.js';

/**
 * A tiny TCP/Unix relay run as its own process, so a kept cluster outlives the test or demo.
 * It serves several [listen, target] pairs at once (one process per namespace, not per port).
 */
const RELAY = `
  const net = require('node:net');
  const pairs = JSON.parse(process.argv[1]);
  let ready = 0;
  for (const [listen, target] of pairs) {
    const srv = net.createServer((c) => {
      const u = net.createConnection(target);
      c.pipe(u); u.pipe(c);
      const close = () => { c.destroy(); u.destroy(); };
      c.on('error', close); u.on('error', close); c.on('close', close); u.on('close', close);
    });
    srv.on('error', (e) => { process.stderr.write(String(e) + '\\n'); process.exit(1); });
    srv.listen(listen, () => { if (++ready === pairs.length) process.stdout.write('ready\\n'); });
  }
  process.on('SIGTERM', () => process.exit(0));
`;

/**
 * The relays write to stderr only when they fail. It goes to a file of the bridge's
 * directory, not to this process's stderr: kept relays (the demo's --keep) would otherwise
 * hold that open, and whoever reads it (a pipe, `$(…)`, a test) would wait for them.
 */
function startRelay(prefix: string[], pairs: [unknown, unknown][], logDir: string): Promise<ChildProcess> {
  const [cmd, ...args] = [...prefix, process.execPath, '-e', RELAY, JSON.stringify(pairs)];
  const log = openSync(join(logDir, 'relay.log'), 'a');
  const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', log], detached: true });
  closeSync(log);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`relay ${JSON.stringify(pairs)} exited ${code} (see ${join(logDir, 'relay.log')})`)),
    );
    child.stdout!.once('data', () => {
      child.removeAllListeners('exit');
      resolve(child);
    });
  });
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGTERM');
});

/**
 * Makes TCP services of the host's loopback (say etcd on 127.0.0.1:23790, or the client ports
 * of every member of an etcd cluster) reachable inside network namespaces, without giving the
 * host any address: namespaces do not separate the filesystem, so the hop between them is a
 * Unix socket per service. host: unix socket i → 127.0.0.1:target i; namespace:
 * 127.0.0.1:port i → unix socket i. One relay process on the host and one per namespace.
 */
export class LoopbackBridge {
  private readonly children: ChildProcess[] = [];

  private constructor(
    readonly targetPorts: number[],
    readonly socketPaths: string[],
    private readonly dir: string,
  ) {}

  static async create(targetPorts: number | number[], targetHost = '127.0.0.1'): Promise<LoopbackBridge> {
    const ports = typeof targetPorts === 'number' ? [targetPorts] : targetPorts;
    const dir = mkdtempSync(join(tmpdir(), 'tricolor-bridge-'));
    const sockets = ports.map((_, i) => join(dir, i === 0 ? 'sock' : `sock-${i}`));
    const bridge = new LoopbackBridge(ports, sockets, dir);
    bridge.track(
      await startRelay(
        [],
        ports.map((port, i) => [sockets[i], { host: targetHost, port }]),
        dir,
      ),
    );
    return bridge;
  }

  /** The first service's socket (bridges of one service have only this one). */
  get socketPath(): string {
    return this.socketPaths[0]!;
  }

  private track(c: ChildProcess): void {
    this.children.push(c);
    live.add(c);
  }

  /**
   * Starts a forwarder inside the namespace: 127.0.0.1:<ports[i]> there reaches target i. The
   * default is the targets' own port numbers, so one URL works on the host and in every namespace.
   */
  async expose(ns: Netns, ports: number | number[] = this.targetPorts): Promise<void> {
    const list = typeof ports === 'number' ? [ports] : ports;
    if (list.length !== this.targetPorts.length)
      throw new Error(`LoopbackBridge.expose: ${list.length} ports for ${this.targetPorts.length} services`);
    this.track(
      await startRelay(
        ['ip', 'netns', 'exec', ns.name],
        list.map((port, i) => [{ host: '127.0.0.1', port }, this.socketPaths[i]]),
        this.dir,
      ),
    );
  }

  /** Leaves the relays running after this process exits; returns their pids and socket dir. */
  keep(): { pids: number[]; dir: string } {
    for (const c of this.children) {
      live.delete(c);
      c.unref();
      (c.stdout as { unref?: () => void } | null)?.unref?.();
    }
    return { pids: this.children.map((c) => c.pid!).filter(Boolean), dir: this.dir };
  }

  async close(): Promise<void> {
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            live.delete(c);
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
          }),
      ),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}
