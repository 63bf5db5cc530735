import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Datastore, type Node, NodeInputChanges } from '@tricolor/datastore';
import { EtcdServer } from '@tricolor/testkit';
import type { Update } from '../src/calc/graph.js';
import { Syncer } from '../src/syncer.js';

const node = (name: string, addr: string): Node => ({
  kind: 'Node',
  apiVersion: 'tricolor.dev/v1',
  metadata: { name },
  spec: { bgp: { ipv4Address: addr } },
});

test('NodeInputChanges: a status-only change is no change; spec, labels and deletes are', () => {
  const c = new NodeInputChanges();
  const n = node('a', '192.0.2.1/24');
  assert.equal(c.changed('k', n), true, 'first sight');
  assert.equal(
    c.changed('k', {
      ...n,
      metadata: { ...n.metadata, resourceVersion: '42' },
      status: { felix: { ready: true, lastConvergedAt: 'now' } },
    }),
    false,
    'a new revision with a new status',
  );
  assert.equal(c.changed('k', { ...n, metadata: { name: 'a', labels: { rr: 'true' } } }), true);
  assert.equal(c.changed('k', undefined), true, 'deleted');
  assert.equal(c.changed('k', undefined), false);
  assert.equal(c.changed('k', n), true, 'back again');
});

test("felix's syncer passes on Node changes but not other nodes' status reports", async () => {
  const etcd = await EtcdServer.start();
  const ds = Datastore.connect({ endpoints: [etcd.endpoint], prefix: '/syncer-status/' });
  const syncer = new Syncer(ds);
  const nodeUpdates: Update[] = [];
  syncer.on('update', (u: Update) => {
    if (u.kind === 'node') nodeUpdates.push(u);
  });
  try {
    await syncer.start();
    const created = await ds.create(node('peer', '192.0.2.2/24'));
    const upTo = async (n: number) => {
      for (let i = 0; i < 100 && nodeUpdates.length < n; i++) await new Promise((r) => setTimeout(r, 50));
    };
    await upTo(1);
    assert.equal(nodeUpdates.length, 1, 'the new node');
    // The peer's felix reports, three times: nothing for this felix to do.
    let cur = created;
    for (const at of ['2026-01-01T00:00:00Z', '2026-01-01T00:00:10Z', '2026-01-01T00:00:20Z'])
      cur = await ds.update({ ...cur, status: { felix: { ready: true, lastConvergedAt: at } } });
    // A change that matters, written after them: when it arrives, the reports have been seen.
    await ds.update({ ...cur, spec: { bgp: { ipv4Address: '192.0.2.3/24' } } });
    await upTo(2);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(nodeUpdates.length, 2, 'only the address change after the first');
    assert.equal((nodeUpdates[1]!.value as Node).spec.bgp?.ipv4Address, '192.0.2.3/24');
    await ds.delete('Node', 'peer');
    await upTo(3);
    assert.equal(nodeUpdates.length, 3);
    assert.equal(nodeUpdates[2]!.value, undefined, 'the deletion');
  } finally {
    await syncer.stop();
    ds.close();
    await etcd.destroy();
  }
});
