/**
 * Several endpoints on both transports, against a real 3-member etcd cluster with TLS and
 * client certificates (testkit EtcdCluster): a dead member — the one listed first, or the
 * leader — costs no request; without quorum requests fail within the request timeout with an
 * error; once quorum is back the same client works again.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { EtcdCluster } from '@tricolor/testkit';
import { configFromEnv, Datastore, type Transport } from '../src/index.js';

let cluster: EtcdCluster;
before(async () => {
  cluster = await EtcdCluster.start({ members: 3 });
});
after(async () => {
  await cluster?.destroy();
});

const open = (transport: Transport) =>
  Datastore.connect(
    configFromEnv(cluster.clientEnv(), {
      prefix: `/f-${randomUUID().slice(0, 8)}/`,
      dialTimeoutMs: 1000,
      requestTimeoutMs: 4000,
    }),
    { transport, requestTimeoutMs: 4000 },
  );

const node = (name: string) => ({
  kind: 'Node' as const,
  apiVersion: 'tricolor.dev/v1' as const,
  metadata: { name },
  spec: {},
});

for (const transport of ['grpc', 'http'] as const) {
  test(`[${transport}] every member's endpoint given: a dead first member, then a dead leader, cost no request`, async () => {
    const ds = open(transport);
    try {
      await ds.create(node('a'));
      const first = cluster.members[0]!;
      await cluster.killMember(first);
      for (let i = 0; i < 5; i++) await ds.create(node(`b${i}`));
      assert.equal((await ds.list('Node')).items.length, 6);
      await cluster.restartMember(first);
      await cluster.waitHealthy();
      const leader = (await cluster.leader())!;
      await cluster.killMember(leader);
      // A new election takes up to the election timeout (2 s here); requests wait it out.
      await ds.create(node('c'));
      assert.equal((await ds.get('Node', 'b4'))?.metadata.name, 'b4');
      await cluster.restoreAll();
    } finally {
      ds.close();
    }
  });

  test(`[${transport}] quorum lost: a request fails (bounded by its timeout); quorum back: the same client works`, async () => {
    const ds = open(transport);
    try {
      await ds.create(node('before'));
      await cluster.loseQuorum();
      await assert.rejects(ds.create(node('during')), 'an error, not a hang (requestTimeoutMs bounds it)');
      await cluster.restoreAll();
      // The timed-out create may still have been applied (etcd: unknown outcome); apply is idempotent.
      await ds.apply(node('during'));
      await ds.create(node('after'));
      const names = (await ds.list('Node')).items.map((n) => n.metadata.name).sort();
      assert.deepEqual(names, ['after', 'before', 'during']);
    } finally {
      ds.close();
    }
  });
}
