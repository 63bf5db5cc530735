import { configFromEnv, Datastore } from '@tricolor/datastore';
import type { GlobalFlags } from './args.js';
import { EtcdUnreachableError, isEtcdConnectionError } from './output.js';

/** What a command gets: its arguments, output streams and a lazily opened datastore. */
export interface Ctx {
  args: string[];
  globals: GlobalFlags;
  env: NodeJS.ProcessEnv;
  out(text: string): void;
  err(text: string): void;
  readStdin(): Promise<string>;
  /** Opens (once) and probes the datastore; EtcdUnreachableError when etcd does not answer. */
  store(): Promise<Datastore>;
  close(): void;
}

const PROBE_TIMEOUT_MS = 5_000;

export function makeCtx(
  args: string[],
  globals: GlobalFlags,
  io: { env: NodeJS.ProcessEnv; out(t: string): void; err(t: string): void; readStdin(): Promise<string> },
): Ctx {
  let ds: Datastore | undefined;
  let ready: Promise<Datastore> | undefined;
  return {
    args,
    globals,
    env: io.env,
    out: io.out,
    err: io.err,
    readStdin: io.readStdin,
    store() {
      ready ??= (async () => {
        const cfg = configFromEnv(io.env, {
          endpoints: globals.etcdEndpoints
            ?.split(',')
            .map((s) => s.trim())
            .filter(Boolean),
          prefix: globals.prefix,
          dialTimeoutMs: 3_000,
        });
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
