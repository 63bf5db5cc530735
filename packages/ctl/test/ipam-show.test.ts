// `ipam show --ip / --show-borrowed / --show-blocks -o wide / --show-configuration` and
// `ipam release --ip` on the compiled binary against a real etcd, with addresses assigned
// by IPAM itself (one node borrowing from another's block).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EtcdServer } from '@tricolor/testkit';
import { ctl, uniquePrefix } from './helpers.js';

let etcd: EtcdServer;
before(async () => {
  etcd = await EtcdServer.start();
});
after(async () => {
  await etcd.destroy();
});

test('who holds an address, since when; borrowed addresses; release by address', async () => {
  const p = uniquePrefix();
  const c = (args: string[], input?: string) => ctl(etcd.endpoint, p, args, input);
  const setup = await c(
    ['apply', '-f', '-'],
    JSON.stringify([
      { kind: 'IPPool', metadata: { name: 'tiny' }, spec: { cidr: '10.90.0.0/26', blockSize: 26 } },
      { kind: 'Node', metadata: { name: 'node-1' }, spec: {} },
      { kind: 'Node', metadata: { name: 'node-2' }, spec: {} },
    ]),
  );
  assert.equal(setup.code, 0, setup.stderr);
  const t0 = Date.now();
  const assign = async (node: string, handle: string, ns: string, pod: string) => {
    const r = await c([
      'ipam',
      'assign',
      '--node',
      node,
      '--handle',
      handle,
      '--attr',
      `namespace=${ns}`,
      '--attr',
      `pod=${pod}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim().replace('/32', '');
  };
  const ip1 = await assign('node-1', 'k8s-pod-network.c1', 'default', 'web');
  // The pool has one block, now node-1's: node-2 borrows from it.
  const ip2 = await assign('node-2', 'k8s-pod-network.c2', 'prod', 'db');
  const wep = {
    kind: 'WorkloadEndpoint',
    metadata: { name: 'node--1-k8s-web-eth0', namespace: 'default' },
    spec: {
      node: 'node-1',
      orchestrator: 'k8s',
      workload: 'default/web',
      endpoint: 'eth0',
      interfaceName: 'cali0123456789a',
      ipNetworks: [`${ip1}/32`],
      profiles: ['kns.default'],
    },
  };
  assert.equal((await c(['apply', '-f', '-'], JSON.stringify(wep))).code, 0);

  const show = await c(['ipam', 'show', '--ip', ip1]);
  assert.equal(show.code, 0, show.stderr);
  const lines = show.stdout.split('\n');
  assert.deepEqual(lines.slice(0, 6), [
    `IP ${ip1} is in use`,
    '  Handle:    k8s-pod-network.c1',
    '  Type:      pod',
    '  Pod:       default/web',
    '  Node:      node-1',
    '  Block:     10.90.0.0/26 (owner node-1, pool tiny)',
  ]);
  assert.match(lines[6]!, /^ {2}Since: {5}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(\d+s ago\)$/);
  assert.equal(lines[7], '  Endpoint:  workloadendpoint/default/node--1-k8s-web-eth0 (cali0123456789a)');
  assert.equal(lines[8], 'Attributes:');
  assert.match(show.stdout, /\n {2}namespace: default\n {2}node: node-1\n {2}pod: web\n {2}timestamp: /);

  const j = JSON.parse((await c(['ipam', 'show', '--ip', ip1, '-o', 'json'])).stdout);
  assert.equal(j.inUse, true);
  assert.equal(j.pool, 'tiny');
  assert.equal(j.allocation.handle, 'k8s-pod-network.c1');
  assert.equal(j.allocation.borrowed, false);
  const at = Date.parse(j.allocation.allocatedAt);
  assert.ok(
    at >= t0 - 1000 && at <= Date.now(),
    `allocatedAt ${j.allocation.allocatedAt} is the assignment time`,
  );
  assert.deepEqual(j.workloadEndpoint, {
    namespace: 'default',
    name: 'node--1-k8s-web-eth0',
    interface: 'cali0123456789a',
  });

  const borrowedIp = await c(['ipam', 'show', '--ip', `${ip2}/32`]);
  assert.match(
    borrowedIp.stdout,
    /Node: {6}node-2 \(borrowed from the block owner\)\n {2}Block: {5}10\.90\.0\.0\/26 \(owner node-1/,
  );
  assert.match(borrowedIp.stdout, /Endpoint: {2}\(no WorkloadEndpoint has it\)/);

  const free = await c(['ipam', 'show', '--ip', '10.90.0.50']);
  assert.equal(free.code, 0);
  assert.equal(free.stdout, 'IP 10.90.0.50 is not assigned (in block 10.90.0.0/26 of node-1)\n');
  const outside = await c(['ipam', 'show', '--ip', '10.99.0.1', '-o', 'yaml']);
  assert.match(outside.stdout, /inUse: false\npool: null\nblock: null/);
  const bad = await c(['ipam', 'show', '--ip', '10.99.0']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--ip: "10\.99\.0" is not an IP address/);
  const two = await c(['ipam', 'show', '--ip', ip1, '--show-borrowed']);
  assert.match(two.stderr, /ipam show: give one of --ip, --show-borrowed/);

  const borrowed = await c(['ipam', 'show', '--show-borrowed']);
  assert.equal(
    borrowed.stdout.replace(/ +/g, ' '),
    `IP BORROWING-NODE BLOCK BLOCK OWNER TYPE ALLOCATED-TO\n${ip2} node-2 10.90.0.0/26 node-1 pod prod/db\n`,
  );
  const bw = await c(['ipam', 'show', '--show-borrowed', '-o', 'wide']);
  assert.match(bw.stdout, /ALLOCATED-TO\s+HANDLE\s+SINCE\n.*prod\/db\s+k8s-pod-network\.c2\s+\d{4}-/);
  const bj = JSON.parse((await c(['ipam', 'show', '--show-borrowed', '-o', 'json'])).stdout);
  assert.deepEqual(
    bj.borrowed.map((b: { ip: string; node: string }) => [b.ip, b.node]),
    [[ip2, 'node-2']],
  );
  const blocks = await c(['ipam', 'show', '--show-blocks', '-o', 'wide']);
  assert.match(
    blocks.stdout,
    /BLOCKSIZE\s+IPS FREE\ntiny\s+10\.90\.0\.0\/26\s+1\/1\s+2\/64\s+64\s+false\s+26\s+62\n/,
  );
  assert.match(
    blocks.stdout,
    /BLOCK\s+POOL\s+OWNER\s+USED\s+FREE\s+SIZE\s+BORROWED\n10\.90\.0\.0\/26\s+tiny\s+node-1\s+2\s+62\s+64\s+1\n/,
  );
  const conf = await c(['ipam', 'show', '--show-configuration']);
  assert.match(
    conf.stdout,
    /PROPERTY\s+VALUE\nStrictAffinity\s+false\nAutoAllocateBlocks\s+true\nMaxBlocksPerHost\s+\d+/,
  );

  const rel = await c(['ipam', 'release', '--ip', ip2]);
  assert.equal(rel.code, 0, rel.stderr);
  assert.equal(rel.stdout, `${ip2}/32\n`);
  assert.match((await c(['ipam', 'show', '--ip', ip2])).stdout, /is not assigned/);
  const relBad = await c(['ipam', 'release', '--ip', 'nonsense']);
  assert.equal(relBad.code, 1);
  assert.match(relBad.stderr, /--ip: "nonsense" is not an IP address/);
});
