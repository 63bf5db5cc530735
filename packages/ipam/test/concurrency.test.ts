import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cidrContains, ipamKeys, parseCidr } from '@tricolor/datastore';
import { EtcdServer, run } from '@tricolor/testkit';
import { decodeBlock, Ipam, parseAffinities } from '../src/index.js';
import { addNodes, addPool, openStore } from './helpers.js';

let etcd: EtcdServer;
before(async () => {
  etcd = await EtcdServer.start();
});
after(async () => {
  await etcd.destroy();
});

const WORKER = fileURLToPath(new URL('./fixtures/worker.js', import.meta.url));

test('10 processes on 5 nodes allocate 1,000 addresses at once: distinct, one owner per block, check clean', async () => {
  const prefix = `/t-${randomUUID().slice(0, 8)}/`;
  const ds = openStore(etcd, prefix);
  try {
    await addPool(ds, 'p', '10.60.0.0/16');
    const nodes = ['n0', 'n1', 'n2', 'n3', 'n4'];
    await addNodes(ds, ...nodes);
    const runs = Array.from({ length: 10 }, (_, w) => {
      const node = nodes[w % 5]!;
      const args = { endpoint: etcd.endpoint, prefix, node, count: 100, handlePrefix: `${node}-w${w}` };
      return run(process.execPath, [WORKER, JSON.stringify(args)], { timeoutMs: 300_000 }).then((r) => ({
        node,
        lines: r.stdout.trim().split('\n'),
      }));
    });
    const results = await Promise.all(runs);
    const byHandle = new Map<string, { node: string; ip: string }>();
    for (const r of results) {
      assert.equal(r.lines.length, 100);
      for (const line of r.lines) {
        const [handle, ip] = line.split(' ');
        byHandle.set(handle!, { node: r.node, ip: ip! });
      }
    }
    const ips = [...byHandle.values()].map((v) => v.ip);
    assert.equal(ips.length, 1000);
    assert.equal(new Set(ips).size, 1000, 'no address handed out twice');

    // Every block has exactly one owner, the affinity agrees, and each node's addresses are in its own blocks.
    const blocks = (await ds.kv.list(ipamKeys.blocksPrefix(prefix, 4))).items.map((v) =>
      decodeBlock(v.value),
    );
    const affs = parseAffinities((await ds.kv.list(ipamKeys.affinitiesPrefix(prefix))).items, prefix);
    assert.equal(affs.length, blocks.length, 'one affinity per block');
    for (const b of blocks) {
      const holders = affs.filter((a) => a.block === b.cidr);
      assert.equal(holders.length, 1, `block ${b.cidr} has ${holders.length} affinities`);
      assert.equal(b.affinity, `host:${holders[0]!.node}`);
      assert.equal(holders[0]!.state, 'confirmed');
    }
    const ipam = new Ipam(ds);
    for (const node of nodes) {
      const owned = (await ipam.ownedBlocks(node)).map((c) => parseCidr(c)!);
      assert.ok(
        owned.length >= 4 && owned.length <= 6,
        `${node} owns ${owned.length} blocks for 200 addresses`,
      );
      for (const { ip } of [...byHandle.values()].filter((v) => v.node === node)) {
        assert.ok(
          owned.some((c) => cidrContains(c, parseCidr(ip)!)),
          `${ip} of ${node} is in one of its blocks`,
        );
      }
    }
    // Handles agree with the blocks: spot-check through the API, then the full check.
    for (const [handle, { ip }] of [...byHandle].slice(0, 50))
      assert.deepEqual(await ipam.ipsByHandle(handle), [ip]);
    const report = await ipam.check();
    assert.deepEqual(report.problems, []);
    assert.equal(report.summary.allocations, 1000);
    assert.equal(report.summary.handles, 1000);
  } finally {
    ds.close();
  }
});
