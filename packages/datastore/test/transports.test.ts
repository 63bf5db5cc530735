/**
 * The same compare-and-swap contract on both transports (gRPC `KV` and HTTP `HttpKV`),
 * against one real etcd, plus cross-checks that both see the very same store.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import {
  AlreadyExistsError,
  ConflictError,
  configFromEnv,
  Datastore,
  HttpKV,
  type IPPool,
  type KeyValueStore,
  KV,
  NotFoundError,
  type Transport,
} from '../src/index.js';
import { sharedEtcd } from './shared-etcd.js';

const shared = sharedEtcd('t');

const TRANSPORTS: Transport[] = ['grpc', 'http'];

function open(transport: Transport, prefix = `/x-${randomUUID().slice(0, 8)}/`): Datastore<KeyValueStore> {
  return Datastore.connect(configFromEnv({}, { endpoints: [shared.server.endpoint], prefix }), { transport });
}

const pool = (name: string, cidr: string): IPPool =>
  ({
    kind: 'IPPool',
    apiVersion: 'tricolor.dev/v1',
    metadata: { name },
    spec: { cidr },
  }) as unknown as IPPool;

for (const transport of TRANSPORTS) {
  test(`[${transport}] connect picks the transport asked for`, () => {
    const ds = open(transport);
    try {
      assert.equal(ds.transport, transport);
      assert.ok(transport === 'grpc' ? ds.kv instanceof KV : ds.kv instanceof HttpKV);
    } finally {
      ds.close();
    }
  });

  test(`[${transport}] create only if absent, update and delete only at the guarded revision`, async () => {
    const ds = open(transport);
    const kv = ds.kv;
    try {
      const key = `${ds.prefix}k`;
      assert.equal(await kv.get(key), undefined);
      const r1 = await kv.create(key, 'one');
      assert.ok(r1 && /^\d+$/.test(r1), `a decimal revision, got ${r1}`);
      assert.deepEqual(await kv.get(key), { key, value: 'one', modRevision: r1, createRevision: r1 });
      assert.equal(await kv.create(key, 'other'), undefined, 'create over an existing key fails');
      const r2 = await kv.update(key, 'two', r1!);
      assert.ok(r2 && BigInt(r2) > BigInt(r1!));
      assert.equal(await kv.update(key, 'three', r1!), undefined, 'a stale guard fails');
      assert.equal(
        await kv.update(`${ds.prefix}absent`, 'x', r2!),
        undefined,
        'update of a missing key fails',
      );
      assert.equal((await kv.get(key))!.value, 'two');
      assert.equal((await kv.get(key))!.createRevision, r1, 'createRevision stays');
      assert.equal(await kv.delete(key, r1!), false, 'delete at a stale revision fails');
      assert.ok(await kv.get(key));
      assert.equal(await kv.delete(key, r2!), true);
      assert.equal(await kv.get(key), undefined);
      assert.equal(await kv.delete(key, r2!), false, 'delete of a gone key fails');
      await kv.create(key, 'again');
      assert.equal(await kv.deleteAny(key), true);
      assert.equal(await kv.deleteAny(key), false, 'deleteAny of a missing key says so');
    } finally {
      ds.close();
    }
  });

  test(`[${transport}] a failed guard on our own earlier write counts as success`, async () => {
    const ds = open(transport);
    const kv = ds.kv;
    try {
      const key = `${ds.prefix}probe`;
      const r1 = await kv.create(key, 'v1');
      assert.ok(r1);
      assert.equal(await kv.create(key, 'v1'), r1, 'a repeated create of the same value is our own write');
      const r2 = await kv.update(key, 'v2', r1!);
      assert.ok(r2);
      assert.equal(await kv.update(key, 'v2', r1!), r2, 'same value, stale guard: our own write');
      assert.equal(await kv.create(key, 'v2'), r2);
      assert.equal(await kv.update(key, 'v3', r1!), undefined, 'a different value is a real conflict');
      assert.equal(await kv.create(key, 'other'), undefined);
    } finally {
      ds.close();
    }
  });

  test(`[${transport}] writeAll: every write at one revision when every guard holds, else none and the keys as they are`, async () => {
    const ds = open(transport);
    const kv = ds.kv;
    try {
      const [a, b, c] = ['a', 'b', 'c'].map((k) => `${ds.prefix}${k}`) as [string, string, string];
      const ra = await kv.create(a, 'a1');
      const r = await kv.writeAll([
        { key: a, value: 'a2', modRevision: ra },
        { key: b, value: 'b1' },
      ]);
      assert.ok(r.written, 'both guards hold');
      assert.equal((await kv.get(a))!.modRevision, r.revision);
      assert.deepEqual(await kv.get(b), {
        key: b,
        value: 'b1',
        modRevision: r.revision,
        createRevision: r.revision,
      });
      assert.equal((await kv.get(a))!.createRevision, ra, 'an update keeps the createRevision');

      // One stale guard (b exists): nothing is written, and the answer shows each key as it is.
      const failed = await kv.writeAll([
        { key: c, value: 'c1' },
        { key: b, value: 'b2' },
      ]);
      assert.equal(failed.written, false);
      assert.deepEqual(!failed.written && failed.current, [undefined, await kv.get(b)]);
      assert.equal(await kv.get(c), undefined, 'c was not written: all or nothing');
      const stale = await kv.writeAll([{ key: a, value: 'a3', modRevision: ra }]);
      assert.deepEqual(!stale.written && stale.current.map((v) => v?.value), ['a2']);

      // The same writes again (an answer lost, the call retried): our own write, written.
      const again = await kv.writeAll([
        { key: a, value: 'a2', modRevision: ra },
        { key: b, value: 'b1' },
      ]);
      assert.deepEqual(again, { written: true, revision: r.written ? r.revision : '' });
    } finally {
      ds.close();
    }
  });

  test(`[${transport}] list and keys: exactly the prefix, in key order, with the read's revision`, async () => {
    const ds = open(transport);
    const kv = ds.kv;
    try {
      const p = ds.prefix;
      // Neighbours that a sloppy range end would catch: '/a0' sorts right after '/a/'.
      for (const [k, v] of [
        ['a/2', 'two'],
        ['a/1', 'ünïcödé ✓'],
        ['a/3', ''],
        ['a0', 'outside'],
        ['b/1', 'outside'],
        ['a', 'outside'],
      ])
        assert.ok(await kv.create(`${p}${k}`, v!));
      const before = await kv.revision();
      const { items, revision } = await kv.list(`${p}a/`);
      assert.deepEqual(
        items.map((i) => [i.key, i.value]),
        [
          [`${p}a/1`, 'ünïcödé ✓'],
          [`${p}a/2`, 'two'],
          [`${p}a/3`, ''],
        ],
      );
      assert.equal(revision, before, 'the revision of the read');
      for (const i of items) assert.ok(BigInt(i.modRevision) <= BigInt(revision));
      assert.deepEqual(await kv.keys(`${p}a/`), [`${p}a/1`, `${p}a/2`, `${p}a/3`]);
      assert.deepEqual(await kv.list(`${p}none/`), { items: [], revision });
      assert.deepEqual(await kv.keys(`${p}none/`), []);
      await kv.deleteAny(`${p}a0`);
      assert.ok(BigInt(await kv.revision()) > BigInt(before), 'a write moves the revision');
    } finally {
      ds.close();
    }
  });

  test(`[${transport}] 8 concurrent compare-and-swap incrementers lose no increment`, async () => {
    const ds = open(transport);
    const kv = ds.kv;
    try {
      const key = `${ds.prefix}counter`;
      await kv.create(key, '0');
      await Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          for (let i = 0; i < 10; i++) {
            for (;;) {
              const cur = (await kv.get(key))!;
              // Each value names its writer, so "own earlier write" can never mistake another's.
              const next = `${Number(cur.value.split(':')[0]) + 1}:w${w}`;
              if (await kv.update(key, next, cur.modRevision)) break;
            }
          }
        }),
      );
      assert.equal((await kv.get(key))!.value.split(':')[0], '80');
    } finally {
      ds.close();
    }
  });

  test(`[${transport}] resources: create, get, list, update, CAS conflicts, apply and delete`, async () => {
    const ds = open(transport);
    try {
      const created = await ds.create(pool('default', '10.244.0.0/16'));
      await assert.rejects(ds.create(pool('default', '10.245.0.0/16')), AlreadyExistsError);
      const got = await ds.get('IPPool', 'default');
      assert.equal(got?.spec.blockSize, 26);
      assert.equal(got?.metadata.resourceVersion, created.metadata.resourceVersion);
      const writers = Array.from({ length: 6 }, (_, i) => {
        const copy = structuredClone(got!);
        copy.spec.blockSize = 24 + i;
        return ds.update(copy);
      });
      const results = await Promise.allSettled(writers);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'exactly one wins');
      for (const r of results.filter((r) => r.status === 'rejected'))
        assert.ok((r as PromiseRejectedResult).reason instanceof ConflictError);
      await assert.rejects(
        ds.delete('IPPool', 'default', undefined, { resourceVersion: created.metadata.resourceVersion! }),
        ConflictError,
      );
      await Promise.all(Array.from({ length: 4 }, (_, i) => ds.apply(pool('raced', `10.${i}.0.0/16`))));
      assert.match((await ds.get('IPPool', 'raced'))!.spec.cidr, /^10\.[0-3]\.0\.0\/16$/);
      const { items, revision } = await ds.list('IPPool');
      assert.deepEqual(items.map((i) => i.metadata.name).sort(), ['default', 'raced']);
      assert.ok(BigInt(revision) > 0n);
      assert.equal(await ds.delete('IPPool', 'default'), true);
      assert.equal(await ds.delete('IPPool', 'default'), false);
      await assert.rejects(ds.update(pool('default', '10.244.0.0/16')), NotFoundError);
    } finally {
      ds.close();
    }
  });
}

test('both transports see the same store: same values, same revisions', async () => {
  const prefix = `/same-${randomUUID().slice(0, 8)}/`;
  const g = open('grpc', prefix);
  const h = open('http', prefix);
  try {
    const viaHttp = await h.create(pool('from-http', '10.1.0.0/16'));
    const viaGrpc = await g.create(pool('from-grpc', '10.2.0.0/16'));
    assert.deepEqual(await g.get('IPPool', 'from-http'), viaHttp);
    assert.deepEqual(await h.get('IPPool', 'from-grpc'), viaGrpc);
    const [lg, lh] = await Promise.all([g.kv.list(prefix), h.kv.list(prefix)]);
    assert.deepEqual(lh.items, lg.items);
    assert.equal(await h.kv.revision(), await g.kv.revision());
    // A guard taken on one transport holds on the other.
    const rev = viaGrpc.metadata.resourceVersion!;
    assert.ok(await h.kv.update(h.key('IPPool', 'from-grpc'), 'raw', rev));
    assert.equal(await g.kv.update(g.key('IPPool', 'from-grpc'), 'raw2', rev), undefined);
  } finally {
    g.close();
    h.close();
  }
});

test('http datastore: no watch and no etcd3 client, and the errors say why', () => {
  const ds = open('http');
  try {
    assert.throws(() => ds.reflector('IPPool'), /reflector\('IPPool'\): watching needs the grpc transport/);
    assert.throws(() => ds.etcd, /uses the http transport, which has no etcd3 client/);
    assert.throws(
      () =>
        Datastore.connect(configFromEnv({}, { endpoints: [shared.server.endpoint] }), {
          transport: 'udp' as never,
        }),
      /unknown transport "udp"/,
    );
  } finally {
    ds.close();
  }
});
