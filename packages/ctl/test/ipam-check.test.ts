/**
 * Issue 17 through the CLI an operator runs: `ipam check --leak-grace 0` counted 12 endpoints
 * against 11 allocations and did not report the ghost. Now it does, and `--repair` removes it.
 */
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

const endpointYaml = (i: number, ip: string) => `---
kind: WorkloadEndpoint
apiVersion: tricolor.dev/v1
metadata: { name: node--1-k8s-web--${i}-eth0, namespace: shop }
spec:
  node: node-1
  orchestrator: k8s
  workload: shop/web-${i}
  pod: web-${i}
  containerID: c${i}
  endpoint: eth0
  interfaceName: cali0000000${String(i).padStart(4, '0')}
  ipNetworks: [${ip}]
  profiles: [kns.shop]
`;

test('ipam check reports the ghost endpoint (12 endpoints, 11 allocations) and --repair removes only it', async () => {
  const p = uniquePrefix();
  const base = `kind: IPPool
apiVersion: tricolor.dev/v1
metadata: { name: default-v4 }
spec: { cidr: 10.244.0.0/16 }
---
kind: Node
apiVersion: tricolor.dev/v1
metadata: { name: node-1 }
spec: {}
`;
  assert.equal((await ctl(etcd.endpoint, p, ['apply', '-f', '-'], base)).code, 0);
  let endpoints = '';
  for (let i = 0; i < 12; i++) {
    const a = await ctl(etcd.endpoint, p, [
      'ipam',
      'assign',
      '--node',
      'node-1',
      '--handle',
      `k8s-pod-network.c${i}`,
      '--attr',
      'namespace=shop',
      '--attr',
      `pod=web-${i}`,
      '-o',
      'json',
    ]);
    assert.equal(a.code, 0, a.stderr);
    endpoints += endpointYaml(i, JSON.parse(a.stdout).ips[0]);
  }
  const applied = await ctl(etcd.endpoint, p, ['apply', '-f', '-'], endpoints);
  assert.equal(applied.code, 0, applied.stderr);
  const clean = await ctl(etcd.endpoint, p, ['ipam', 'check', '--leak-grace', '0']);
  assert.equal(clean.code, 0, clean.stdout);

  // The address of web-11 is freed but its endpoint stays (a DEL that missed the endpoint).
  const rel = await ctl(etcd.endpoint, p, ['ipam', 'release', '--handle', 'k8s-pod-network.c11']);
  assert.equal(rel.code, 0, rel.stderr);
  const freed = rel.stdout.trim();
  const dirty = await ctl(etcd.endpoint, p, ['ipam', 'check', '--leak-grace', '0']);
  assert.equal(dirty.code, 6, dirty.stdout);
  assert.match(dirty.stdout, /11 allocations, .* against 1 nodes and 12 workload endpoints/);
  assert.match(
    dirty.stdout,
    /allocations without endpoint \(leaked\): 0; endpoints without allocation \(ghosts\): 1/,
  );
  assert.match(
    dirty.stdout,
    new RegExp(
      `\\[ghost-endpoint\\] WorkloadEndpoint shop/node--1-k8s-web--11-eth0 .*has no allocation: ${freed.replace(/\./g, '\\.')} is not allocated`,
    ),
  );
  const json = await ctl(etcd.endpoint, p, ['ipam', 'check', '--leak-grace', '0', '-o', 'json']);
  assert.deepEqual(
    JSON.parse(json.stdout).problems.map((x: { kind: string; endpoint?: { name: string } }) => [
      x.kind,
      x.endpoint?.name,
    ]),
    [['ghost-endpoint', 'node--1-k8s-web--11-eth0']],
  );
  // The default grace period (10 minutes) protects endpoints this young.
  assert.equal((await ctl(etcd.endpoint, p, ['ipam', 'check'])).code, 0);

  const repaired = await ctl(etcd.endpoint, p, ['ipam', 'check', '--leak-grace', '0', '--repair']);
  assert.equal(repaired.code, 0, repaired.stdout + repaired.stderr);
  assert.match(repaired.stdout, /repaired: deleted ghost WorkloadEndpoint shop\/node--1-k8s-web--11-eth0/);
  assert.match(repaired.stdout, /IPAM is consistent after repair/);
  const left = await ctl(etcd.endpoint, p, ['get', 'workloadendpoints', '-n', 'shop', '-o', 'json']);
  assert.equal(JSON.parse(left.stdout).items.length, 11, 'the live endpoints stay');
});
