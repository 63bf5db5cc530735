import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IPPool } from '@tricolor/datastore';
import {
  adjustHandle,
  blockOrder,
  checkHandleId,
  checkPoolOverlap,
  containerOfHandle,
  decodeConfig,
  decodeHandle,
  encodeAffinity,
  hashString,
  nodeOfHandle,
  ownedBlocksFromAffinities,
  seededRandom,
  selectPools,
  validateConfigPatch,
} from '../src/index.js';

const P = '/tricolor/';

test('ownedBlocksFromAffinities keeps only the confirmed affinities of that node', () => {
  const e = (node: string, fam: string, part: string, state: string) => ({
    key: `${P}ipam/v2/host/${node}/${fam}/block/${part}`,
    value: encodeAffinity(state as 'confirmed'),
  });
  const entries = [
    e('n1', 'ipv4', '10.244.1.0-26', 'confirmed'),
    e('n1', 'ipv4', '10.244.0.64-26', 'pending'),
    e('n1', 'ipv4', '10.244.2.0-26', 'pendingDeletion'),
    e('n1', 'ipv6', 'fd00::40-122', 'confirmed'),
    e('n10', 'ipv4', '10.244.3.0-26', 'confirmed'),
    { key: `${P}ipam/v2/handle/x`, value: '{}' },
  ];
  assert.deepEqual(ownedBlocksFromAffinities('n1', entries, P), ['10.244.1.0/26', 'fd00::40/122']);
  assert.deepEqual(ownedBlocksFromAffinities('n10', entries, P), ['10.244.3.0/26']);
  assert.deepEqual(ownedBlocksFromAffinities('n2', entries, P), []);
});

test('block order is a permutation, deterministic per node, different across nodes', () => {
  const order = (node: string) => [...blockOrder(node, '10.244.0.0/16', 26)].map((c) => c.address);
  const a = order('node-a');
  assert.equal(a.length, 1024);
  assert.equal(new Set(a).size, 1024);
  assert.deepEqual(order('node-a'), a);
  assert.notDeepEqual(order('node-b').slice(0, 8), a.slice(0, 8));
  const r = seededRandom(hashString('x'));
  const r2 = seededRandom(hashString('x'));
  assert.equal(r(), r2());
  // A huge IPv6 pool is walked from a seeded start without enumerating it.
  const it = blockOrder('n', 'fd00::/64', 122);
  const first = it.next().value!;
  assert.equal(first.prefixLength, 122);
  assert.equal(it.next().value!.address - first.address, 64n);
});

const pool = (name: string, cidr: string, extra: Partial<IPPool['spec']> = {}): IPPool => ({
  kind: 'IPPool',
  apiVersion: 'tricolor.dev/v1',
  metadata: { name },
  spec: {
    cidr,
    blockSize: cidr.includes(':') ? 122 : 26,
    ipipMode: 'Never',
    vxlanMode: 'Never',
    natOutgoing: false,
    disabled: false,
    disableBGPExport: false,
    nodeSelector: 'all()',
    ...extra,
  },
});

test('checkPoolOverlap names both pools; the same name is an update, not an overlap', () => {
  const pools = [pool('a', '10.244.0.0/16'), pool('v6', 'fd00::/64')];
  assert.match(
    checkPoolOverlap(pools, pool('b', '10.244.8.0/24'))!,
    /IPPool "b" spec.cidr: 10.244.8.0\/24 overlaps IPPool "a" \(10.244.0.0\/16\)/,
  );
  assert.match(checkPoolOverlap(pools, pool('c', '10.0.0.0/8'))!, /overlaps IPPool "a"/);
  assert.equal(checkPoolOverlap(pools, pool('a', '10.244.0.0/17')), undefined);
  assert.equal(checkPoolOverlap(pools, pool('d', '10.245.0.0/16')), undefined);
});

test('selectPools: family, disabled, nodeSelector over labels, requested by name or CIDR', () => {
  const pools = [
    pool('a', '10.244.0.0/16'),
    pool('off', '10.245.0.0/16', { disabled: true }),
    pool('rack1', '10.246.0.0/16', { nodeSelector: "rack == 'r1'" }),
    pool('v6', 'fd00::/64'),
  ];
  const names = (ps: { pool: IPPool }[]) => ps.map((p) => p.pool.metadata.name);
  assert.deepEqual(names(selectPools(pools, { family: 4, labels: {} })), ['a']);
  assert.deepEqual(names(selectPools(pools, { family: 4, labels: { rack: 'r1' } })), ['a', 'rack1']);
  assert.deepEqual(names(selectPools(pools, { family: 6, labels: {} })), ['v6']);
  assert.deepEqual(names(selectPools(pools, { family: 4, labels: {}, requested: ['10.244.0.0/16'] })), ['a']);
  assert.deepEqual(names(selectPools(pools, { family: 4, labels: {}, requested: ['off'] })), []);
  assert.throws(() => selectPools(pools, { family: 4, labels: {}, requested: ['nope'] }), /"nope" is not/);
});

test('handles: counts per block, special node handles, CNI handles, id rules', () => {
  let h = adjustHandle(undefined, 'h', '10.0.0.0/26', 2);
  h = adjustHandle(h, 'h', '10.0.1.0/26', 1);
  assert.deepEqual(h.block, { '10.0.0.0/26': 2, '10.0.1.0/26': 1 });
  h = adjustHandle(h, 'h', '10.0.0.0/26', -5);
  assert.deepEqual(h.block, { '10.0.1.0/26': 1 });
  assert.deepEqual(decodeHandle(JSON.stringify(h)), h);
  assert.equal(nodeOfHandle('vxlan-tunnel-addr-node1.example.com'), 'node1.example.com');
  assert.equal(nodeOfHandle('k8s-pod-network.abc'), undefined);
  assert.equal(containerOfHandle('k8s-pod-network.abc'), 'abc');
  assert.equal(containerOfHandle('plain'), undefined);
  assert.throws(() => checkHandleId('a/b'), /handle: "a\/b" must not contain/);
  assert.throws(() => checkHandleId(''), /handle: is required/);
});

test('config: defaults, validation names the field', () => {
  assert.deepEqual(decodeConfig(undefined), {
    strictAffinity: false,
    autoAllocateBlocks: true,
    maxBlocksPerHost: 0,
  });
  assert.equal(decodeConfig('{"strictAffinity":true}').strictAffinity, true);
  assert.throws(() => validateConfigPatch({ maxBlocksPerHost: -1 }), /maxBlocksPerHost/);
  assert.throws(() => validateConfigPatch({ strictAffinity: 'yes' as unknown as boolean }), /strictAffinity/);
});
