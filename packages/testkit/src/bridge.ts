import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Netns } from './netns.js';

function pipe(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  const close = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', close);
  b.on('error', close);
  a.on('close', close);
  b.on('close', close);
}

/**
 * Makes a TCP service of the host's loopback (say etcd on 127.0.0.1:23790) reachable at
 * 127.0.0.1:<port> inside network namespaces, without giving the host any address:
 * namespaces do not separate the filesystem, so the hop between them is a Unix socket.
 * host: unix socket → 127.0.0.1:target;  namespace: 127.0.0.1:port → unix socket.
 */
export class LoopbackBridge {
  private readonly dir: string;
  private readonly server: Server;
  private readonly children: ChildProcess[] = [];

  private constructor(
    readonly targetPort: number,
    readonly socketPath: string,
    dir: string,
    server: Server,
  ) {
    this.dir = dir;
    this.server = server;
  }

  static async create(targetPort: number, targetHost = '127.0.0.1'): Promise<LoopbackBridge> {
    const dir = mkdtempSync(join(tmpdir(), 'tricolor-bridge-'));
    const socketPath = join(dir, 'sock');
    const server = createServer((c) => pipe(c, createConnection({ host: targetHost, port: targetPort })));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    return new LoopbackBridge(targetPort, socketPath, dir, server);
  }

  /** Starts a forwarder inside the namespace: 127.0.0.1:<port> there reaches the target. */
  async expose(ns: Netns, port: number): Promise<void> {
    const script = `
      const net = require('node:net');
      const srv = net.createServer((c) => {
        const u = net.createConnection(${JSON.stringify(this.socketPath)});
        c.pipe(u); u.pipe(c);
        const close = () => { c.destroy(); u.destroy(); };
        c.on('error', close); u.on('error', close); c.on('close', close); u.on('close', close);
      });
      srv.listen(${port}, '127.0.0.1', () => process.stdout.write('ready\\n'));
      process.stdin.on('end', () => process.exit(0)); process.stdin.resume();
    `;
    const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, '-e', script], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`bridge forwarder in ${ns.name} exited ${code}`)));
      child.stdout!.once('data', () => resolve());
    });
  }

  async close(): Promise<void> {
    for (const c of this.children) {
      c.stdin?.end();
      c.kill('SIGTERM');
    }
    await new Promise<void>((r) => this.server.close(() => r()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
