import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdMember, etcdClientEnv, liveDataRoots } from './etcd.js';
import { freePort } from './ports.js';
import { makeTlsMaterial, type TlsMaterial } from './tls.js';
import { waitFor } from './wait.js';

export interface EtcdClusterOptions {
  /** Members (default 3). */
  members?: number;
  /** Client and peer TLS with client certificates (default true). */
  tls?: boolean;
  verbose?: boolean;
  /**
   * Raft heartbeat and election timeout in ms (default 200/2000; etcd's own are 100/1000). A
   * shared 2-core machine under load misses 100 ms heartbeats often enough to start elections
   * nobody asked for.
   */
  heartbeatMs?: number;
  electionMs?: number;
  /** etcd's `--experimental-watch-progress-notify-interval` in ms (see EtcdOptions). */
  watchProgressNotifyMs?: number;
  /** CPU priority of every member (see EtcdMemberSpec.nice). */
  nice?: number;
  /**
   * Where the members' data directories go (default the system's temporary directory). etcd
   * fsyncs every write: on a disk shared with a hundred busy nodes that took 60–150 ms a
   * write, where etcd's own guidance is a disk of its own.
   */
  dataParent?: string;
}

export interface MemberStatus {
  name: string;
  healthy: boolean;
  leader: boolean;
}

/**
 * A real etcd cluster of several members on loopback, TLS with client certificates on the
 * client and the peer ports by default. Members can be stopped, killed and restarted one by
 * one, and quorum lost and regained, on the same ports and data — what fault tests need.
 */
export class EtcdCluster {
  private readonly stopped = new Set<EtcdMember>();

  private constructor(
    readonly dataRoot: string,
    readonly members: EtcdMember[],
    readonly tls: TlsMaterial | undefined,
  ) {}

  static async start(opts: EtcdClusterOptions = {}): Promise<EtcdCluster> {
    const n = opts.members ?? 3;
    if (!Number.isInteger(n) || n < 1) throw new Error(`EtcdCluster: members ${n} is not a positive integer`);
    const dataRoot = mkdtempSync(join(opts.dataParent ?? tmpdir(), 'tricolor-etcdc-'));
    liveDataRoots.add(dataRoot);
    const tls = opts.tls === false ? undefined : await makeTlsMaterial(join(dataRoot, 'tls'));
    const ports: { client: number; peer: number }[] = [];
    for (let i = 0; i < n; i++) ports.push({ client: await freePort(), peer: await freePort() });
    const scheme = tls ? 'https' : 'http';
    const initialCluster = ports.map((p, i) => `m${i + 1}=${scheme}://127.0.0.1:${p.peer}`).join(',');
    const members = ports.map(
      (p, i) =>
        new EtcdMember({
          name: `m${i + 1}`,
          host: '127.0.0.1',
          clientPort: p.client,
          peerPort: p.peer,
          dataDir: join(dataRoot, `m${i + 1}`),
          initialCluster,
          tls,
          peerTls: Boolean(tls),
          verbose: opts.verbose,
          heartbeatMs: opts.heartbeatMs ?? 200,
          electionMs: opts.electionMs ?? 2000,
          watchProgressNotifyMs: opts.watchProgressNotifyMs,
          nice: opts.nice,
        }),
    );
    const cluster = new EtcdCluster(dataRoot, members, tls);
    try {
      // Together: the first member cannot elect a leader alone.
      await Promise.all(members.map((m) => m.start()));
      await cluster.waitHealthy();
    } catch (e) {
      await cluster.destroy();
      throw e;
    }
    return cluster;
  }

  /** Every member's client URL. */
  get endpoints(): string[] {
    return this.members.map((m) => m.endpoint);
  }

  /** ETCD_ENDPOINTS (all members) and the client certificate files, for any component. */
  clientEnv(): Record<string, string> {
    return etcdClientEnv(this.endpoints, this.tls);
  }

  member(name: string): EtcdMember {
    const m = this.members.find((x) => x.name === name);
    if (!m) throw new Error(`EtcdCluster: no member ${name}`);
    return m;
  }

  /** A member's view: does it serve (`/health`: it has a leader), and is it the leader. */
  async status(m: EtcdMember): Promise<MemberStatus> {
    const out: MemberStatus = { name: m.name, healthy: false, leader: false };
    if (!m.running) return out;
    try {
      const h = (await this.call(m, 'GET', '/health')) as { health?: string };
      out.healthy = h.health === 'true';
      const s = (await this.call(m, 'POST', '/v3/maintenance/status', {})) as {
        header?: { member_id?: string };
        leader?: string;
      };
      out.leader = Boolean(s.leader && s.header?.member_id === s.leader);
    } catch {
      /* not serving */
    }
    return out;
  }

  /** The current leader, if any member says it is. */
  async leader(): Promise<EtcdMember | undefined> {
    for (const m of this.members) if ((await this.status(m)).leader) return m;
    return undefined;
  }

  /** Waits until every running member answers /health with a leader. */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      'every running etcd member healthy',
      async () => {
        const st = await Promise.all(this.members.filter((m) => m.running).map((m) => this.status(m)));
        return st.length > 0 && st.every((s) => s.healthy);
      },
      timeoutMs,
      200,
    );
  }

  /** Kills (SIGKILL) or stops (SIGTERM) one member; the others keep quorum if they are a majority. */
  async killMember(m: EtcdMember, signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    await (signal === 'SIGKILL' ? m.kill() : m.stop());
    this.stopped.add(m);
  }

  async restartMember(m: EtcdMember): Promise<void> {
    await m.start();
    this.stopped.delete(m);
  }

  /** Kills members until fewer than a majority run; returns them (for restoreQuorum). */
  async loseQuorum(): Promise<EtcdMember[]> {
    const majority = Math.floor(this.members.length / 2) + 1;
    const victims: EtcdMember[] = [];
    for (const m of this.members) {
      if (this.members.filter((x) => x.running).length < majority) break;
      if (!m.running) continue;
      await this.killMember(m);
      victims.push(m);
    }
    return victims;
  }

  /** Starts every stopped member again and waits for a healthy cluster. */
  async restoreAll(timeoutMs = 30_000): Promise<void> {
    await Promise.all([...this.stopped].map((m) => this.restartMember(m)));
    await this.waitHealthy(timeoutMs);
  }

  /** Leaves every member running after this process exits; returns their pids. */
  keep(): number[] {
    liveDataRoots.delete(this.dataRoot);
    return this.members.map((m) => m.keep()).filter((p): p is number => p !== undefined);
  }

  async destroy(): Promise<void> {
    await Promise.all(this.members.map((m) => m.kill()));
    for (const m of this.members) m.forget();
    liveDataRoots.delete(this.dataRoot);
    rmSync(this.dataRoot, { recursive: true, force: true });
  }

  /** One request to one member's HTTP API (TLS with the client certificate when the cluster has it). */
  private call(m: EtcdMember, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const url = new URL(path, m.endpoint);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const tls = this.tls
      ? {
          ca: readFileSync(this.tls.caFile),
          cert: readFileSync(this.tls.clientCertFile),
          key: readFileSync(this.tls.clientKeyFile),
        }
      : {};
    return new Promise((resolve, reject) => {
      const req = (url.protocol === 'https:' ? https : http).request(
        url,
        { method, timeout: 2000, headers: payload ? { 'content-type': 'application/json' } : {}, ...tls },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            try {
              resolve(JSON.parse(text));
            } catch {
              reject(new Error(`${method} ${url.href}: HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.href}: timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }
}
