import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
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
  /**
   * How often etcd tells an idle watcher the current revision (etcd's
   * `--experimental-watch-progress-notify-interval`, 10 min by default): what lets a
   * watcher of a quiet prefix say "I have read everything up to revision R" quickly.
   */
  watchProgressNotifyMs?: number;
}

/** What one member needs to run: its ports, data, the cluster it belongs to and its TLS files. */
export interface EtcdMemberSpec {
  name: string;
  host: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  /** `name=peerURL,…` of every member. */
  initialCluster: string;
  /** Client and (for clusters) peer TLS with client-certificate authentication on both. */
  tls?: TlsMaterial;
  peerTls?: boolean;
  netns?: string;
  verbose?: boolean;
  /** Raft timing (ms); etcd's defaults are 100/1000. */
  heartbeatMs?: number;
  /**
   * CPU priority of the process (setpriority; below 0 needs root): on one machine shared
   * with the nodes it serves, etcd stands for a control plane with machines of its own.
   */
  nice?: number;
  electionMs?: number;
  watchProgressNotifyMs?: number;
}

const live = new Set<EtcdMember>();
/** Data directories removed at exit unless kept (demo --keep). */
export const liveDataRoots = new Set<string>();
process.once('exit', () => {
  for (const m of live) m.killSync();
  for (const d of liveDataRoots) rmSync(d, { recursive: true, force: true });
});

/**
 * One etcd process (Debian's etcd-server): started, stopped (SIGTERM), killed (SIGKILL) and
 * started again on the same ports and data. The building block of EtcdServer and EtcdCluster.
 */
export class EtcdMember {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(readonly spec: EtcdMemberSpec) {}

  get name(): string {
    return this.spec.name;
  }

  get clientPort(): number {
    return this.spec.clientPort;
  }

  /** The client URL, e.g. https://127.0.0.1:23790. */
  get endpoint(): string {
    return `${this.spec.tls ? 'https' : 'http'}://${this.spec.host}:${this.spec.clientPort}`;
  }

  get peerUrl(): string {
    return `${this.spec.peerTls ? 'https' : 'http'}://${this.spec.host}:${this.spec.peerPort}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private args(): string[] {
    const s = this.spec;
    const args = [
      '--name',
      s.name,
      '--data-dir',
      s.dataDir,
      '--listen-client-urls',
      this.endpoint,
      '--advertise-client-urls',
      this.endpoint,
      '--listen-peer-urls',
      this.peerUrl,
      '--initial-advertise-peer-urls',
      this.peerUrl,
      '--initial-cluster',
      s.initialCluster,
      '--initial-cluster-state',
      'new',
      '--logger',
      'zap',
      '--log-level',
      s.verbose ? 'info' : 'error',
    ];
    if (s.heartbeatMs) args.push('--heartbeat-interval', String(s.heartbeatMs));
    if (s.watchProgressNotifyMs !== undefined)
      args.push('--experimental-watch-progress-notify-interval', `${s.watchProgressNotifyMs}ms`);
    if (s.electionMs) args.push('--election-timeout', String(s.electionMs));
    if (s.tls) {
      args.push(
        '--cert-file',
        s.tls.serverCertFile,
        '--key-file',
        s.tls.serverKeyFile,
        '--trusted-ca-file',
        s.tls.caFile,
        '--client-cert-auth',
      );
      if (s.peerTls) {
        args.push(
          '--peer-cert-file',
          s.tls.serverCertFile,
          '--peer-key-file',
          s.tls.serverKeyFile,
          '--peer-trusted-ca-file',
          s.tls.caFile,
          '--peer-client-cert-auth',
        );
      }
    }
    return args;
  }

  /** Starts the process; resolves once its client port accepts connections (not: has a leader). */
  async start(): Promise<void> {
    if (this.child) return;
    const args = this.args();
    const [cmd, full] = this.spec.netns
      ? ['ip', ['netns', 'exec', this.spec.netns, 'etcd', ...args]]
      : ['etcd', args];
    const child = spawn(cmd as string, full as string[], {
      stdio: ['ignore', 'ignore', this.spec.verbose ? 'inherit' : 'ignore'],
    });
    this.child = child;
    if (this.spec.nice !== undefined && child.pid) setPriority(child.pid, this.spec.nice);
    live.add(this);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    if (this.spec.netns) {
      // From the host we cannot reach a namespace's address; trust etcd's own health wait below.
      await new Promise((r) => setTimeout(r, 1500));
    } else {
      await waitForPort(this.spec.host, this.spec.clientPort, 20_000);
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
    await this.start();
  }

  /** Leaves the process running when this one exits (for `demo --keep`). */
  keep(): number | undefined {
    live.delete(this);
    this.child?.unref();
    return this.child?.pid;
  }

  killSync(): void {
    this.child?.kill('SIGKILL');
  }

  forget(): void {
    live.delete(this);
  }
}

/**
 * A real single-member etcd on free loopback ports with a temporary data directory. It can be
 * stopped, killed and restarted on the same ports and data, which is what the watch-resume
 * tests need. For several members see EtcdCluster.
 */
export class EtcdServer {
  private constructor(
    readonly dataRoot: string,
    readonly host: string,
    readonly clientPort: number,
    readonly peerPort: number,
    readonly tls: TlsMaterial | undefined,
    private readonly member: EtcdMember,
  ) {}

  static async start(opts: EtcdOptions = {}): Promise<EtcdServer> {
    const host = opts.host ?? '127.0.0.1';
    const dataRoot = mkdtempSync(join(tmpdir(), 'tricolor-etcd-'));
    const tls = opts.tls ? await makeTlsMaterial(join(dataRoot, 'tls')) : undefined;
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    const member = new EtcdMember({
      name: 'default',
      host,
      clientPort,
      peerPort,
      dataDir: join(dataRoot, 'data'),
      initialCluster: `default=http://${host}:${peerPort}`,
      tls,
      netns: opts.netns,
      verbose: opts.verbose,
      watchProgressNotifyMs: opts.watchProgressNotifyMs,
    });
    const server = new EtcdServer(dataRoot, host, clientPort, peerPort, tls, member);
    liveDataRoots.add(dataRoot);
    await member.start();
    return server;
  }

  /** The client URL, e.g. http://127.0.0.1:23790. */
  get endpoint(): string {
    return this.member.endpoint;
  }

  get running(): boolean {
    return this.member.running;
  }

  /** ETCD_ENDPOINTS and, with TLS, ETCD_CA_CERT_FILE/ETCD_CERT_FILE/ETCD_KEY_FILE for a client. */
  clientEnv(): Record<string, string> {
    return etcdClientEnv([this.endpoint], this.tls);
  }

  /** Graceful stop (SIGTERM); the data directory is kept for a restart. */
  stop(): Promise<void> {
    return this.member.stop();
  }

  /** Abrupt stop (SIGKILL), like a crash; the data directory is kept. */
  kill(): Promise<void> {
    return this.member.kill();
  }

  /** Starts again on the same ports with the same data. */
  restart(): Promise<void> {
    return this.member.restart();
  }

  /** Leaves the server running when this process exits (for `demo --keep`). */
  keep(): number | undefined {
    liveDataRoots.delete(this.dataRoot);
    return this.member.keep();
  }

  /** Stops the server and removes its data. */
  async destroy(): Promise<void> {
    await this.member.kill();
    this.member.forget();
    liveDataRoots.delete(this.dataRoot);
    rmSync(this.dataRoot, { recursive: true, force: true });
  }

  killSync(): void {
    this.member.killSync();
    rmSync(this.dataRoot, { recursive: true, force: true });
  }
}

/** The environment every Tricolor component reads etcd's address and client certificate from. */
export function etcdClientEnv(endpoints: string[], tls: TlsMaterial | undefined): Record<string, string> {
  const env: Record<string, string> = { ETCD_ENDPOINTS: endpoints.join(',') };
  if (tls) {
    env.ETCD_CA_CERT_FILE = tls.caFile;
    env.ETCD_CERT_FILE = tls.clientCertFile;
    env.ETCD_KEY_FILE = tls.clientKeyFile;
  }
  return env;
}
