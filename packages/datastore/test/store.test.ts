import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AlreadyExistsError,
  ConflictError,
  type IPPool,
  NotFoundError,
  ValidationError,
} from '../src/index.js';
import { sharedEtcd } from './shared-etcd.js';

const { open } = sharedEtcd('t');

const pool = (name: string, cidr: string): IPPool =>
  ({
    kind: 'IPPool',
    apiVersion: 'tricolor.dev/v1',
    metadata: { name },
    spec: { cidr },
  }) as unknown as IPPool;

test('create, get, list, update and delete land under the key layout', async () => {
  const ds = open();
  try {
    const created = await ds.create(pool('default', '10.244.0.0/16'));
    assert.ok(created.metadata.resourceVersion);
    const raw = await ds.kv.get(`${ds.prefix}resources/ippools/default`);
    assert.equal(JSON.parse(raw!.value).spec.cidr, '10.244.0.0/16');
    assert.equal(
      JSON.parse(raw!.value).metadata.resourceVersion,
      undefined,
      'the revision is not stored inside the value',
    );
    await assert.rejects(ds.create(pool('default', '10.245.0.0/16')), AlreadyExistsError);
    const got = await ds.get('IPPool', 'default');
    assert.equal(got?.spec.blockSize, 26);
    got!.spec.natOutgoing = true;
    const updated = await ds.update(got!);
    assert.ok(BigInt(updated.metadata.resourceVersion!) > BigInt(created.metadata.resourceVersion!));
    assert.equal((await ds.list('IPPool')).items.length, 1);
    assert.equal(await ds.delete('IPPool', 'default'), true);
    assert.equal(await ds.delete('IPPool', 'default'), false);
    await assert.rejects(ds.update(pool('default', '10.244.0.0/16')), NotFoundError);
  } finally {
    ds.close();
  }
});

test('namespaced resources live under their namespace', async () => {
  const ds = open();
  try {
    const wep = {
      kind: 'WorkloadEndpoint' as const,
      apiVersion: 'tricolor.dev/v1' as const,
      metadata: { name: 'n1-k8s-web-eth0', namespace: 'shop' },
      spec: {
        node: 'n1',
        workload: 'shop/web',
        interfaceName: 'cali0123456789a',
        ipNetworks: ['10.244.1.5/32'],
      },
    };
    await ds.create(wep);
    assert.ok(await ds.kv.get(`${ds.prefix}resources/workloadendpoints/shop/n1-k8s-web-eth0`));
    assert.equal((await ds.list('WorkloadEndpoint', 'shop')).items.length, 1);
    assert.equal((await ds.list('WorkloadEndpoint', 'other')).items.length, 0);
  } finally {
    ds.close();
  }
});

test('invalid resources are refused before anything is written', async () => {
  const ds = open();
  try {
    await assert.rejects(
      ds.create(pool('bad', '10.0.0.0/33')),
      (e: Error) =>
        e instanceof ValidationError && e.message.includes('spec.cidr: "10.0.0.0/33" is not a valid CIDR'),
    );
    assert.equal((await ds.kv.list(ds.prefix)).items.length, 0);
  } finally {
    ds.close();
  }
});

test('concurrent updates from the same revision: exactly one wins, the other gets a conflict', async () => {
  const ds = open();
  try {
    const base = await ds.create(pool('p', '10.244.0.0/16'));
    const writers = Array.from({ length: 8 }, (_, i) => {
      const copy = structuredClone(base);
      copy.spec.blockSize = 24 + i;
      return ds.update(copy);
    });
    const results = await Promise.allSettled(writers);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    assert.equal(won.length, 1);
    assert.equal(lost.length, 7);
    for (const r of lost) assert.ok((r as PromiseRejectedResult).reason instanceof ConflictError);
    const winner = (won[0] as PromiseFulfilledResult<IPPool>).value;
    assert.equal((await ds.get('IPPool', 'p'))!.spec.blockSize, winner.spec.blockSize);
    // A delete guarded by a stale revision is a conflict too.
    await assert.rejects(
      ds.delete('IPPool', 'p', undefined, { resourceVersion: base.metadata.resourceVersion! }),
      ConflictError,
    );
  } finally {
    ds.close();
  }
});

test('apply creates or replaces and survives racing appliers', async () => {
  const ds = open();
  try {
    await Promise.all(Array.from({ length: 6 }, (_, i) => ds.apply(pool('raced', `10.${i}.0.0/16`))));
    const got = await ds.get('IPPool', 'raced');
    assert.match(got!.spec.cidr, /^10\.[0-5]\.0\.0\/16$/);
  } finally {
    ds.close();
  }
});

test('a guarded write whose answer was lost is recognised as our own success on retry', async () => {
  const ds = open();
  try {
    const key = `${ds.prefix}probe`;
    const r1 = await ds.kv.create(key, 'v1');
    assert.ok(r1);
    // The first attempt landed but (as if) its answer was lost: the retry meets its own write.
    const r2 = await ds.kv.update(key, 'v2', r1!);
    assert.ok(r2);
    assert.equal(await ds.kv.update(key, 'v2', r1!), r2, 'same value, stale guard: our own write');
    assert.equal(await ds.kv.create(key, 'v2'), r2, 'a repeated create of the same value too');
    // A different value under a stale guard is a real conflict.
    assert.equal(await ds.kv.update(key, 'v3', r1!), undefined);
    assert.equal(await ds.kv.create(key, 'other'), undefined);
  } finally {
    ds.close();
  }
});
