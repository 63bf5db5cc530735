import { randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import { EtcdServer } from '@tricolor/testkit';
import { configFromEnv, Datastore, type EtcdConfig } from '../src/index.js';

/**
 * One real etcd for the whole test file (started before its tests, destroyed after), and
 * `open()` for a Datastore on it under a fresh key prefix `/<hint>-<random>/`, so tests do not
 * see each other's keys. Call at the top level of a test file.
 */
export function sharedEtcd(
  hint: string,
  overrides: Partial<EtcdConfig> = {},
): { readonly server: EtcdServer; open(): Datastore } {
  let server: EtcdServer | undefined;
  before(async () => {
    server = await EtcdServer.start();
  });
  after(async () => {
    await server?.destroy();
  });
  const started = () => {
    if (!server) throw new Error('sharedEtcd: etcd is not started yet (use it inside a test)');
    return server;
  };
  return {
    get server() {
      return started();
    },
    open: () =>
      Datastore.connect(
        configFromEnv(
          {},
          { endpoints: [started().endpoint], prefix: `/${hint}-${randomUUID().slice(0, 8)}/`, ...overrides },
        ),
      ),
  };
}
