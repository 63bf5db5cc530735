// The calicoctl verbs on the compiled binary against a real etcd: get with short names and
// every output format, -n/-A, create/replace/patch/label/delete, version.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EtcdServer, run } from '@tricolor/testkit';
import { parse as parseYaml } from 'yaml';
import { ctl, MAIN, uniquePrefix } from './helpers.js';

let etcd: EtcdServer;
before(async () => {
  etcd = await EtcdServer.start();
});
after(async () => {
  await etcd.destroy();
});

const wep = (ns: string, name: string, ip: string, node = 'node-1') => ({
  kind: 'WorkloadEndpoint',
  apiVersion: 'tricolor.dev/v1',
  metadata: { name, namespace: ns },
  spec: {
    node,
    orchestrator: 'k8s',
    workload: `${ns}/${name}`,
    endpoint: 'eth0',
    interfaceName: `cali${name.padEnd(11, '0').slice(0, 11)}`,
    ipNetworks: [`${ip}/32`],
    profiles: [`kns.${ns}`],
  },
});

/** One resource of every kind, by the short name calicoctl users type. */
const SAMPLES: Record<string, unknown> = {
  ippool: { kind: 'IPPool', metadata: { name: 'pool-a' }, spec: { cidr: '10.50.0.0/16' } },
  node: { kind: 'Node', metadata: { name: 'node-1' }, spec: { bgp: { ipv4Address: '192.168.9.1/24' } } },
  bgpconfig: { kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { asNumber: 64600 } },
  bgppeer: { kind: 'BGPPeer', metadata: { name: 'tor' }, spec: { peerIP: '192.168.9.254', asNumber: 65000 } },
  felixconfig: { kind: 'FelixConfiguration', metadata: { name: 'default' }, spec: { mtu: 1400 } },
  wep: wep('default', 'web-1', '10.50.0.5'),
  np: {
    kind: 'NetworkPolicy',
    metadata: { name: 'allow-web', namespace: 'default' },
    spec: { selector: "app == 'web'", ingress: [{ action: 'Allow' }] },
  },
  gnp: {
    kind: 'GlobalNetworkPolicy',
    metadata: { name: 'deny-all' },
    spec: { selector: 'all()', order: 1000 },
  },
  profile: { kind: 'Profile', metadata: { name: 'kns.default' }, spec: { labelsToApply: { team: 'a' } } },
};

test('get: every short name, every output format (table, wide adds columns, json, yaml)', async () => {
  const p = uniquePrefix();
  const a = await ctl(etcd.endpoint, p, ['apply', '-f', '-'], JSON.stringify(Object.values(SAMPLES)));
  assert.equal(a.code, 0, a.stderr);
  for (const [short, sample] of Object.entries(SAMPLES)) {
    const name = (sample as { metadata: { name: string } }).metadata.name;
    const kind = (sample as { kind: string }).kind;
    const tableOut = await ctl(etcd.endpoint, p, ['get', short]);
    assert.equal(tableOut.code, 0, `${short}: ${tableOut.stderr}`);
    const wide = await ctl(etcd.endpoint, p, ['get', short, '-o', 'wide']);
    assert.equal(wide.code, 0, wide.stderr);
    assert.match(
      wide.stdout,
      new RegExp(`^NAME\\b.*\\n${name.replace('.', '\\.')}\\b`),
      `${short} wide names it`,
    );
    const headerCells = (t: string) => t.split('\n')[0]!.split(/\s{2,}/).length;
    assert.ok(
      headerCells(wide.stdout) >= headerCells(tableOut.stdout),
      `${short}: wide has at least the columns`,
    );
    const json = await ctl(etcd.endpoint, p, ['get', short, '-o', 'json']);
    const list = JSON.parse(json.stdout) as {
      kind: string;
      items: { kind: string; metadata: { name: string } }[];
    };
    assert.equal(list.kind, 'List');
    assert.deepEqual(
      list.items.map((i) => [i.kind, i.metadata.name]),
      [[kind, name]],
    );
    const one = await ctl(etcd.endpoint, p, ['get', short, name, '-o', 'yaml']);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(
      (parseYaml(one.stdout) as { kind: string }).kind,
      kind,
      `${short} ${name} -o yaml is the resource`,
    );
  }
  const wideWep = await ctl(etcd.endpoint, p, ['get', 'wep', '-o', 'wide']);
  assert.match(wideWep.stdout, /^NAME\s+WORKLOAD\s+NODE\s+NETWORKS\s+INTERFACE\s+PROFILES/);
  assert.match(
    wideWep.stdout,
    /web-1\s+default\/web-1\s+node-1\s+10\.50\.0\.5\/32\s+caliweb-1000000\s+kns\.default/,
  );
  const peers = await ctl(etcd.endpoint, p, ['get', 'bgppeers']);
  assert.match(peers.stdout, /^NAME\s+PEERIP\s+NODE\s+ASN\ntor\s+192\.168\.9\.254\s+\(global\)\s+65000\n$/);
  const wideNode = await ctl(etcd.endpoint, p, ['get', 'no', '-o', 'wide']);
  assert.match(
    wideNode.stdout,
    /node-1\s+\(64600\)\s+192\.168\.9\.1\/24/,
    'ASN from BGPConfiguration default',
  );
  const gnp = await ctl(etcd.endpoint, p, ['get', 'gnp', '-o', 'wide']);
  assert.match(gnp.stdout, /deny-all\s+1000\s+all\(\)/);
});

test('get/delete: -n NAMESPACE, -A, the default namespace, and namespaces on cluster-scoped kinds', async () => {
  const p = uniquePrefix();
  const docs = [wep('default', 'a', '10.1.0.1'), wep('prod', 'b', '10.1.0.2'), wep('prod', 'c', '10.1.0.3')];
  assert.equal((await ctl(etcd.endpoint, p, ['apply', '-f', '-'], JSON.stringify(docs))).code, 0);
  const dflt = await ctl(etcd.endpoint, p, ['get', 'wep']);
  assert.match(dflt.stdout, /^WORKLOAD\s+NODE\s+NETWORKS\s+INTERFACE\ndefault\/a\s/);
  assert.equal(dflt.stdout.split('\n').length, 3, 'only the default namespace');
  const prod = await ctl(etcd.endpoint, p, ['get', 'weps', '-n', 'prod', '-o', 'json']);
  assert.deepEqual(
    JSON.parse(prod.stdout).items.map((i: { metadata: { name: string } }) => i.metadata.name),
    ['b', 'c'],
  );
  const all = await ctl(etcd.endpoint, p, ['get', 'wep', '-A', '-o', 'wide']);
  assert.match(all.stdout, /^NAMESPACE\s+NAME\s+WORKLOAD/);
  assert.match(all.stdout, /\ndefault\s+a\s+default\/a\s/);
  assert.match(all.stdout, /\nprod\s+c\s+prod\/c\s/);
  const byName = await ctl(etcd.endpoint, p, ['get', 'wep', 'b', '-n', 'prod', '-o', 'json']);
  assert.equal(JSON.parse(byName.stdout).metadata.name, 'b');
  const none = await ctl(etcd.endpoint, p, ['get', 'wep', '-n', 'empty']);
  assert.equal(none.code, 0);
  assert.match(none.stderr, /no workloadendpoints found in namespace empty/);

  const nameAll = await ctl(etcd.endpoint, p, ['get', 'wep', 'b', '-A']);
  assert.equal(nameAll.code, 1);
  assert.match(nameAll.stderr, /-A needs a list, not names/);
  const both = await ctl(etcd.endpoint, p, ['get', 'wep', '-A', '-n', 'prod']);
  assert.equal(both.code, 1);
  assert.match(both.stderr, /give -n NAMESPACE or -A, not both/);
  const clusterNs = await ctl(etcd.endpoint, p, ['get', 'ippool', '-n', 'prod']);
  assert.equal(clusterNs.code, 1);
  assert.match(clusterNs.stderr, /-n: IPPool is not namespaced/);
  const poolsAll = await ctl(etcd.endpoint, p, ['get', 'ippool', '-A']);
  assert.equal(poolsAll.code, 0, '-A means nothing for a cluster-scoped kind (as kubectl)');

  const del = await ctl(etcd.endpoint, p, ['delete', 'wep', 'b', 'c', '-n', 'prod']);
  assert.equal(del.stdout, 'workloadendpoint/prod/b deleted\nworkloadendpoint/prod/c deleted\n');
  const again = await ctl(etcd.endpoint, p, ['delete', 'wep', 'b', '-n', 'prod']);
  assert.equal(again.code, 3);
  assert.match(again.stderr, /workloadendpoint\/prod\/b not found/);
  assert.equal(
    (await ctl(etcd.endpoint, p, ['delete', 'wep', 'b', '-n', 'prod', '--skip-not-exists'])).code,
    0,
  );
});

test('create fails on an existing resource and replace on a missing one, both before writing anything', async () => {
  const p = uniquePrefix();
  const pool = (name: string, cidr: string, extra = '') =>
    `kind: IPPool\napiVersion: tricolor.dev/v1\nmetadata: { name: ${name} }\nspec: { cidr: ${cidr}${extra} }\n`;
  assert.equal((await ctl(etcd.endpoint, p, ['create', '-f', '-'], pool('a', '10.60.0.0/16'))).code, 0);
  const batch = `${pool('b', '10.61.0.0/16')}---\n${pool('a', '10.60.0.0/16')}`;
  const dup = await ctl(etcd.endpoint, p, ['create', '-f', '-'], batch);
  assert.equal(dup.code, 4, dup.stderr);
  assert.match(dup.stderr, /ippool\/a already exists\n\(nothing was written/);
  assert.equal((await ctl(etcd.endpoint, p, ['get', 'ippool', 'b'])).code, 3, 'b was not created either');
  const skip = await ctl(etcd.endpoint, p, ['create', '--skip-exists', '-f', '-'], batch);
  assert.equal(skip.code, 0, skip.stderr);
  assert.equal(skip.stdout, 'ippool/b created\nippool/a skipped (exists)\n');

  const before = JSON.parse((await ctl(etcd.endpoint, p, ['get', 'ippool', 'a', '-o', 'json'])).stdout);
  const rep = await ctl(
    etcd.endpoint,
    p,
    ['replace', '-f', '-'],
    pool('a', '10.60.0.0/16', ', disabled: true'),
  );
  assert.equal(rep.code, 0, rep.stderr);
  assert.equal(rep.stdout, 'ippool/a replaced\n');
  const after = JSON.parse((await ctl(etcd.endpoint, p, ['get', 'ippool', 'a', '-o', 'json'])).stdout);
  assert.equal(after.spec.disabled, true);
  assert.equal(
    after.metadata.creationTimestamp,
    before.metadata.creationTimestamp,
    'replace keeps the creation time',
  );
  const missing = await ctl(
    etcd.endpoint,
    p,
    ['replace', '-f', '-'],
    `${pool('a', '10.60.0.0/16')}---\n${pool('zz', '10.62.0.0/16')}`,
  );
  assert.equal(missing.code, 3);
  assert.match(missing.stderr, /ippool\/zz not found\n\(nothing was written/);
  assert.equal(
    JSON.parse((await ctl(etcd.endpoint, p, ['get', 'ippool', 'a', '-o', 'json'])).stdout).spec.disabled,
    true,
    'a was not replaced either',
  );
  // A resourceVersion in the file is compare-and-swap against it.
  const stale = await ctl(
    etcd.endpoint,
    p,
    ['replace', '-f', '-'],
    JSON.stringify({ ...before, spec: { ...before.spec, natOutgoing: true } }),
  );
  assert.equal(stale.code, 4, stale.stderr);
  const dry = await ctl(etcd.endpoint, p, ['apply', '--dry-run', '-f', '-'], pool('c', '10.63.0.0/16'));
  assert.equal(dry.stdout, 'ippool/c created (dry run)\n');
  assert.equal((await ctl(etcd.endpoint, p, ['get', 'ippool', 'c'])).code, 3, 'a dry run writes nothing');
  const noFile = await ctl(etcd.endpoint, p, ['create']);
  assert.equal(noFile.code, 1);
  assert.match(noFile.stderr, /create: -f <file\|-> is required/);
});

test('patch: a JSON merge patch, re-validated, compare-and-swap; identity fields fixed', async () => {
  const p = uniquePrefix();
  await ctl(
    etcd.endpoint,
    p,
    ['apply', '-f', '-'],
    JSON.stringify([
      {
        kind: 'IPPool',
        metadata: { name: 'a', labels: { x: '1' } },
        spec: { cidr: '10.70.0.0/16', natOutgoing: true },
      },
      wep('prod', 'w', '10.70.0.9'),
    ]),
  );
  const ok = await ctl(etcd.endpoint, p, [
    'patch',
    'ippool',
    'a',
    '-p',
    '{"spec":{"disabled":true,"natOutgoing":null}}',
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, 'ippool/a patched\n');
  const got = JSON.parse((await ctl(etcd.endpoint, p, ['get', 'ipp', 'a', '-o', 'json'])).stdout);
  assert.equal(got.spec.disabled, true);
  assert.equal(got.spec.natOutgoing, false, 'null removes the field: its default comes back');
  assert.deepEqual(got.metadata.labels, { x: '1' }, 'what the patch does not name is kept');
  const same = await ctl(etcd.endpoint, p, ['patch', 'ippool', 'a', '-p', 'spec: {disabled: true}']);
  assert.equal(same.stdout, 'ippool/a patched (no change)\n', 'YAML is accepted too');

  const bad = await ctl(etcd.endpoint, p, ['patch', 'ippool', 'a', '-p', '{"spec":{"blockSize":40}}']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /ippool\/a: spec\.blockSize: 40 is above the maximum 32/);
  assert.equal(
    JSON.parse((await ctl(etcd.endpoint, p, ['get', 'ipp', 'a', '-o', 'json'])).stdout).spec.blockSize,
    26,
    'nothing written',
  );
  const rename = await ctl(etcd.endpoint, p, ['patch', 'ippool', 'a', '-p', '{"metadata":{"name":"b"}}']);
  assert.equal(rename.code, 1);
  assert.match(rename.stderr, /-p: metadata\.name: a patch cannot change it/);
  const stale = await ctl(etcd.endpoint, p, [
    'patch',
    'ippool',
    'a',
    '-p',
    '{"metadata":{"resourceVersion":"1"},"spec":{"disabled":false}}',
  ]);
  assert.equal(stale.code, 4, 'an explicit resourceVersion is compare-and-swap');
  const nsPatch = await ctl(etcd.endpoint, p, [
    'patch',
    'wep',
    'w',
    '-n',
    'prod',
    '-p',
    '{"metadata":{"labels":{"app":"db"}}}',
  ]);
  assert.equal(nsPatch.stdout, 'workloadendpoint/prod/w patched\n');
  const missing = await ctl(etcd.endpoint, p, ['patch', 'ippool', 'nope', '-p', '{}']);
  assert.equal(missing.code, 3);
  const notObject = await ctl(etcd.endpoint, p, ['patch', 'ippool', 'a', '-p', '[1]']);
  assert.match(notObject.stderr, /-p: a merge patch is an object/);
  const notJson = await ctl(etcd.endpoint, p, ['patch', 'ippool', 'a', '-p', '{"spec":']);
  assert.match(notJson.stderr, /-p: not JSON or YAML/);
  const jsonPatch = await ctl(etcd.endpoint, p, ['patch', 'ippool', 'a', '--type', 'json', '-p', '[]']);
  assert.match(jsonPatch.stderr, /--type: "json" is not supported/);
});

test('label: kubectl semantics (--overwrite, key-), and namespaces label their Profile kns.<ns>', async () => {
  const p = uniquePrefix();
  await ctl(
    etcd.endpoint,
    p,
    ['apply', '-f', '-'],
    JSON.stringify([
      { kind: 'Node', metadata: { name: 'n1', labels: { rack: 'r1' } }, spec: {} },
      wep('prod', 'w', '10.80.0.1'),
    ]),
  );
  const labels = async (args: string[]) =>
    JSON.parse((await ctl(etcd.endpoint, p, ['get', ...args, '-o', 'json'])).stdout).metadata.labels ?? {};
  const add = await ctl(etcd.endpoint, p, ['label', 'node', 'n1', 'zone=z1', 'tier=edge']);
  assert.equal(add.stdout, 'node/n1 labeled\n');
  assert.deepEqual(await labels(['node', 'n1']), { rack: 'r1', zone: 'z1', tier: 'edge' });
  const clash = await ctl(etcd.endpoint, p, ['label', 'node', 'n1', 'rack=r2']);
  assert.equal(clash.code, 1);
  assert.match(clash.stderr, /'rack' already has a value \(r1\), and --overwrite is false/);
  const over = await ctl(etcd.endpoint, p, ['label', 'node', 'n1', 'rack=r2', '--overwrite']);
  assert.equal(over.stdout, 'node/n1 labeled\n');
  const rm = await ctl(etcd.endpoint, p, ['label', 'node', 'n1', 'tier-', '--remove', 'zone']);
  assert.equal(rm.stdout, 'node/n1 unlabeled\n');
  assert.deepEqual(await labels(['node', 'n1']), { rack: 'r2' });
  const absent = await ctl(etcd.endpoint, p, ['label', 'node', 'n1', 'tier-']);
  assert.equal(absent.code, 0);
  assert.equal(absent.stdout, 'node/n1 not labeled\n');
  assert.match(absent.stderr, /label "tier" not found/);
  const nsd = await ctl(etcd.endpoint, p, ['label', 'wep', 'w', '-n', 'prod', 'app=db']);
  assert.equal(nsd.stdout, 'workloadendpoint/prod/w labeled\n');
  const badKey = await ctl(etcd.endpoint, p, ['label', 'node', 'n1', 'x']);
  assert.match(badKey.stderr, /"x" is neither key=value nor key-/);

  // The namespace as selectors see it: its profile, made as Calico's (allow in and out).
  const ns = await ctl(etcd.endpoint, p, ['label', 'namespace', 'prod', 'team=payments']);
  assert.equal(ns.code, 0, ns.stderr);
  assert.equal(ns.stdout, 'namespace/prod (profile/kns.prod) labeled\n');
  const prof = JSON.parse((await ctl(etcd.endpoint, p, ['get', 'profile', 'kns.prod', '-o', 'json'])).stdout);
  assert.deepEqual(prof.spec.labelsToApply, { team: 'payments' });
  assert.deepEqual(
    [
      prof.spec.ingress.map((r: { action: string }) => r.action),
      prof.spec.egress.map((r: { action: string }) => r.action),
    ],
    [['Allow'], ['Allow']],
  );
  const ns2 = await ctl(etcd.endpoint, p, ['label', 'ns', 'prod', 'team=core']);
  assert.equal(ns2.code, 1, 'a namespace label clash needs --overwrite as well');
  await ctl(etcd.endpoint, p, ['label', 'ns', 'prod', 'team=core', 'env=prod', '--overwrite']);
  const prof2 = JSON.parse((await ctl(etcd.endpoint, p, ['get', 'pro', 'kns.prod', '-o', 'json'])).stdout);
  assert.deepEqual(prof2.spec.labelsToApply, { team: 'core', env: 'prod' });
  assert.equal(prof2.spec.ingress.length, 1, 'rules untouched');
});

test('version: client version always; cluster facts when etcd answers; exit 0 either way', async () => {
  const p = uniquePrefix();
  await ctl(etcd.endpoint, p, ['apply', '-f', '-'], JSON.stringify(SAMPLES.node));
  const v = await ctl(etcd.endpoint, p, ['version']);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /^Client Version:\s+0\.1\.0\n/);
  assert.match(v.stdout, /Cluster Type:\s+etcd 3\.\d+\.\d+/);
  assert.match(v.stdout, /Nodes:\s+1 \(felix ready on 0, bird ready on 0\)/);
  const j = JSON.parse((await ctl(etcd.endpoint, p, ['version', '-o', 'json'])).stdout);
  assert.equal(j.client.nodejs, process.version);
  assert.deepEqual(j.cluster.etcd.endpoints, [etcd.endpoint]);
  assert.equal(j.cluster.etcd.prefix, p);
  const down = await run(process.execPath, [MAIN, 'version', '--etcd-endpoints', 'http://127.0.0.1:9'], {
    allowFail: true,
  });
  assert.equal(down.code, 0);
  assert.match(
    down.stdout,
    /Client Version:\s+0\.1\.0\nCluster:\s+not reachable \(cannot reach etcd at http:\/\/127\.0\.0\.1:9/,
  );
  const client = await run(process.execPath, [MAIN, 'version', '--client', '-o', 'yaml'], {
    allowFail: true,
  });
  assert.equal(client.code, 0);
  assert.deepEqual(parseYaml(client.stdout), { client: { version: '0.1.0', nodejs: process.version } });
});

test('help: per command, per group; unknown commands and subcommands are named', async () => {
  const p = uniquePrefix();
  const h = await ctl(etcd.endpoint, p, ['--help']);
  assert.equal(h.code, 0);
  for (const verb of [
    'get',
    'apply',
    'create',
    'replace',
    'delete',
    'patch',
    'label',
    'node status',
    'ipam show',
    'version',
  ])
    assert.match(h.stdout, new RegExp(`tricolorctl ${verb} `), verb);
  const g = await ctl(etcd.endpoint, p, ['ipam', '--help']);
  assert.match(g.stdout, /tricolorctl ipam show/);
  const c = await ctl(etcd.endpoint, p, ['patch', '-h']);
  assert.match(c.stdout, /^tricolorctl patch <kind> <name> -p/);
  const u = await ctl(etcd.endpoint, p, ['frobnicate']);
  assert.equal(u.code, 1);
  assert.match(u.stderr, /unknown command "frobnicate"/);
  const n = await ctl(etcd.endpoint, p, ['node', 'reboot']);
  assert.equal(n.code, 1);
  assert.match(n.stderr, /node: unknown subcommand "reboot"; one of:\n {2}node status/);
});
