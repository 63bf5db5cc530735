import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Netns } from './netns.js';

/** A tiny TCP/Unix relay run as its own process, so a kept cluster outlives the test or demo. */
const RELAY = `
  const net = require('node:net');
  const [listen, target] = [JSON.parse(process.argv[1]), JSON.parse(process.argv[2])];
  const srv = net.createServer((c) => {
    const u = net.createConnection(target);
    c.pipe(u); u.pipe(c);
    const close = () => { c.destroy(); u.destroy(); };
    c.on('error', close); u.on('error', close); c.on('close', close); u.on('close', close);
  });
  srv.on('error', (e) => { process.stderr.write(String(e) + '\\n'); process.exit(1); });
  srv.listen(listen, () => process.stdout.write('ready\\n'));
  process.on('SIGTERM', () => process.exit(0));
`;

/**
 * The relays write to stderr only when they fail. It goes to a file of the bridge's
 * directory, not to this process's stderr: kept relays (the demo's --keep) would otherwise
 * hold that open, and whoever reads it (a pipe, `$(…)`, a test) would wait for them.
 */
function startRelay(
  prefix: string[],
  listen: unknown,
  target: unknown,
  logDir: string,
): Promise<ChildProcess> {
  const [cmd, ...args] = [
    ...prefix,
    process.execPath,
    '-e',
    RELAY,
    JSON.stringify(listen),
    JSON.stringify(target),
  ];
  const log = openSync(join(logDir, 'relay.log'), 'a');
  const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', log], detached: true });
  closeSync(log);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`relay ${JSON.stringify(listen)} exited ${code} (see ${join(logDir, 'relay.log')})`)),
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
 * Makes a TCP service of the host's loopback (say etcd on 127.0.0.1:23790) reachable at
 * 127.0.0.1:<port> inside network namespaces, without giving the host any address:
 * namespaces do not separate the filesystem, so the hop between them is a Unix socket.
 * host: unix socket → 127.0.0.1:target;  namespace: 127.0.0.1:port → unix socket.
 */
export class LoopbackBridge {
  private readonly children: ChildProcess[] = [];

  private constructor(
    readonly targetPort: number,
    readonly socketPath: string,
    private readonly dir: string,
  ) {}

  static async create(targetPort: number, targetHost = '127.0.0.1'): Promise<LoopbackBridge> {
    const dir = mkdtempSync(join(tmpdir(), 'tricolor-bridge-'));
    const bridge = new LoopbackBridge(targetPort, join(dir, 'sock'), dir);
    bridge.track(await startRelay([], bridge.socketPath, { host: targetHost, port: targetPort }, dir));
    return bridge;
  }

  private track(c: ChildProcess): void {
    this.children.push(c);
    live.add(c);
  }

  /** Starts a forwarder inside the namespace: 127.0.0.1:<port> there reaches the target. */
  async expose(ns: Netns, port: number): Promise<void> {
    this.track(
      await startRelay(
        ['ip', 'netns', 'exec', ns.name],
        { host: '127.0.0.1', port },
        this.socketPath,
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
