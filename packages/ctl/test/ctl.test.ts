import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EtcdServer, run } from '@tricolor/testkit';
import { ctl, MAIN, uniquePrefix } from './helpers.js';

let etcd: EtcdServer;
before(async () => {
  etcd = await EtcdServer.start();
});
after(async () => {
  await etcd.destroy();
});

const POOLS = `
apiVersion: tricolor.dev/v1
kind: IPPool
metadata:
  name: default-v4
spec:
  cidr: 10.244.0.0/16
  natOutgoing: true
---
apiVersion: tricolor.dev/v1
kind: IPPool
metadata:
  name: v6
spec:
  cidr: fd00:244::/64
---
kind: Node
apiVersion: tricolor.dev/v1
metadata: { name: node-1, labels: { rack: r1 } }
spec: { bgp: { ipv4Address: 192.168.1.1/24 } }
`;

test('apply: a bad field is rejected with the field named, nothing is written', async () => {
  const p = uniquePrefix();
  const bad = `${POOLS}---\nkind: IPPool\napiVersion: tricolor.dev/v1\nmetadata: { name: broken }\nspec: { cidr: 10.9.0.0/16, blockSize: 40 }\n`;
  const r = await ctl(etcd.endpoint, p, ['apply', '-f', '-'], bad);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /document 4 \(IPPool broken\): spec\.blockSize: 40 is above the maximum 32/);
  const list = await ctl(etcd.endpoint, p, ['get', 'ippools', '-o', 'json']);
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(JSON.parse(list.stdout).items, [], 'validation happens before any write');
  const yamlErr = await ctl(etcd.endpoint, p, ['apply', '-f', '-'], 'kind: [unclosed');
  assert.equal(yamlErr.code, 1);
  assert.match(yamlErr.stderr, /document 1/);
  const noFile = await ctl(etcd.endpoint, p, ['apply', '-f', '/nonexistent.yaml']);
  assert.equal(noFile.code, 1);
  assert.match(noFile.stderr, /-f: cannot read \/nonexistent.yaml/);
  const unknownKind = await ctl(
    etcd.endpoint,
    p,
    ['apply', '-f', '-'],
    '{"kind":"Pod","metadata":{"name":"x"}}',
  );
  assert.equal(unknownKind.code, 1);
  assert.match(unknownKind.stderr, /kind: "Pod" is not one of IPPool/);
});

test('apply good pools, get them back in every format, overlapping pool rejected, delete', async () => {
  const p = uniquePrefix();
  const file = join(tmpdir(), `pools-${process.pid}.yaml`);
  writeFileSync(file, POOLS);
  const a = await ctl(etcd.endpoint, p, ['apply', '-f', file]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, 'ippool/default-v4 created\nippool/v6 created\nnode/node-1 created\n');
  const again = await ctl(etcd.endpoint, p, ['apply', '-f', file]);
  assert.match(again.stdout, /ippool\/default-v4 configured/);

  const one = await ctl(etcd.endpoint, p, ['get', 'ippool', 'default-v4', '-o', 'json']);
  assert.equal(one.code, 0, one.stderr);
  const pool = JSON.parse(one.stdout);
  assert.equal(pool.spec.cidr, '10.244.0.0/16');
  assert.equal(pool.spec.blockSize, 26);
  assert.equal(pool.spec.natOutgoing, true);
  const yaml = await ctl(etcd.endpoint, p, ['get', 'IPPool', 'v6', '-o', 'yaml']);
  assert.match(yaml.stdout, /cidr: fd00:244::\/64/);
  const wide = await ctl(etcd.endpoint, p, ['get', 'ippools', '-o', 'wide']);
  assert.match(wide.stdout, /^NAME\s+CIDR\s+BLOCKSIZE\s+NAT\s+IPIPMODE\s+VXLANMODE/);
  assert.match(wide.stdout, /default-v4\s+10\.244\.0\.0\/16\s+26\s+true\s+Never/);
  const nodes = await ctl(etcd.endpoint, p, ['get', 'nodes', '-o', 'wide']);
  assert.match(nodes.stdout, /node-1\s+\(64512\)\s+192\.168\.1\.1\/24/, 'the cluster AS in brackets');

  const overlap = await ctl(
    etcd.endpoint,
    p,
    ['apply', '-f', '-'],
    'kind: IPPool\napiVersion: tricolor.dev/v1\nmetadata: { name: other }\nspec: { cidr: 10.244.128.0/20 }\n',
  );
  assert.equal(overlap.code, 1);
  assert.match(
    overlap.stderr,
    /IPPool "other" spec.cidr: 10.244.128.0\/20 overlaps IPPool "default-v4" \(10.244.0.0\/16\)/,
  );
  const inBatch = await ctl(
    etcd.endpoint,
    p,
    ['apply', '-f', '-'],
    '[{"kind":"IPPool","metadata":{"name":"x1"},"spec":{"cidr":"10.1.0.0/16"}},{"kind":"IPPool","metadata":{"name":"x2"},"spec":{"cidr":"10.1.3.0/24"}}]',
  );
  assert.equal(inBatch.code, 1);
  assert.match(inBatch.stderr, /"x2".*overlaps IPPool "x1"/);
  assert.equal(
    (await ctl(etcd.endpoint, p, ['get', 'ippool', 'x1'])).code,
    3,
    'nothing of the batch was written',
  );

  const missing = await ctl(etcd.endpoint, p, ['get', 'ippool', 'nope']);
  assert.equal(missing.code, 3);
  assert.match(missing.stderr, /ippool\/nope not found/);
  const del = await ctl(etcd.endpoint, p, ['delete', 'ippool', 'v6']);
  assert.equal(del.code, 0, del.stderr);
  assert.equal(del.stdout, 'ippool/v6 deleted\n');
  assert.equal((await ctl(etcd.endpoint, p, ['delete', 'ippool', 'v6'])).code, 3);
  const delFile = await ctl(etcd.endpoint, p, ['delete', '-f', file]);
  assert.equal(delFile.code, 3, 'v6 was already gone');
  assert.match(delFile.stdout, /ippool\/default-v4 deleted/);
});

test('ipam assign / show / release / check / configure with -o json', async () => {
  const p = uniquePrefix();
  assert.equal((await ctl(etcd.endpoint, p, ['apply', '-f', '-'], POOLS)).code, 0);
  const as = await ctl(etcd.endpoint, p, [
    'ipam',
    'assign',
    '--node',
    'node-1',
    '--handle',
    'h1',
    '--num4',
    '2',
    '--num6',
    '1',
    '-o',
    'json',
  ]);
  assert.equal(as.code, 0, as.stderr);
  const { ips } = JSON.parse(as.stdout) as { ips: string[] };
  assert.equal(ips.length, 3);
  assert.match(ips[0]!, /^10\.244\.\d+\.\d+\/32$/);
  assert.match(ips[2]!, /^fd00:244::.*\/128$/);
  const plain = await ctl(etcd.endpoint, p, ['ipam', 'assign', '--node', 'node-1', '--handle', 'h2']);
  assert.match(plain.stdout, /^10\.244\.\d+\.\d+\/32\n$/);

  const show = await ctl(etcd.endpoint, p, ['ipam', 'show', '--show-blocks', '-o', 'json']);
  assert.equal(show.code, 0, show.stderr);
  const u = JSON.parse(show.stdout);
  const v4 = u.pools.find((x: { name: string }) => x.name === 'default-v4');
  assert.equal(v4.allocated, 3);
  assert.equal(v4.blocksClaimed, 1);
  assert.equal(v4.blocksTotal, '1024');
  assert.equal(u.blocks.length, 2);
  assert.deepEqual(
    u.blocks.map((b: { owner: string; used: number; free: number }) => [b.owner, b.used, b.free]),
    [
      ['node-1', 3, 61],
      ['node-1', 1, 63],
    ],
  );
  const showTable = await ctl(etcd.endpoint, p, ['ipam', 'show', '--show-blocks']);
  assert.match(showTable.stdout, /default-v4\s+10\.244\.0\.0\/16\s+1\/1024\s+3\/65536/);
  assert.match(showTable.stdout, /BLOCK\s+POOL\s+OWNER\s+USED\s+FREE/);

  const chk = await ctl(etcd.endpoint, p, ['ipam', 'check', '--leak-grace', '0', '-o', 'json']);
  assert.equal(chk.code, 0, chk.stdout + chk.stderr);
  assert.equal(JSON.parse(chk.stdout).ok, true);

  const rel = await ctl(etcd.endpoint, p, ['ipam', 'release', '--handle', 'h1', '-o', 'json']);
  assert.equal(rel.code, 0, rel.stderr);
  assert.deepEqual(JSON.parse(rel.stdout).released.sort(), [...ips].sort());
  const rel2 = await ctl(etcd.endpoint, p, ['ipam', 'release', '--handle', 'h1', '-o', 'json']);
  assert.deepEqual(JSON.parse(rel2.stdout).released, [], 'a second release is a no-op');
  const relIp = await ctl(etcd.endpoint, p, [
    'ipam',
    'release',
    '--ip',
    plain.stdout.trim().replace('/32', ''),
  ]);
  assert.equal(relIp.stdout, plain.stdout);

  const cfg = await ctl(etcd.endpoint, p, [
    'ipam',
    'configure',
    '--strict-affinity',
    'true',
    '--max-blocks-per-host',
    '4',
    '-o',
    'json',
  ]);
  assert.equal(cfg.code, 0, cfg.stderr);
  assert.deepEqual(JSON.parse(cfg.stdout), {
    strictAffinity: true,
    autoAllocateBlocks: true,
    maxBlocksPerHost: 4,
  });
  const cfgShow = await ctl(etcd.endpoint, p, ['ipam', 'configure']);
  assert.match(cfgShow.stdout, /strictAffinity: true\n.*\nmaxBlocksPerHost: 4/);
  const badCfg = await ctl(etcd.endpoint, p, ['ipam', 'configure', '--strict-affinity', 'maybe']);
  assert.equal(badCfg.code, 1);
  assert.match(badCfg.stderr, /--strict-affinity: "maybe" is not true or false/);

  // A leaked CNI address (no WorkloadEndpoint) makes check fail with exit 6; --repair fixes it.
  await ctl(etcd.endpoint, p, [
    'ipam',
    'assign',
    '--node',
    'node-1',
    '--handle',
    'k8s-pod-network.gone',
    '--attr',
    'namespace=ns',
    '--attr',
    'pod=gone',
  ]);
  const dirty = await ctl(etcd.endpoint, p, ['ipam', 'check', '--leak-grace', '0', '-o', 'json']);
  assert.equal(dirty.code, 6);
  assert.deepEqual(
    JSON.parse(dirty.stdout).problems.map((x: { kind: string }) => x.kind),
    ['leaked-address'],
  );
  const rep = await ctl(etcd.endpoint, p, ['ipam', 'check', '--leak-grace', '0', '--repair', '-o', 'json']);
  assert.equal(rep.code, 0, rep.stdout);
  assert.match(
    JSON.parse(rep.stdout).actions[0],
    /released leaked 10\.244\.\d+\.\d+\/32 \(handle k8s-pod-network\.gone\)/,
  );
  const clean = await ctl(etcd.endpoint, p, ['ipam', 'check', '--leak-grace', '0']);
  assert.equal(clean.code, 0);
  assert.match(clean.stdout, /IPAM is consistent/);
});

test('usage errors name the flag; exhausted pools and an unreachable etcd have their own exit codes', async () => {
  const p = uniquePrefix();
  const noNode = await ctl(etcd.endpoint, p, ['ipam', 'assign', '--handle', 'h']);
  assert.equal(noNode.code, 1);
  assert.match(noNode.stderr, /--node is required/);
  const badNum = await ctl(etcd.endpoint, p, [
    'ipam',
    'assign',
    '--node',
    'n',
    '--handle',
    'h',
    '--num4',
    'two',
  ]);
  assert.equal(badNum.code, 1);
  assert.match(badNum.stderr, /--num4: "two" is not a whole number/);
  const badFlag = await ctl(etcd.endpoint, p, ['ipam', 'show', '--bogus']);
  assert.equal(badFlag.code, 1);
  assert.match(badFlag.stderr, /ipam show: unknown flag --bogus/);
  const noValue = await ctl(etcd.endpoint, p, ['get', 'ippools', '-o']);
  assert.equal(noValue.code, 1);
  assert.match(noValue.stderr, /get: -o, --output: needs a value/);
  const badSub = await ctl(etcd.endpoint, p, ['ipam', 'frobnicate']);
  assert.equal(badSub.code, 1);
  assert.match(badSub.stderr, /unknown subcommand "frobnicate"/);
  const badOut = await ctl(etcd.endpoint, p, ['get', 'ippools', '-o', 'xml']);
  assert.equal(badOut.code, 1);
  assert.match(badOut.stderr, /-o: "xml" is not one of/);

  await ctl(
    etcd.endpoint,
    p,
    ['apply', '-f', '-'],
    '{"kind":"IPPool","metadata":{"name":"tiny"},"spec":{"cidr":"10.77.0.0/30","blockSize":30}}',
  );
  const full = await ctl(etcd.endpoint, p, ['ipam', 'assign', '--node', 'n', '--handle', 'h', '--num4', '5']);
  assert.equal(full.code, 5);
  assert.match(full.stderr, /no free address in pools 10\.77\.0\.0\/30: 1 of 1 blocks claimed/);

  const down = await run(
    process.execPath,
    [MAIN, '--etcd-endpoints', 'http://127.0.0.1:9', 'get', 'ippools'],
    {
      allowFail: true,
    },
  );
  assert.equal(down.code, 2);
  assert.match(down.stderr, /cannot reach etcd at http:\/\/127\.0\.0\.1:9/);
  const badEnv = await run(process.execPath, [MAIN, 'get', 'ippools'], {
    allowFail: true,
    env: { ...process.env, ETCD_ENDPOINTS: 'not a url' },
  });
  assert.equal(badEnv.code, 1);
  assert.match(badEnv.stderr, /ETCD_ENDPOINTS/);
});
