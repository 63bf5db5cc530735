import { randomUUID } from 'node:crypto';
import { configFromEnv, Datastore, type IPPool } from '@tricolor/datastore';
import type { EtcdServer } from '@tricolor/testkit';

/** A datastore on a fresh key prefix, so tests sharing one etcd never see each other. */
export function openStore(etcd: EtcdServer, prefix = `/t-${randomUUID().slice(0, 8)}/`): Datastore {
  return Datastore.connect(configFromEnv({}, { endpoints: [etcd.endpoint], prefix }));
}

export async function addPool(
  ds: Datastore,
  name: string,
  cidr: string,
  spec: Partial<IPPool['spec']> = {},
): Promise<IPPool> {
  return ds.apply({
    kind: 'IPPool',
    apiVersion: 'tricolor.dev/v1',
    metadata: { name },
    spec: { cidr, ...spec },
  } as unknown as IPPool);
}

export async function addNodes(ds: Datastore, ...names: string[]): Promise<void> {
  for (const name of names) {
    await ds.apply({ kind: 'Node', apiVersion: 'tricolor.dev/v1', metadata: { name }, spec: {} });
  }
}

/** A gate a hook can stop at: `reached` resolves when the hook arrives, `open()` lets it go on. */
export function gate(): { wait: () => Promise<void>; reached: Promise<void>; open: () => void } {
  let open!: () => void;
  let arrive!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  const reached = new Promise<void>((r) => {
    arrive = r;
  });
  return {
    wait: async () => {
      arrive();
      await opened;
    },
    reached,
    open,
  };
}
