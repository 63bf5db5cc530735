import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './ports.js';
import { makeTlsMaterial, type TlsMaterial } from './tls.js';

export interface EtcdOptions {
  /** Serve clients over TLS and require client certificates. */
  tls?: boolean;
  /** Bind address (default 127.0.0.1). A namespace address works when `netns` is set. */
  host?: string;
  /** Run etcd inside this network namespace (by name). */
  netns?: string;
  /** Pass etcd's log to stderr (for debugging). */
  verbose?: boolean;
}

const live = new Set<EtcdServer>();
process.once('exit', () => {
  for (const e of live) e.killSync();
});

/**
 * A real etcd server (Debian's etcd-server) on free ports with a temporary data
 * directory. It can be stopped, killed and restarted on the same ports and data, which
 * is what the watch-resume tests need.
 */
export class EtcdServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly dataRoot: string,
    readonly host: string,
    readonly clientPort: number,
    readonly peerPort: number,
    readonly tls: TlsMaterial | undefined,
    private readonly opts: EtcdOptions,
  ) {}

  static async start(opts: EtcdOptions = {}): Promise<EtcdServer> {
    const host = opts.host ?? '127.0.0.1';
    const dataRoot = mkdtempSync(join(tmpdir(), 'tricolor-etcd-'));
    const tls = opts.tls ? await makeTlsMaterial(join(dataRoot, 'tls')) : undefined;
    const server = new EtcdServer(dataRoot, host, await freePort(), await freePort(), tls, opts);
    await server.launch();
    live.add(server);
    return server;
  }

  /** The client URL, e.g. http://127.0.0.1:23790. */
  get endpoint(): string {
    return `${this.tls ? 'https' : 'http'}://${this.host}:${this.clientPort}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  private async launch(): Promise<void> {
    const scheme = this.tls ? 'https' : 'http';
    const client = `${scheme}://${this.host}:${this.clientPort}`;
    const peer = `http://${this.host}:${this.peerPort}`;
    const args = [
      '--name',
      'default',
      '--data-dir',
      join(this.dataRoot, 'data'),
      '--listen-client-urls',
      client,
      '--advertise-client-urls',
      client,
      '--listen-peer-urls',
      peer,
      '--initial-advertise-peer-urls',
      peer,
      '--initial-cluster',
      `default=${peer}`,
      '--logger',
      'zap',
      '--log-level',
      this.opts.verbose ? 'info' : 'error',
    ];
    if (this.tls) {
      args.push(
        '--cert-file',
        this.tls.serverCertFile,
        '--key-file',
        this.tls.serverKeyFile,
        '--trusted-ca-file',
        this.tls.caFile,
        '--client-cert-auth',
      );
    }
    const [cmd, full] = this.opts.netns
      ? ['ip', ['netns', 'exec', this.opts.netns, 'etcd', ...args]]
      : ['etcd', args];
    const child = spawn(cmd as string, full as string[], {
      stdio: ['ignore', 'ignore', this.opts.verbose ? 'inherit' : 'ignore'],
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    if (this.opts.netns) {
      // From the host we cannot reach a namespace's address; trust etcd's own health wait below.
      await new Promise((r) => setTimeout(r, 1500));
    } else {
      await waitForPort(this.host, this.clientPort, 20_000);
    }
  }

  /** Graceful stop (SIGTERM); the data directory is kept for a restart. */
  async stop(): Promise<void> {
    this.child?.kill('SIGTERM');
    await this.exited;
  }

  /** Abrupt stop (SIGKILL), like a crash; the data directory is kept. */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  /** Starts again on the same ports with the same data. */
  async restart(): Promise<void> {
    if (this.child) await this.stop();
    await this.launch();
  }

  /** Leaves the server running when this process exits (for `demo --keep`). */
  keep(): number | undefined {
    live.delete(this);
    this.child?.unref();
    return this.child?.pid;
  }

  /** Stops the server and removes its data. */
  async destroy(): Promise<void> {
    await this.kill();
    live.delete(this);
    rmSync(this.dataRoot, { recursive: true, force: true });
  }

  killSync(): void {
    this.child?.kill('SIGKILL');
    rmSync(this.dataRoot, { recursive: true, force: true });
  }
}
