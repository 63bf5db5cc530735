import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Datastore, ipamKeys, parseCidr } from '@tricolor/datastore';
import { EtcdServer } from '@tricolor/testkit';
import {
  adjustHandle,
  decodeBlock,
  decodeHandle,
  encodeBlock,
  encodeHandle,
  type HookPoint,
  Ipam,
  IpamExhaustedError,
  IpamNodeNotFoundError,
  newBlock,
} from '../src/index.js';
import { addNodes, addPool, gate, openStore } from './helpers.js';

let etcd: EtcdServer;
before(async () => {
  etcd = await EtcdServer.start();
});
after(async () => {
  await etcd.destroy();
});

async function withStore(fn: (ds: Datastore) => Promise<void>): Promise<void> {
  const ds = openStore(etcd);
  try {
    await fn(ds);
  } finally {
    ds.close();
  }
}

const blockOf = async (ds: Datastore, cidr: string) => {
  const v = await ds.kv.get(ipamKeys.block(ds.prefix, parseCidr(cidr)!));
  return v ? decodeBlock(v.value) : undefined;
};
const affinityKeys = async (ds: Datastore) =>
  (await ds.kv.list(ipamKeys.affinitiesPrefix(ds.prefix))).items.map((i) =>
    i.key.slice(ipamKeys.affinitiesPrefix(ds.prefix).length),
  );
const inCidr = (ip: string, cidr: string) => {
  const c = parseCidr(cidr)!;
  const a = parseCidr(ip)!;
  return (
    a.family === c.family &&
    a.address >> BigInt((c.family === 4 ? 32 : 128) - c.prefixLength) ===
      c.address >> BigInt((c.family === 4 ? 32 : 128) - c.prefixLength)
  );
};

/** A hook that stops at one point (for one node, once) until the test opens the gate. */
function stopAt(point: HookPoint, node?: string) {
  const g = gate();
  let fired = false;
  const hook = async (p: HookPoint, info: { node?: string }) => {
    if (fired || p !== point || (node && info.node !== node)) return;
    fired = true;
    await g.wait();
  };
  return { ...g, hook };
}

test('autoAssign hands out /32 and /128 from an affine block; blocks, affinities and handles use the DESIGN.md formats', () =>
  withStore(async (ds) => {
    await addPool(ds, 'v4', '10.244.0.0/16');
    await addPool(ds, 'v6', 'fd00:10::/64');
    await addNodes(ds, 'n1');
    const ipam = new Ipam(ds);
    const r = await ipam.autoAssign({
      node: 'n1',
      handle: 'k8s-pod-network.c1',
      num4: 2,
      num6: 1,
      attributes: { namespace: 'default', pod: 'p1' },
    });
    assert.equal(r.ipv4.length, 2);
    assert.equal(r.ipv6.length, 1);
    assert.match(r.ipv4[0]!, /^10\.244\.\d+\.\d+\/32$/);
    assert.match(r.ipv6[0]!, /^fd00:10::[0-9a-f:]*\/128$/);
    const owned = await ipam.ownedBlocks('n1');
    assert.equal(owned.length, 2);
    assert.ok(r.ipv4.every((ip) => inCidr(ip, owned[0]!)));
    assert.ok(inCidr(r.ipv6[0]!, owned[1]!));
    const block = (await blockOf(ds, owned[0]!))!;
    assert.equal(block.affinity, 'host:n1');
    const stamp = block.attributes[0]!.secondary.timestamp!;
    assert.ok(Math.abs(Date.now() - Date.parse(stamp)) < 60_000, `allocation time ${stamp}`);
    delete block.attributes[0]!.secondary.timestamp;
    assert.deepEqual(block.attributes, [
      { handleId: 'k8s-pod-network.c1', secondary: { namespace: 'default', pod: 'p1', node: 'n1' } },
    ]);
    assert.equal(block.sequenceNumber, 1);
    const aff = await ds.kv.get(ipamKeys.affinity(ds.prefix, 'n1', parseCidr(owned[0]!)!));
    assert.deepEqual(JSON.parse(aff!.value), { state: 'confirmed' });
    const h = decodeHandle((await ds.kv.get(ipamKeys.handle(ds.prefix, 'k8s-pod-network.c1')))!.value);
    assert.deepEqual(h, { handleId: 'k8s-pod-network.c1', block: { [owned[0]!]: 2, [owned[1]!]: 1 } });
    assert.deepEqual(await ipam.ipsByHandle('k8s-pod-network.c1'), [...r.ipv4, ...r.ipv6].sort());
    const next = await ipam.autoAssign({ node: 'n1', handle: 'k8s-pod-network.c2' });
    assert.ok(inCidr(next.ipv4[0]!, owned[0]!), 'the next pod lands in the same block');
    // No WorkloadEndpoint was written for these CNI handles. Within the grace period that is a
    // pod still being set up; past it (grace 0 here) all four addresses are leaked.
    assert.deepEqual((await ipam.check()).problems, []);
    assert.deepEqual(
      (await ipam.check({ leakGraceMs: 0 })).problems.map((p) => p.kind),
      ['leaked-address', 'leaked-address', 'leaked-address', 'leaked-address'],
    );
  }));

test('racing block claims from different hosts: one owner, the loser writes nothing of its claim and borrows', () =>
  withStore(async (ds) => {
    await addPool(ds, 'one', '10.1.0.0/26'); // exactly one block
    await addNodes(ds, 'a', 'b');
    const stop = stopAt('claim:block-chosen', 'a');
    const ipamA = new Ipam(ds, { hook: stop.hook });
    const ipamB = new Ipam(ds);
    const pa = ipamA.autoAssign({ node: 'a', handle: 'ha' });
    await stop.reached; // a chose the block and stopped before its claim's transaction
    const rb = await ipamB.autoAssign({ node: 'b', handle: 'hb' });
    stop.open();
    const ra = await pa;
    assert.notEqual(ra.ipv4[0], rb.ipv4[0]);
    assert.equal((await blockOf(ds, '10.1.0.0/26'))!.affinity, 'host:b');
    assert.deepEqual(await ipamB.ownedBlocks('b'), ['10.1.0.0/26']);
    assert.deepEqual(await ipamA.ownedBlocks('a'), []);
    assert.deepEqual(await affinityKeys(ds), ['b/ipv4/block/10.1.0.0-26'], 'a wrote no affinity');
    assert.equal((await ipamA.check()).ok, true);
    // With strictAffinity, a may not borrow: a clear error.
    await ipamA.setConfig({ strictAffinity: true });
    await assert.rejects(
      ipamA.autoAssign({ node: 'a', handle: 'ha2' }),
      (e: Error) =>
        e instanceof IpamExhaustedError &&
        /no free address in pools 10.1.0.0\/26: 1 of 1 blocks claimed/.test(e.message) &&
        /strictAffinity/.test(e.message),
    );
  }));

test('racing block claims from the same host converge on one block with distinct addresses', () =>
  withStore(async (ds) => {
    await addPool(ds, 'p', '10.2.0.0/16');
    await addNodes(ds, 'a');
    const i1 = new Ipam(ds);
    const i2 = new Ipam(ds);
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, k) => (k % 2 ? i1 : i2).autoAssign({ node: 'a', handle: `h${k}` })),
    );
    const ips = results.map((r) => r.ipv4[0]!);
    assert.equal(new Set(ips).size, 40);
    const owned = await i1.ownedBlocks('a');
    assert.equal(owned.length, 1, `one block for 40 addresses, got ${owned.join(', ')}`);
    assert.ok(ips.every((ip) => inCidr(ip, owned[0]!)));
    assert.equal((await i1.check()).ok, true);
  }));

test('release of an affinity while another host claims the block: the block has exactly one owner', () =>
  withStore(async (ds) => {
    await addPool(ds, 'one', '10.3.0.0/26');
    await addNodes(ds, 'a', 'b');
    const ia = new Ipam(ds);
    await ia.autoAssign({ node: 'a', handle: 'tmp' });
    await ia.releaseByHandle('tmp');
    // 1) a's release has deleted the empty block but not yet its affinity: b claims the block.
    const stop = stopAt('release-affinity:block-done', 'a');
    const releaser = new Ipam(ds, { hook: stop.hook });
    const rel = releaser.releaseAffinities('a');
    await stop.reached;
    const rb = await new Ipam(ds).autoAssign({ node: 'b', handle: 'hb' });
    stop.open();
    assert.deepEqual(await rel, { released: ['10.3.0.0/26'], kept: [] });
    assert.ok(inCidr(rb.ipv4[0]!, '10.3.0.0/26'));
    assert.deepEqual(await ia.ownedBlocks('a'), []);
    assert.deepEqual(await ia.ownedBlocks('b'), ['10.3.0.0/26']);
    assert.equal((await blockOf(ds, '10.3.0.0/26'))!.affinity, 'host:b');
    assert.equal((await ia.check()).ok, true);

    // 2) b's release has marked pendingDeletion and stops before the block; a borrows an
    //    address from the (now non-empty) block, so the release keeps it for b.
    await new Ipam(ds).releaseByHandle('hb');
    const stop2 = stopAt('release-affinity:pending-deletion', 'b');
    const rel2 = new Ipam(ds, { hook: stop2.hook }).releaseAffinities('b');
    await stop2.reached;
    const ra = await new Ipam(ds).autoAssign({ node: 'a', handle: 'ha' });
    stop2.open();
    assert.deepEqual(await rel2, { released: [], kept: ['10.3.0.0/26'] });
    assert.ok(inCidr(ra.ipv4[0]!, '10.3.0.0/26'));
    assert.deepEqual(await ia.ownedBlocks('b'), ['10.3.0.0/26']);
    assert.equal((await ia.check()).ok, true);
  }));

test('claim while an affinity of the same host is being deleted takes another block', () =>
  withStore(async (ds) => {
    await addPool(ds, 'two', '10.4.0.0/25'); // two /26 blocks
    await addNodes(ds, 'a');
    const ia = new Ipam(ds);
    const first = (await ia.autoAssign({ node: 'a', handle: 'tmp' })).ipv4[0]!;
    await ia.releaseByHandle('tmp');
    const [b1] = await ia.ownedBlocks('a');
    assert.ok(inCidr(first, b1!));
    const stop = stopAt('release-affinity:pending-deletion', 'a');
    const rel = new Ipam(ds, { hook: stop.hook }).releaseAffinities('a');
    await stop.reached;
    const r = await new Ipam(ds).autoAssign({ node: 'a', handle: 'h' });
    assert.ok(!inCidr(r.ipv4[0]!, b1!), 'the block being released is not used');
    stop.open();
    assert.deepEqual(
      await rel,
      { released: [b1], kept: [] },
      'only the affinity that existed when the release listed',
    );
    const owned = await ia.ownedBlocks('a');
    assert.equal(owned.length, 1);
    assert.notEqual(owned[0], b1);
    assert.ok(inCidr(r.ipv4[0]!, owned[0]!));
    assert.equal(await blockOf(ds, b1!), undefined);
    assert.equal((await ia.check()).ok, true);
  }));

test('an empty block released by one node is reclaimed by another', () =>
  withStore(async (ds) => {
    await addPool(ds, 'one', '10.5.0.0/26');
    await addNodes(ds, 'a', 'b');
    const ipam = new Ipam(ds);
    await ipam.autoAssign({ node: 'a', handle: 'h1' });
    assert.deepEqual(
      await ipam.releaseAffinities('a'),
      { released: [], kept: ['10.5.0.0/26'] },
      'not empty: kept',
    );
    await ipam.releaseByHandle('h1');
    assert.deepEqual(await ipam.releaseAffinities('a'), { released: ['10.5.0.0/26'], kept: [] });
    assert.equal(await blockOf(ds, '10.5.0.0/26'), undefined, 'the empty block is deleted');
    const r = await ipam.autoAssign({ node: 'b', handle: 'h2' });
    assert.equal(r.ipv4[0], '10.5.0.0/32', 'a fresh block again');
    assert.deepEqual(await ipam.ownedBlocks('b'), ['10.5.0.0/26']);
    assert.equal((await ipam.check()).ok, true);
  }));

test('no allocation from a disabled or deleted pool, even from a block the node already owns', () =>
  withStore(async (ds) => {
    await addPool(ds, 'p1', '10.6.1.0/24');
    await addPool(ds, 'p2', '10.6.2.0/24');
    await addNodes(ds, 'a');
    const ipam = new Ipam(ds);
    const r1 = await ipam.autoAssign({ node: 'a', handle: 'h1', pools: ['p1'] });
    assert.ok(inCidr(r1.ipv4[0]!, '10.6.1.0/24'));
    await addPool(ds, 'p1', '10.6.1.0/24', { disabled: true });
    const r2 = await ipam.autoAssign({ node: 'a', handle: 'h2' });
    assert.ok(inCidr(r2.ipv4[0]!, '10.6.2.0/24'), `got ${r2.ipv4[0]}`);
    await assert.rejects(
      ipam.autoAssign({ node: 'a', handle: 'h3', pools: ['p1'] }),
      /no enabled IPv4 pool among p1/,
    );
    await ds.delete('IPPool', 'p2');
    await assert.rejects(ipam.autoAssign({ node: 'a', handle: 'h4' }), /no enabled IPv4 pool selects node a/);
    await assert.rejects(
      ipam.autoAssign({ node: 'a', handle: 'h5', pools: ['p2'] }),
      /"p2" is not the name or CIDR/,
    );
    await assert.rejects(ipam.assignIp({ node: 'a', handle: 'h6', ip: '10.6.1.77' }), /disabled/);
  }));

test('release and re-allocation with the same handle; a duplicate release is a no-op', () =>
  withStore(async (ds) => {
    await addPool(ds, 'p', '10.7.0.0/24');
    await addNodes(ds, 'a');
    const ipam = new Ipam(ds);
    const r1 = await ipam.autoAssign({ node: 'a', handle: 'k8s-pod-network.x' });
    assert.deepEqual(await ipam.releaseByHandle('k8s-pod-network.x'), r1.ipv4);
    assert.deepEqual(await ipam.releaseByHandle('k8s-pod-network.x'), [], 'second release');
    assert.equal(await ds.kv.get(ipamKeys.handle(ds.prefix, 'k8s-pod-network.x')), undefined);
    assert.deepEqual(await ipam.releaseIps(r1.ipv4), [], 'releasing a free address');
    const r2 = await ipam.autoAssign({ node: 'a', handle: 'k8s-pod-network.x' });
    assert.notEqual(r2.ipv4[0], r1.ipv4[0], 'FIFO: the released address is not reused first');
    assert.deepEqual(await ipam.ipsByHandle('k8s-pod-network.x'), r2.ipv4);
    const h = decodeHandle((await ds.kv.get(ipamKeys.handle(ds.prefix, 'k8s-pod-network.x')))!.value);
    assert.deepEqual(Object.values(h.block), [1]);
    assert.deepEqual(await ipam.releaseIps([r2.ipv4[0]!.replace('/32', '')]), r2.ipv4);
    assert.equal(
      await ds.kv.get(ipamKeys.handle(ds.prefix, 'k8s-pod-network.x')),
      undefined,
      'handle gone with its last address',
    );
    assert.equal((await ipam.check()).ok, true);
  }));

test('allocation wraps around inside a block: released addresses come back last', () =>
  withStore(async (ds) => {
    await addPool(ds, 'tiny', '10.8.0.0/29', { blockSize: 29 });
    await addNodes(ds, 'a');
    const ipam = new Ipam(ds);
    const got: string[] = [];
    for (let i = 0; i < 3; i++) got.push((await ipam.autoAssign({ node: 'a', handle: `h${i}` })).ipv4[0]!);
    assert.deepEqual(got, ['10.8.0.0/32', '10.8.0.1/32', '10.8.0.2/32']);
    await ipam.releaseByHandle('h1');
    const more: string[] = [];
    for (let i = 3; i < 9; i++) more.push((await ipam.autoAssign({ node: 'a', handle: `h${i}` })).ipv4[0]!);
    assert.deepEqual(more, [
      '10.8.0.3/32',
      '10.8.0.4/32',
      '10.8.0.5/32',
      '10.8.0.6/32',
      '10.8.0.7/32',
      '10.8.0.1/32',
    ]);
    await assert.rejects(
      ipam.autoAssign({ node: 'a', handle: 'full' }),
      /no free address in pools 10.8.0.0\/29: 1 of 1 blocks claimed/,
    );
    assert.equal(
      await ds.kv.get(ipamKeys.handle(ds.prefix, 'full')),
      undefined,
      'a failed assign leaves no handle',
    );
  }));

test('253-character node names work end to end', () =>
  withStore(async (ds) => {
    const node = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    assert.equal(node.length, 253);
    await addPool(ds, 'p', '10.9.0.0/24');
    await addNodes(ds, node);
    const ipam = new Ipam(ds);
    const r = await ipam.autoAssign({ node, handle: `vxlan-tunnel-addr-${node}` });
    const owned = await ipam.ownedBlocks(node);
    assert.equal(owned.length, 1);
    assert.ok(inCidr(r.ipv4[0]!, owned[0]!));
    assert.equal((await ipam.check()).ok, true);
    await ipam.releaseByHandle(`vxlan-tunnel-addr-${node}`);
    assert.deepEqual((await ipam.releaseAffinities(node)).released, owned);
  }));

test('assignIp takes a specific address, claims its block, refuses one in use', () =>
  withStore(async (ds) => {
    await addPool(ds, 'p', '10.10.0.0/24');
    await addNodes(ds, 'a', 'b');
    const ipam = new Ipam(ds);
    await ipam.assignIp({ node: 'a', handle: 'ipip-tunnel-addr-a', ip: '10.10.0.70' });
    assert.deepEqual(await ipam.ownedBlocks('a'), ['10.10.0.64/26']);
    await ipam.assignIp({ node: 'a', handle: 'ipip-tunnel-addr-a', ip: '10.10.0.70' }); // idempotent
    await assert.rejects(
      ipam.assignIp({ node: 'b', handle: 'x', ip: '10.10.0.70/32' }),
      /already in use \(handle ipip-tunnel-addr-a\)/,
    );
    await assert.rejects(ipam.assignIp({ node: 'b', handle: 'x', ip: '192.168.0.1' }), /in no IPPool/);
    await assert.rejects(
      ipam.assignIp({ node: 'b', handle: 'x', ip: 'nope' }),
      /ip: "nope" is not an IP address/,
    );
    assert.deepEqual(await ipam.ipsByHandle('ipip-tunnel-addr-a'), ['10.10.0.70/32']);
    assert.equal((await ipam.check()).ok, true);
  }));

test('maxBlocksPerHost: the node stops claiming and borrows instead (unless strict)', () =>
  withStore(async (ds) => {
    await addPool(ds, 'p', '10.11.0.0/25', { blockSize: 26 });
    await addNodes(ds, 'a', 'b');
    const ipam = new Ipam(ds);
    await ipam.setConfig({ maxBlocksPerHost: 1 });
    assert.deepEqual(await ipam.getConfig(), {
      strictAffinity: false,
      autoAllocateBlocks: true,
      maxBlocksPerHost: 1,
    });
    await ipam.autoAssign({ node: 'a', handle: 'a0', num4: 64 });
    await assert.rejects(ipam.autoAssign({ node: 'a', handle: 'a1' }), /maxBlocksPerHost 1/);
    const rb = await ipam.autoAssign({ node: 'b', handle: 'b0' });
    const ra = await ipam.autoAssign({ node: 'a', handle: 'a2' });
    const [bBlock] = await ipam.ownedBlocks('b');
    assert.ok(inCidr(ra.ipv4[0]!, bBlock!), 'a borrowed from b');
    assert.ok(inCidr(rb.ipv4[0]!, bBlock!));
    assert.equal((await ipam.ownedBlocks('a')).length, 1);
    assert.equal((await ipam.check()).ok, true);
    const usage = await ipam.usage();
    assert.deepEqual(usage.pools[0], {
      name: 'p',
      cidr: '10.11.0.0/25',
      blockSize: 26,
      disabled: false,
      blocksTotal: '2',
      blocksClaimed: 2,
      addressesTotal: '128',
      addressesInBlocks: 128,
      allocated: 66,
    });
  }));

test("a node's first address is one transaction: confirmed affinity, block with the address, handle", () =>
  withStore(async (ds) => {
    await addPool(ds, 'p', '10.11.0.0/24');
    await addNodes(ds, 'a');
    // Every write the allocation makes, and every state a watcher of the keys could see.
    const watcher = await ds.etcd.watch().prefix(`${ds.prefix}ipam/`).create();
    const seen: { key: string; value: string; rev: string }[] = [];
    watcher.on('put', (kv) =>
      seen.push({
        key: kv.key.toString().slice(ds.prefix.length),
        value: kv.value.toString(),
        rev: kv.mod_revision,
      }),
    );
    try {
      const r = await new Ipam(ds).autoAssign({ node: 'a', handle: 'k8s-pod-network.first' });
      const owned = await new Ipam(ds).ownedBlocks('a');
      assert.equal(owned.length, 1);
      assert.ok(inCidr(r.ipv4[0]!, owned[0]!));
      // The watch delivers after the write's answer: wait for the events, then a while for strays.
      for (let i = 0; i < 100 && seen.length < 3; i++) await new Promise((res) => setTimeout(res, 20));
      await new Promise((res) => setTimeout(res, 200));
      assert.deepEqual(
        seen.map((w) => w.key.split('/').slice(0, 4).join('/')).sort(),
        ['ipam/v2/assignment/ipv4', 'ipam/v2/handle/k8s-pod-network.first', 'ipam/v2/host/a'],
        'three keys written, nothing else',
      );
      assert.equal(new Set(seen.map((w) => w.rev)).size, 1, 'all at one revision: one transaction');
      const aff = seen.find((w) => w.key.startsWith('ipam/v2/host/'))!;
      assert.deepEqual(JSON.parse(aff.value), { state: 'confirmed' }, 'never pending');
      const block = decodeBlock(seen.find((w) => w.key.startsWith('ipam/v2/assignment/'))!.value);
      assert.equal(block.affinity, 'host:a');
      assert.equal(block.allocations.filter((a) => a !== null).length, 1, 'the block holds the address');
      assert.equal((await new Ipam(ds).check()).ok, true);
    } finally {
      await watcher.cancel();
    }
  }));

test('a claim the handle already exists for (a retried ADD) claims the block alone, then allocates as usual', () =>
  withStore(async (ds) => {
    await addPool(ds, 'p', '10.14.0.0/24');
    await addNodes(ds, 'a', 'b');
    const ipam = new Ipam(ds);
    // The same handle already holds an address (on node b): the claim cannot create it.
    const onB = await ipam.autoAssign({ node: 'b', handle: 'k8s-pod-network.again' });
    const onA = await ipam.autoAssign({ node: 'a', handle: 'k8s-pod-network.again' });
    assert.notEqual(onA.ipv4[0], onB.ipv4[0]);
    const ownedA = await ipam.ownedBlocks('a');
    assert.equal(ownedA.length, 1);
    assert.ok(inCidr(onA.ipv4[0]!, ownedA[0]!));
    assert.deepEqual(await ipam.ipsByHandle('k8s-pod-network.again'), [onA.ipv4[0]!, onB.ipv4[0]!].sort());
    assert.equal((await ipam.check()).ok, true);
  }));

test('a two-phase claim cut by a crash (an older writer, Calico) is finished by the next allocation', () =>
  withStore(async (ds) => {
    await addPool(ds, 'p', '10.12.0.0/24');
    await addNodes(ds, 'a');
    const c = parseCidr('10.12.0.0/26')!;
    const affKey = ipamKeys.affinity(ds.prefix, 'a', c);
    // Cut after step 1 (pending affinity), then after step 2 (block created too).
    for (const withBlock of [false, true]) {
      await ds.kv.create(affKey, JSON.stringify({ state: 'pending' }));
      if (withBlock) await ds.kv.create(ipamKeys.block(ds.prefix, c), encodeBlock(newBlock(c, 'host:a')));
      const ipam = new Ipam(ds);
      assert.deepEqual(
        (await ipam.check()).problems.map((p) => p.kind),
        ['pending-affinity'],
      );
      assert.deepEqual(await ipam.ownedBlocks('a'), [], 'a pending claim owns nothing yet');
      const r = await ipam.autoAssign({ node: 'a', handle: `ok-${withBlock}` });
      assert.deepEqual(
        await ipam.ownedBlocks('a'),
        ['10.12.0.0/26'],
        'the unfinished claim was finished, not duplicated',
      );
      assert.ok(inCidr(r.ipv4[0]!, '10.12.0.0/26'));
      assert.equal((await ipam.check()).ok, true);
      await ipam.releaseByHandle(`ok-${withBlock}`);
      await ipam.releaseAffinities('a');
    }
  }));

test('an allocation writes its block and handle in one transaction', () =>
  withStore(async (ds) => {
    await addPool(ds, 'p', '10.15.0.0/24');
    await addNodes(ds, 'a');
    await new Ipam(ds).autoAssign({ node: 'a', handle: 'warm' });
    // A fresh process (as the CNI plugin is for each ADD), into the node's existing block.
    const r = await new Ipam(ds).autoAssign({ node: 'a', handle: 'k8s-pod-network.second', num4: 2 });
    const block = await ds.kv.get(ipamKeys.block(ds.prefix, parseCidr('10.15.0.0/26')!));
    const handle = await ds.kv.get(ipamKeys.handle(ds.prefix, 'k8s-pod-network.second'));
    assert.equal(r.ipv4.length, 2);
    assert.equal(handle!.modRevision, block!.modRevision, 'one revision: one transaction');
    assert.deepEqual(decodeHandle(handle!.value).block, { '10.15.0.0/26': 2 });
    // The same handle again (dual-stack's second family, a later allocation): counted on.
    await new Ipam(ds).autoAssign({ node: 'a', handle: 'k8s-pod-network.second' });
    assert.deepEqual(
      decodeHandle((await ds.kv.get(ipamKeys.handle(ds.prefix, 'k8s-pod-network.second')))!.value).block,
      { '10.15.0.0/26': 3 },
    );
    assert.equal((await new Ipam(ds).check()).ok, true);
  }));

test('an over-counting handle (a crash between the two writes of an older writer) is reported, released and repaired', () =>
  withStore(async (ds) => {
    await addPool(ds, 'p', '10.13.0.0/24');
    await addNodes(ds, 'a');
    await new Ipam(ds).autoAssign({ node: 'a', handle: 'warm' });
    const [block] = await new Ipam(ds).ownedBlocks('a');
    // Older writers counted the handle first and wrote the block second.
    const overCount = async (h: string) =>
      ds.kv.create(ipamKeys.handle(ds.prefix, h), encodeHandle(adjustHandle(undefined, h, block!, 1)));
    await overCount('k8s-pod-network.dead');
    const ipam = new Ipam(ds);
    const report = await ipam.check();
    assert.deepEqual(
      report.problems.map((p) => p.kind),
      ['orphan-handle'],
    );
    // A CNI DEL after the crash still works and cleans the handle up.
    assert.deepEqual(await ipam.releaseByHandle('k8s-pod-network.dead'), []);
    assert.equal((await ipam.check()).ok, true);
    // Same again, this time repaired by `repair`.
    await overCount('k8s-pod-network.dead2');
    const fixed = await ipam.repair();
    assert.equal(fixed.ok, true, JSON.stringify(fixed));
    assert.deepEqual(fixed.actions, ['rewrote handle k8s-pod-network.dead2: {}']);
    // A crash between block release and handle decrement: the next release finishes it.
    const r = await ipam.autoAssign({ node: 'a', handle: 'h3' });
    const crashRelease = new Ipam(ds, {
      hook: (p) => {
        if (p === 'release:block-written') throw new Error('crash');
      },
    });
    await assert.rejects(crashRelease.releaseByHandle('h3'), /crash/);
    assert.deepEqual(
      (await ipam.check()).problems.map((p) => p.kind),
      ['orphan-handle'],
    );
    assert.deepEqual(await ipam.releaseByHandle('h3'), []);
    assert.deepEqual(await ipam.releaseIps(r.ipv4), []);
    assert.equal((await ipam.check()).ok, true);
  }));

test('check finds leaked addresses, stale affinities and broken handles; repair makes it clean', () =>
  withStore(async (ds) => {
    await addPool(ds, 'p', '10.14.0.0/24');
    await addNodes(ds, 'a', 'gone');
    const ipam = new Ipam(ds, { leakGraceMs: 0 });
    const live = await ipam.autoAssign({
      node: 'a',
      handle: 'k8s-pod-network.live',
      attributes: { namespace: 'ns', pod: 'live' },
    });
    const byPod = await ipam.autoAssign({
      node: 'a',
      handle: 'k8s-pod-network.other',
      attributes: { namespace: 'ns', pod: 'p2' },
    });
    const leak = await ipam.autoAssign({
      node: 'a',
      handle: 'k8s-pod-network.dead',
      attributes: { namespace: 'ns', pod: 'dead' },
    });
    const manual = await ipam.autoAssign({ node: 'a', handle: 'operator-reserved' });
    const tunnel = await ipam.autoAssign({ node: 'gone', handle: 'vxlan-tunnel-addr-gone' });
    await ds.apply({
      kind: 'WorkloadEndpoint',
      apiVersion: 'tricolor.dev/v1',
      metadata: { name: 'live-eth0', namespace: 'ns' },
      spec: {
        node: 'a',
        workload: 'ns/live',
        containerID: 'live',
        interfaceName: 'cali0000000001',
        ipNetworks: live.ipv4,
      },
    });
    await ds.apply({
      kind: 'WorkloadEndpoint',
      apiVersion: 'tricolor.dev/v1',
      metadata: { name: 'p2-eth0', namespace: 'ns' },
      spec: {
        node: 'a',
        workload: 'ns/p2',
        pod: 'p2',
        interfaceName: 'cali0000000002',
        ipNetworks: byPod.ipv4,
      },
    });
    await ds.delete('Node', 'gone');
    await ds.kv.create(
      ipamKeys.handle(ds.prefix, 'orphan'),
      JSON.stringify({ handleId: 'orphan', block: { '10.14.0.0/26': 3 } }),
    );
    const report = await ipam.check();
    const kinds = report.problems.map((p) => `${p.kind}:${p.ip ?? p.handle ?? p.block}`).sort();
    assert.deepEqual(
      kinds,
      [
        `leaked-address:${leak.ipv4[0]}`,
        `leaked-address:${tunnel.ipv4[0]}`,
        'orphan-handle:orphan',
        `stale-node-affinity:${(await ipam.ownedBlocks('gone'))[0]}`,
      ].sort(),
    );
    assert.equal(report.ok, false);
    const res = await ipam.repair(report);
    assert.equal(res.ok, true, JSON.stringify(res, null, 1));
    assert.deepEqual(res.failures, []);
    assert.deepEqual(
      await ipam.ipsByHandle('k8s-pod-network.live'),
      live.ipv4,
      'live pods keep their address',
    );
    assert.deepEqual(
      await ipam.ipsByHandle('operator-reserved'),
      manual.ipv4,
      'handles of no known form are not judged',
    );
    assert.deepEqual(await ipam.ipsByHandle('k8s-pod-network.dead'), []);
    assert.deepEqual(await ipam.ownedBlocks('gone'), []);
    assert.equal(await ds.kv.get(ipamKeys.handle(ds.prefix, 'orphan')), undefined);
  }));

/** A WorkloadEndpoint as the CNI plugin writes it. */
const endpoint = (pod: string, containerID: string, ips: string[]) => ({
  kind: 'WorkloadEndpoint' as const,
  apiVersion: 'tricolor.dev/v1' as const,
  metadata: { name: `a-k8s-${pod}-eth0`, namespace: 'ns' },
  spec: {
    node: 'a',
    orchestrator: 'k8s',
    workload: `ns/${pod}`,
    pod,
    containerID,
    endpoint: 'eth0',
    interfaceName: `cali${containerID.padStart(11, '0').slice(-11)}`,
    ipNetworks: ips,
    profiles: [],
  },
});

test("issue 17's scenario: 12 endpoints against 11 allocations — the ghost is reported and repair removes only it", () =>
  withStore(async (ds) => {
    await addPool(ds, 'p', '10.15.0.0/24');
    await addNodes(ds, 'a');
    const ipam = new Ipam(ds, { leakGraceMs: 0 });
    for (let i = 0; i < 12; i++) {
      const got = await ipam.autoAssign({
        node: 'a',
        handle: `k8s-pod-network.c${i}`,
        attributes: { namespace: 'ns', pod: `web-${i}`, node: 'a' },
      });
      await ds.create(endpoint(`web-${i}`, `c${i}`, got.ipv4));
    }
    assert.equal((await ipam.check()).ok, true);
    // A DEL that freed the address but left the endpoint (the issue: DEL under another node name).
    const freed = await ipam.releaseByHandle('k8s-pod-network.c11');
    const report = await ipam.check();
    assert.equal(report.summary.workloadEndpoints, 12);
    assert.equal(report.summary.allocations, 11);
    assert.deepEqual(
      report.problems.map((p) => [p.kind, p.endpoint?.name, p.ip]),
      [['ghost-endpoint', 'a-k8s-web-11-eth0', freed[0]]],
    );
    assert.match(
      report.problems[0]!.message,
      /ns\/a-k8s-web-11-eth0 .*container c11.* has no allocation: .* is not allocated/,
    );
    const res = await ipam.repair(report);
    assert.equal(res.ok, true, JSON.stringify(res, null, 1));
    assert.deepEqual(res.actions.length, 1);
    assert.match(res.actions[0]!, /deleted ghost WorkloadEndpoint ns\/a-k8s-web-11-eth0/);
    assert.equal(await ds.get('WorkloadEndpoint', 'a-k8s-web-11-eth0', 'ns'), undefined);
    assert.equal((await ds.list('WorkloadEndpoint', 'ns')).items.length, 11, 'live endpoints stay');
  }));

test('ghost endpoints: an address reused by another pod counts as none; a young one waits for the grace period; a rewritten one is kept', () =>
  withStore(async (ds) => {
    await addPool(ds, 'p', '10.16.0.0/24');
    await addNodes(ds, 'a');
    const ipam = new Ipam(ds, { leakGraceMs: 0 });
    const old = await ipam.autoAssign({
      node: 'a',
      handle: 'k8s-pod-network.old',
      attributes: { namespace: 'ns', pod: 'old' },
    });
    await ds.create(endpoint('old', 'old', old.ipv4));
    await ipam.releaseByHandle('k8s-pod-network.old');
    // The address goes to another pod: the stale endpoint still names it.
    await ipam.assignIp({
      ip: old.ipv4[0]!,
      node: 'a',
      handle: 'k8s-pod-network.new',
      attributes: { namespace: 'ns', pod: 'new' },
    });
    await ds.create(endpoint('new', 'new', old.ipv4));
    const report = await ipam.check();
    assert.deepEqual(
      report.problems.map((p) => `${p.kind}:${p.endpoint?.name}`),
      ['ghost-endpoint:a-k8s-old-eth0'],
    );
    assert.match(report.problems[0]!.message, /is allocated to handle k8s-pod-network\.new \(pod ns\/new\)/);
    // Within the default grace period (10 minutes) an endpoint this young is not judged.
    assert.equal((await new Ipam(ds).check()).ok, true);
    // Rewritten between check and repair (a new ADD of the same pod): repair leaves it alone.
    const again = await ipam.autoAssign({
      node: 'a',
      handle: 'k8s-pod-network.old2',
      attributes: { namespace: 'ns', pod: 'old' },
    });
    await ds.apply(endpoint('old', 'old2', again.ipv4));
    const res = await ipam.repair(report);
    assert.deepEqual(res.actions, []);
    assert.equal(res.ok, true, JSON.stringify(res.remaining));
    assert.deepEqual((await ds.get('WorkloadEndpoint', 'a-k8s-old-eth0', 'ns'))?.spec.ipNetworks, again.ipv4);
  }));

test('releaseAllocationsByHandle says whose addresses it released', () =>
  withStore(async (ds) => {
    await addPool(ds, 'p', '10.17.0.0/24');
    await addNodes(ds, 'a');
    const ipam = new Ipam(ds);
    const got = await ipam.autoAssign({
      node: 'a',
      handle: 'k8s-pod-network.x',
      attributes: { namespace: 'ns', pod: 'x', node: 'a', containerID: 'x' },
    });
    const rel = await ipam.releaseAllocationsByHandle('k8s-pod-network.x');
    assert.equal(rel.length, 1);
    assert.equal(rel[0]!.ip, got.ipv4[0]);
    assert.equal(rel[0]!.attributes.pod, 'x');
    assert.equal(rel[0]!.attributes.node, 'a');
    assert.deepEqual(await ipam.releaseAllocationsByHandle('k8s-pod-network.x'), []);
  }));

test('requireNode refuses a node without a Node resource before writing anything', () =>
  withStore(async (ds) => {
    await addPool(ds, 'p', '10.16.0.0/24');
    await assert.rejects(
      new Ipam(ds).autoAssign({ node: 'ghost', handle: 'h', requireNode: true }),
      (e: Error) => e instanceof IpamNodeNotFoundError && /"ghost" has no Node resource/.test(e.message),
    );
    assert.deepEqual((await ds.kv.list(`${ds.prefix}ipam/`)).items, [], 'nothing written');
    // Without it, a node without labels is just a node without labels.
    const r = await new Ipam(ds).autoAssign({ node: 'ghost', handle: 'h' });
    assert.equal(r.ipv4.length, 1);
  }));

test('reuseHandle: a handle in use gets its addresses back (a retried ADD), found by the write, nothing more allocated', () =>
  withStore(async (ds) => {
    await addPool(ds, 'v4', '10.17.0.0/24');
    await addPool(ds, 'v6', 'fd00:17::/120');
    await addNodes(ds, 'a', 'b');
    const ipam = new Ipam(ds);
    const first = await ipam.autoAssign({ node: 'a', handle: 'k8s-pod-network.r', num4: 1, num6: 1 });
    // Again from a fresh process, into the existing block (allocation) and on a node with no
    // block yet (claim): both find the handle with their first write.
    for (const node of ['a', 'b']) {
      const again = await new Ipam(ds).autoAssign({
        node,
        handle: 'k8s-pod-network.r',
        num4: 1,
        num6: 1,
        reuseHandle: true,
      });
      assert.deepEqual(again, { ...first, reused: true }, node);
    }
    assert.deepEqual(await ipam.ipsByHandle('k8s-pod-network.r'), [...first.ipv4, ...first.ipv6].sort());
    assert.deepEqual(await ipam.ownedBlocks('b'), [], 'b claimed nothing');
    // A new handle is unaffected.
    const fresh = await new Ipam(ds).autoAssign({
      node: 'a',
      handle: 'k8s-pod-network.n',
      reuseHandle: true,
    });
    assert.equal(fresh.reused, undefined);
    assert.equal((await ipam.check()).ok, true);
  }));
