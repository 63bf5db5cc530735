/**
 * felix as a daemon: configuration from the environment, the agent, its health and metrics
 * endpoints and the node-name file for the CNI plugin. `tricolor-felix` (cli/main.ts) runs one
 * per process; `tricolor-node` runs one beside bird in the same process, on a shared datastore.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Datastore, configFromEnv as etcdConfigFromEnv } from '@tricolor/datastore';
import type { Logger } from 'pino';
import { Agent } from './agent.js';
import { configFromEnv, type EnvConfig } from './config.js';
import { startHttp } from './health.js';
import { felixLogger } from './log.js';
import { FelixMetrics } from './metrics.js';

/** Calico's /var/lib/calico/nodename: the CNI plugin's node identity when its config has none. */
export const DEFAULT_NODENAME_FILE = '/var/lib/tricolor/nodename';

export interface FelixDaemonOptions {
  /**
   * A datastore shared with another daemon of the process; felix then leaves it open when it
   * stops. Without one, felix connects from ETCD_* and closes its connection on stop.
   */
  ds?: Datastore;
  /** felix's variables already read (tricolor-node reads every daemon's before starting any). */
  config?: EnvConfig;
  /** Where the logger writes (default 1, stdout). */
  logFd?: number;
}

export class FelixDaemon {
  readonly agent: Agent;
  readonly log: Logger;
  readonly metrics: FelixMetrics;
  private readonly servers: Awaited<ReturnType<typeof startHttp>>[] = [];
  private stopped = false;

  private constructor(
    readonly config: EnvConfig,
    readonly ds: Datastore,
    private readonly ownsDatastore: boolean,
    private readonly nodenameFile: string | undefined,
    logFd: number | undefined,
  ) {
    this.metrics = new FelixMetrics();
    this.log = felixLogger(
      {
        level: config.overrides.logLevel ?? 'info',
        node: config.static.nodeName,
        ...(logFd === undefined ? {} : { fd: logFd }),
      },
      this.metrics,
    );
    this.agent = new Agent({
      ds,
      config: config.static,
      overrides: config.overrides,
      log: this.log,
      metrics: this.metrics,
    });
  }

  /**
   * Reads NODENAME, IP, FELIX_* (without `opts.config`), TRICOLOR_NODENAME_FILE and (without
   * `opts.ds`) ETCD_*; nothing
   * is started yet. Throws FelixConfigError (felix's variables) or the datastore's ConfigError.
   */
  static fromEnv(env: NodeJS.ProcessEnv, opts: FelixDaemonOptions = {}): FelixDaemon {
    const config = opts.config ?? configFromEnv(env);
    const ds = opts.ds ?? Datastore.connect(etcdConfigFromEnv(env));
    // The default path only where its directory exists (the chart mounts it from the host), so
    // a felix started by hand or by a test leaves the machine's /var/lib alone.
    const configured = env.TRICOLOR_NODENAME_FILE;
    const file =
      configured !== undefined
        ? configured || undefined
        : existsSync(dirname(DEFAULT_NODENAME_FILE))
          ? DEFAULT_NODENAME_FILE
          : undefined;
    return new FelixDaemon(config, ds, opts.ds === undefined, file, opts.logFd);
  }

  /** Starts the health and metrics endpoints, then the agent (registers the node, converges). */
  async start(): Promise<void> {
    const st = this.config.static;
    const same =
      st.healthEnabled &&
      st.metricsEnabled &&
      st.healthHost === st.metricsHost &&
      st.healthPort === st.metricsPort;
    if (st.healthEnabled) {
      const agent = this.agent;
      const health = { live: () => true, ready: () => agent.ready, status: () => agent.status() };
      this.servers.push(
        await startHttp({
          host: st.healthHost,
          port: st.healthPort,
          health,
          ...(same ? { registry: this.metrics.registry } : {}),
        }),
      );
      this.log.info({ host: st.healthHost, port: st.healthPort }, 'health endpoints listening');
    }
    if (st.metricsEnabled && !same) {
      this.servers.push(
        await startHttp({ host: st.metricsHost, port: st.metricsPort, registry: this.metrics.registry }),
      );
      this.log.info({ host: st.metricsHost, port: st.metricsPort }, 'metrics endpoint listening');
    }
    await this.agent.start();
    if (!this.stopped) this.writeNodename();
  }

  /** Stops the agent (the dataplane is left as is) and the endpoints; closes its own datastore. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.agent.stop().catch(() => undefined);
    for (const s of this.servers) await s.server.close().catch(() => undefined);
    if (this.ownsDatastore) this.ds.close();
  }

  /** Written once this node is registered and converged, atomically. */
  private writeNodename(): void {
    const file = this.nodenameFile;
    if (!file) return;
    try {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(`${file}.tmp`, `${this.config.static.nodeName}\n`);
      renameSync(`${file}.tmp`, file);
      this.log.info({ file }, 'node name written for the CNI plugin');
    } catch (e) {
      this.log.error({ file, err: (e as Error).message }, 'cannot write the node name file');
    }
  }
}
