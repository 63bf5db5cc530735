/**
 * felix and bird (etcd mode) in one process, on one etcd connection: one Node.js runtime per
 * node instead of two (DESIGN.md "Process layout"). Each daemon keeps its own logger name,
 * metrics registry and endpoints; they share the Datastore and the process.
 */
import { runEtcdMode } from '@tricolor/bird';
import { Datastore } from '@tricolor/datastore';
import { FelixDaemon } from '@tricolor/felix';
import { type Logger, pino } from 'pino';
import { type NodeConfig, nodeConfigFromEnv } from './config.js';

export type DaemonName = 'felix' | 'bird';

/** A daemon of the process failed to start; `daemon` says which. */
export class DaemonStartError extends Error {
  override readonly name = 'DaemonStartError';
  constructor(
    readonly daemon: DaemonName,
    override readonly cause: unknown,
  ) {
    super(`${daemon}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

export interface NodeDaemonOptions {
  /** Already read (else read from `env`; throws NodeConfigError). */
  config?: NodeConfig;
}

export class NodeDaemon {
  readonly ds: Datastore;
  readonly felix: FelixDaemon;
  readonly birdLog: Logger;
  private stopBird: (() => Promise<void>) | undefined;
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly config: NodeConfig,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.ds = Datastore.connect(config.etcd);
    this.felix = FelixDaemon.fromEnv(env, { ds: this.ds, config: config.felix });
    // bird's name in its log lines, as tricolor-bird writes them.
    this.birdLog = pino({ level: config.bird.logLevel, base: { name: 'tricolor-bird' } });
  }

  /** Reads the configuration (unless given) and connects the datastore; nothing runs yet. */
  static fromEnv(env: NodeJS.ProcessEnv, opts: NodeDaemonOptions = {}): NodeDaemon {
    return new NodeDaemon(opts.config ?? nodeConfigFromEnv(env), env);
  }

  /**
   * Starts both daemons at once (as two containers would start) and resolves when both run.
   * The first that fails rejects with a DaemonStartError naming it at once; whatever had
   * started is stopped in the background.
   */
  async start(): Promise<void> {
    const felix = this.felix.start().catch((e: unknown) => {
      throw new DaemonStartError('felix', e);
    });
    const bird = runEtcdMode(this.config.bird, this.env, this.birdLog, { ds: this.ds }).then(
      (stop) => {
        // Stopped while starting: stopped now, late.
        if (this.stopping) void stop().catch(() => undefined);
        else this.stopBird = stop;
      },
      (e: unknown) => {
        throw new DaemonStartError('bird', e);
      },
    );
    // After the first failure the other outcome is not awaited: never an unhandled rejection.
    felix.catch(() => undefined);
    bird.catch(() => undefined);
    try {
      await Promise.all([felix, bird]);
    } catch (e) {
      // Not awaited: the other daemon may still wait for etcd; the caller learns now.
      void this.stop();
      throw e;
    }
  }

  /**
   * bird first (with graceful restart its kernel routes stay and peers keep ours as stale),
   * then felix (the dataplane is left as is), then the shared datastore connection. Never
   * waits for a start still under way (etcd may be away): closing the datastore ends it, and a
   * bird that starts after all is stopped at once.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.stopBird?.().catch((e: unknown) => this.birdLog.error({ err: String(e) }, 'stop failed'));
      await this.felix.stop();
      this.ds.close();
    })();
    return this.stopping;
  }
}
