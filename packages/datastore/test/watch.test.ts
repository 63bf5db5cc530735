import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IPPool, Versioned, WatchEvent } from '../src/index.js';
import { sharedEtcd } from './shared-etcd.js';

const etcd = sharedEtcd('w', { dialTimeoutMs: 2000 });
const { open } = etcd;

const pool = (name: string, third: number) =>
  ({
    kind: 'IPPool',
    apiVersion: 'tricolor.dev/v1',
    metadata: { name },
    spec: { cidr: `10.${Math.floor(third / 256)}.${third % 256}.0/24` },
  }) as unknown as IPPool;

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('initial list then live events, each change exactly once', async () => {
  const ds = open();
  await ds.create(pool('a', 1));
  const r = ds.reflector('IPPool');
  const events: WatchEvent<IPPool>[] = [];
  r.on('event', (e) => events.push(e));
  try {
    await r.start();
    assert.deepEqual(
      events.map((e) => `${e.type}:${e.key.split('/').pop()}`),
      ['put:a'],
    );
    const b = await ds.create(pool('b', 2));
    b.spec.natOutgoing = true;
    await ds.update(b);
    await ds.delete('IPPool', 'a');
    await until(() => events.length === 4, 5000, '4 events');
    assert.deepEqual(
      events.map((e) => `${e.type}:${e.key.split('/').pop()}`),
      ['put:a', 'put:b', 'put:b', 'delete:a'],
    );
    assert.equal((events[2] as { value: IPPool }).value.spec.natOutgoing, true);
    assert.equal(r.cache.size, 1);
  } finally {
    await r.stop();
    ds.close();
  }
});

test('etcd killed and restarted in the middle of a stream of writes: no event lost or repeated', async () => {
  const ds = open();
  const r = ds.reflector('IPPool');
  const seen = new Map<string, number>();
  r.on('event', (e) => {
    if (e.type === 'put') seen.set(e.value.metadata.name, (seen.get(e.value.metadata.name) ?? 0) + 1);
  });
  r.on('error', () => undefined);
  const total = 300;
  const written: string[] = [];
  try {
    await r.start();
    const writer = (async () => {
      for (let i = 0; i < total; i++) {
        const name = `p${i}`;
        // Create-only writes: a retry after an unknown outcome cannot write twice.
        for (;;) {
          try {
            await ds.create(pool(name, i));
            break;
          } catch (e) {
            if ((e as Error).name === 'AlreadyExistsError') break;
            await new Promise((res) => setTimeout(res, 100));
          }
        }
        written.push(name);
      }
    })();
    await until(() => written.length >= 100, 20_000, '100 writes');
    await etcd.server.kill();
    await new Promise((res) => setTimeout(res, 500));
    await etcd.server.restart();
    await writer;
    await until(() => seen.size === total, 30_000, `all ${total} events (have ${seen.size})`);
    for (const [name, n] of seen) assert.equal(n, 1, `${name} seen ${n} times`);
    assert.equal(r.resyncs, 0, 'a restart is resumed, not resynced');
    assert.equal(r.cache.size, total);
  } finally {
    await r.stop();
    ds.close();
  }
});

test('resuming from a compacted revision re-lists and emits only the differences', async () => {
  const ds = open();
  try {
    await ds.create(pool('keep', 1));
    await ds.create(pool('change', 2));
    await ds.create(pool('remove', 3));
    // A consumer that stopped here: it remembers its state and the revision it reflects.
    const first = ds.reflector('IPPool');
    await first.start();
    await first.stop();
    const known = new Map<string, Versioned<IPPool>>(first.cache);
    const revision = first.currentRevision;

    const changed = (await ds.get('IPPool', 'change'))!;
    changed.spec.natOutgoing = true;
    await ds.update(changed);
    await ds.delete('IPPool', 'remove');
    await ds.create(pool('added', 4));
    const latest = await ds.kv.revision();
    await ds.etcd.kv.compact({ revision: latest, physical: true });

    const r = ds.reflector('IPPool', { resume: { revision, known } });
    const events: string[] = [];
    const resyncs: string[] = [];
    r.on('event', (e) => events.push(`${e.type}:${e.key.split('/').pop()}`));
    r.on('resync', (i) => resyncs.push(i.reason));
    try {
      await r.start();
      assert.equal(resyncs.length, 1, 'compaction must trigger a resync');
      assert.match(resyncs[0]!, /compact/i);
      assert.deepEqual(events.sort(), ['delete:remove', 'put:added', 'put:change']);
      assert.deepEqual([...r.cache.keys()].map((k) => k.split('/').pop()).sort(), [
        'added',
        'change',
        'keep',
      ]);
      await ds.create(pool('after', 5));
      await until(() => events.includes('put:after'), 5000, 'a live event after the resync');
    } finally {
      await r.stop();
    }
  } finally {
    ds.close();
  }
});

test('resuming from a revision that is still available replays what happened since', async () => {
  const ds = open();
  try {
    await ds.create(pool('one', 1));
    const first = ds.reflector('IPPool');
    await first.start();
    await first.stop();
    await ds.create(pool('two', 2));
    const r = ds.reflector('IPPool', {
      resume: { revision: first.currentRevision, known: new Map(first.cache) },
    });
    const events: string[] = [];
    r.on('event', (e) => events.push(`${e.type}:${e.key.split('/').pop()}`));
    await r.start();
    await until(() => events.length === 1, 5000, 'the missed event');
    assert.deepEqual(events, ['put:two']);
    assert.equal(r.resyncs, 0);
    await r.stop();
  } finally {
    ds.close();
  }
});
