import type { Readable } from 'node:stream';
import { configFromEnv, Datastore, type EtcdConfig } from '@tricolor/datastore';
import type { GlobalFlags } from './args.js';
import { EtcdUnreachableError, isEtcdConnectionError } from './output.js';

/** Where a command's input comes from and its output goes. */
export interface Io {
  env: NodeJS.ProcessEnv;
  out(text: string): void;
  err(text: string): void;
  /** `-f -` reads it, within the input limits. */
  stdin: Readable;
}

/** What a command gets: its words, its arguments, output streams and a lazily opened datastore. */
export interface Ctx extends Io {
  /** The command words, `ipam show`. */
  command: string;
  /** The command line without the command words, for the command's own strict parse. */
  args: string[];
  globals: GlobalFlags;
  /** The etcd connection the flags and environment describe (validated; nothing opened). */
  etcdConfig(): EtcdConfig;
  /** Opens (once) and probes the datastore; EtcdUnreachableError when etcd does not answer. */
  store(): Promise<Datastore>;
  close(): void;
}

const PROBE_TIMEOUT_MS = 5_000;

export function makeCtx(command: string, args: string[], globals: GlobalFlags, io: Io): Ctx {
  let ds: Datastore | undefined;
  let ready: Promise<Datastore> | undefined;
  const etcdConfig = () =>
    configFromEnv(io.env, {
      endpoints: globals.etcdEndpoints
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      prefix: globals.prefix,
      dialTimeoutMs: 3_000,
    });
  return {
    command,
    args,
    globals,
    env: io.env,
    out: io.out,
    err: io.err,
    stdin: io.stdin,
    etcdConfig,
    store() {
      ready ??= (async () => {
        const cfg = etcdConfig();
        ds = Datastore.connect(cfg);
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            ds.kv.revision(),
            new Promise((_, reject) => {
              timer = setTimeout(
                () => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS / 1000}s`)),
                PROBE_TIMEOUT_MS,
              );
            }),
          ]);
        } catch (e) {
          const why = isEtcdConnectionError(e) ? 'connection refused or unavailable' : (e as Error).message;
          throw new EtcdUnreachableError(`cannot reach etcd at ${cfg.endpoints.join(', ')}: ${why}`);
        } finally {
          clearTimeout(timer);
        }
        return ds;
      })();
      return ready;
    },
    close() {
      ds?.close();
    },
  };
}
