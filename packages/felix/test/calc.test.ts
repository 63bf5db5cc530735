import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KernelRoute } from '@tricolor/linux';
import { vtepMac } from '../src/calc/vxlan.js';
import { routeKey } from '../src/dataplane/items.js';
import { RouteDriver } from '../src/dataplane/routes.js';
import { ipipCommands, vxlanCommands } from '../src/dataplane/tunnels.js';
import { FakeKernel } from './fake-kernel.js';
import { desiredOf, GraphHarness, normalized } from './graph-harness.js';
import { node, pool, settings, wep } from './helpers.js';
import { computeDesiredState } from './oracle.js';

const base = () => ({
  nodeName: 'n1',
  settings: settings(),
  endpoints: [
    wep('a', 'n1', 'cali1111111111a', '10.244.1.5/32', 'EE:EE:EE:EE:EE:01'),
    wep('b', 'n1', 'cali2222222222b', '10.244.1.6/32'),
    wep('c', 'n2', 'cali3333333333c', '10.244.2.7/32'),
  ],
  pools: [pool('p', '10.244.0.0/16', { natOutgoing: true })],
  affinities: [
    { node: 'n1', block: '10.244.1.0/26', state: 'confirmed' },
    { node: 'n1', block: '10.244.9.0/26', state: 'pending' },
    { node: 'n2', block: '10.244.2.0/26', state: 'confirmed' },
  ],
  nodes: [node('n1', '192.168.1.1/24'), node('n2', '192.168.1.2/24', { vxlanTunnelAddress: '10.244.2.0' })],
});

test('local endpoints become /32 routes, static neighbors and interface sysctls; others are ignored', () => {
  const d = desiredOf(base());
  assert.deepEqual(d.routes.get('4|10.244.1.5/32'), {
    family: 4,
    dst: '10.244.1.5/32',
    type: 'unicast',
    dev: 'cali1111111111a',
    scope: 'link',
  });
  assert.ok(d.routes.has('4|10.244.1.6/32'));
  assert.ok(!d.routes.has('4|10.244.2.7/32'), "another node's endpoint is not routed here");
  assert.deepEqual(
    [...d.neighbors.values()],
    [{ ip: '10.244.1.5', mac: 'ee:ee:ee:ee:ee:01', dev: 'cali1111111111a' }],
  );
  for (const k of [
    'conf/cali1111111111a/proxy_arp',
    'conf/cali1111111111a/forwarding',
    'conf/cali1111111111a/route_localnet',
  ])
    assert.equal(d.sysctls.get(`net/ipv4/${k}`), '1', k);
  assert.equal(d.sysctls.get('net/ipv4/neigh/cali1111111111a/proxy_delay'), '0');
  assert.equal(d.sysctls.get('net/ipv4/ip_forward'), '1');
  assert.equal(
    d.sysctls.has('net/ipv6/conf/cali1111111111a/proxy_ndp'),
    false,
    'no IPv6 sysctls for an IPv4-only pod',
  );
  assert.equal(d.localEndpoints, 2);
  assert.deepEqual(d.interfaces, ['cali1111111111a', 'cali2222222222b']);
});

test('IPv6 endpoints get proxy_ndp, forwarding and accept_ra=0', () => {
  const inp = base();
  inp.endpoints = [wep('v6', 'n1', 'cali6666666666f', 'fd00:1::5/128')];
  const d = desiredOf(inp);
  assert.ok(d.routes.has('6|fd00:1::5/128'));
  assert.equal(d.sysctls.get('net/ipv6/conf/cali6666666666f/proxy_ndp'), '1');
  assert.equal(d.sysctls.get('net/ipv6/conf/cali6666666666f/accept_ra'), '0');
  assert.equal(d.sysctls.get('net/ipv6/conf/cali6666666666f/forwarding'), '1');
});

test('only confirmed blocks of this node become blackholes', () => {
  const d = desiredOf(base());
  assert.deepEqual(d.ownedBlocks, ['10.244.1.0/26']);
  assert.deepEqual(d.routes.get('4|10.244.1.0/26'), { family: 4, dst: '10.244.1.0/26', type: 'blackhole' });
  assert.ok(!d.routes.has('4|10.244.9.0/26'), 'pending affinity is not ours yet');
  assert.ok(!d.routes.has('4|10.244.2.0/26'), "no VXLAN: other blocks are bird's business");
  assert.equal(d.vxlan, undefined);
});

test("VXLAN mode: device, FDB, neighbor and onlink routes to other nodes' blocks", () => {
  const inp = base();
  inp.pools = [pool('p', '10.244.0.0/16', { vxlanMode: 'Always' })];
  const d = desiredOf(inp);
  assert.ok(d.vxlan);
  assert.equal(d.vxlan.device.name, 'vxlan.tricolor');
  assert.equal(d.vxlan.device.vni, 4096);
  assert.equal(d.vxlan.device.port, 4789);
  assert.equal(d.vxlan.device.localIP, '192.168.1.1');
  assert.deepEqual(d.vxlan.fdb, [{ mac: vtepMac('n2'), dst: '192.168.1.2' }]);
  assert.deepEqual(d.neighbors.get('vxlan.tricolor|10.244.2.0'), {
    ip: '10.244.2.0',
    mac: vtepMac('n2'),
    dev: 'vxlan.tricolor',
  });
  assert.deepEqual(d.routes.get('4|10.244.2.0/26'), {
    family: 4,
    dst: '10.244.2.0/26',
    type: 'unicast',
    dev: 'vxlan.tricolor',
    via: '10.244.2.0',
    onlink: true,
  });
  // CrossSubnet: n2 shares our /24, so no tunnel route for it.
  inp.pools = [pool('p', '10.244.0.0/16', { vxlanMode: 'CrossSubnet' })];
  const cs = desiredOf(inp);
  assert.ok(!cs.routes.has('4|10.244.2.0/26'));
  assert.deepEqual(cs.vxlan?.fdb, []);
  assert.match(vtepMac('n2'), /^66(:[0-9a-f]{2}){5}$/);
});

test("IPIP pools ask for tunl0 with the node's IPIP address; the command plan is what the kernel needs", () => {
  const inp = base();
  inp.pools = [pool('p', '10.244.0.0/16', { ipipMode: 'Always' })];
  inp.nodes = [node('n1', '192.168.1.1/24', { ipv4IPIPTunnelAddr: '10.244.1.1' })];
  const d = desiredOf(inp);
  assert.deepEqual(d.ipip, { device: 'tunl0', address: '10.244.1.1' });
  assert.deepEqual(ipipCommands(undefined, d.ipip!, { mtu: 1500 }), [
    ['link', 'add', 'name', 'tunl0', 'type', 'ipip'],
    ['link', 'set', 'tunl0', 'mtu', '1480'],
    ['link', 'set', 'tunl0', 'up'],
    ['addr', 'replace', '10.244.1.1/32', 'dev', 'tunl0'],
  ]);
  const cur = { name: 'tunl0', kind: 'ipip', mtu: 1480, up: true, addresses: ['10.244.1.1/32'] };
  assert.deepEqual(ipipCommands(cur, d.ipip!, { mtu: 1500 }), [], 'converged: nothing to do');
  assert.deepEqual(ipipCommands({ ...cur, addresses: ['10.9.9.9/32'] }, d.ipip!, { mtu: 1500 }), [
    ['addr', 'del', '10.9.9.9/32', 'dev', 'tunl0'],
    ['addr', 'replace', '10.244.1.1/32', 'dev', 'tunl0'],
  ]);
});

test('VXLAN device plan: MTU is underlay minus 50; a wrong VNI recreates the device', () => {
  const want = {
    name: 'vxlan.tricolor',
    vni: 4096,
    port: 4789,
    localIP: '192.168.1.1',
    address: '10.244.1.0',
    mac: '66:00:00:00:00:01',
  };
  const plan = vxlanCommands(undefined, want, { name: 'eth0', mtu: 1500 });
  assert.deepEqual(plan[0], [
    'link',
    'add',
    'vxlan.tricolor',
    'address',
    '66:00:00:00:00:01',
    'type',
    'vxlan',
    'id',
    '4096',
    'local',
    '192.168.1.1',
    'dstport',
    '4789',
    'nolearning',
    'dev',
    'eth0',
  ]);
  assert.deepEqual(plan[1], ['link', 'set', 'vxlan.tricolor', 'mtu', '1450']);
  const wrong = {
    name: 'vxlan.tricolor',
    kind: 'vxlan',
    vni: 1,
    port: 4789,
    local: '192.168.1.1',
    mtu: 1450,
    up: true,
    mac: want.mac,
    addresses: [],
  };
  assert.deepEqual(vxlanCommands(wrong, want, { name: 'eth0', mtu: 1500 })[0], [
    'link',
    'del',
    'vxlan.tricolor',
  ]);
});

test('route diff: replaces ours, deletes stale ours, never touches operator routes', async () => {
  const h = new GraphHarness('n1', settings());
  h.sync(base());
  const kernel: KernelRoute[] = [
    {
      family: 4,
      dst: '10.244.1.5/32',
      type: 'unicast',
      dev: 'cali1111111111a',
      scope: 'link',
      protocol: '80',
    },
    {
      family: 4,
      dst: '10.244.1.99/32',
      type: 'unicast',
      dev: 'cali9999999999z',
      scope: 'link',
      protocol: 'boot',
    },
    { family: 4, dst: '10.244.7.0/26', type: 'blackhole', protocol: '80' },
    { family: 4, dst: '10.244.1.0/26', type: 'unicast', via: '192.168.1.9', dev: 'eth0', protocol: 'static' },
    { family: 4, dst: '172.16.0.0/12', type: 'unicast', via: '192.168.1.254', dev: 'eth0', protocol: 'boot' },
  ];
  const k = new FakeKernel();
  for (const dev of ['cali1111111111a', 'cali2222222222b', 'cali9999999999z']) k.addDevice(dev);
  for (const r of kernel) k.routes.set(routeKey(r), r);
  const driver = new RouteDriver(h.state.routes, k, 'cali');
  const rep = await driver.apply();
  assert.deepEqual(k.log.map((l) => l.replace(/^ip /, '')).sort(), [
    'route del 10.244.1.99/32 dev cali9999999999z',
    'route del blackhole 10.244.7.0/26',
    'route replace 10.244.1.6/32 dev cali2222222222b scope link proto 80',
  ]);
  assert.deepEqual(rep.conflicts, ['10.244.1.0/26'], 'an operator route for our block is left alone');
  assert.ok(k.routes.has('4|172.16.0.0/12') && k.routes.get('4|10.244.1.0/26')?.protocol === 'static');
  // A route whose device is missing waits (stays pending) and goes in once the device is there.
  const w = new GraphHarness('n1', settings());
  w.sync(base());
  const k2 = new FakeKernel();
  k2.addDevice('cali1111111111a');
  const d2 = new RouteDriver(w.state.routes, k2, 'cali');
  await d2.apply();
  assert.deepEqual(
    w.state.routes.pendingSets().map(([, r]) => r.dst),
    ['10.244.1.6/32'],
  );
  k2.addDevice('cali2222222222b');
  await d2.apply();
  assert.equal(w.state.routes.pendingCount, 0);
  assert.ok(k2.routes.has('4|10.244.1.6/32'));
});

test('the graph fed one change at a time wants what the oracle computes, through adds, deletes, changes and duplicates', () => {
  const iface = (i: number) => `cali${(i * 7919).toString(16).padStart(11, '0')}`;
  const eps = Array.from({ length: 300 }, (_, i) =>
    wep(`p${i}`, i % 7 ? 'n1' : 'n2', iface(i), `10.1.${i >> 8}.${i & 255}/32`, 'ee:ee:ee:00:00:01'),
  );
  // Two endpoints claiming one interface and one address: the first by name must win either way.
  eps.push(wep('p0-dup', 'n1', iface(1), '10.1.0.1/32'));
  const inputs = { ...base(), endpoints: eps };
  const h = new GraphHarness('n1', settings());
  for (let k = 0; k < 60; k++) {
    const at = (k * 37) % eps.length;
    if (k % 3 === 0) eps.splice(at, 1);
    else if (k % 3 === 1) eps.push(wep(`q${k}`, 'n1', iface(1000 + k), `10.2.0.${k}/32`));
    else eps[at] = { ...eps[at]!, spec: { ...eps[at]!.spec, ipNetworks: [`10.3.0.${k}/32`] } };
    h.sync(inputs);
    assert.deepEqual(h.view(), computeDesiredState(inputs), `step ${k}`);
  }
  // Unchanged endpoints keep the same chain objects (what lets the driver skip rendering them).
  const local = eps.find((e) => e.spec.node === 'n1')!;
  const fw = () => h.state.iptables[4].filter.chains.desired.get(`tri-fw-${local.spec.interfaceName}`);
  const a = fw();
  eps.push(wep('late', 'n1', iface(5000), '10.9.0.1/32'));
  h.sync(inputs);
  assert.ok(a && a === fw());
});

test('IPv6 tables: with an IPv6 pool (auto) or when forced; IPv6 nat-outgoing uses the IPv6 pool sets', () => {
  const v6pool = pool('p6', 'fd00:10::/64', { natOutgoing: true, blockSize: 122 });
  const v4only = desiredOf(base());
  assert.equal(v4only.ip6tables, undefined, 'auto without an IPv6 pool: no IPv6 tables');
  assert.deepEqual(
    v4only.ipsets.map((s) => s.name),
    ['tri-masq-ipam-pools', 'tri-all-ipam-pools'],
  );
  const dual = desiredOf({ ...base(), pools: [...base().pools, v6pool] });
  assert.ok(dual.ip6tables);
  assert.deepEqual(dual.ip6tables.nat.chains.get('tri-nat-outgoing')!.rules, [
    {
      match: '-m set --match-set tri-masq-ipam-pools-v6 src -m set ! --match-set tri-all-ipam-pools-v6 dst',
      action: '-j MASQUERADE',
    },
  ]);
  // The same endpoint chains and dispatch in both families.
  for (const name of dual.iptables.filter.chains.keys())
    assert.deepEqual(
      dual.ip6tables.filter.chains.get(name)?.rules,
      dual.iptables.filter.chains.get(name)!.rules,
      name,
    );
  const sets = new Map(dual.ipsets.map((s) => [s.name, s]));
  assert.deepEqual(sets.get('tri-all-ipam-pools-v6'), {
    name: 'tri-all-ipam-pools-v6',
    type: 'hash:net',
    family: 'inet6',
    members: ['fd00:10::/64'],
  });
  assert.deepEqual(
    sets.get('tri-all-ipam-pools')!.members,
    ['10.244.0.0/16'],
    'IPv4 sets hold IPv4 pools only',
  );
  const off = desiredOf({ ...base(), settings: settings({ ipv6Support: false }), pools: [v6pool] });
  assert.equal(off.ip6tables, undefined);
  const on = desiredOf({ ...base(), settings: settings({ ipv6Support: true }) });
  assert.ok(on.ip6tables?.filter.chains.has('tri-FORWARD'));
  // The graph follows the switch (an IPv6 pool appearing, then going) as a fresh one would.
  const h = new GraphHarness('n1', settings());
  const inputs = base();
  h.sync(inputs);
  inputs.pools = [...inputs.pools, v6pool];
  h.sync(inputs);
  const next = h.view();
  assert.ok(next.ip6tables);
  assert.deepEqual(next, desiredOf(inputs), 'a family appearing');
  inputs.pools = inputs.pools.slice(0, 1);
  h.sync(inputs);
  assert.equal(h.view().ip6tables, undefined);
  assert.equal(h.state.iptables[6].filter.chains.desired.size, 0, 'every IPv6 chain is unwanted');
});

test('VXLAN: one more remote node (or one changed) costs that node only, not a walk over all of them', () => {
  const inputs = { ...base(), pools: [pool('p', '10.244.0.0/16', { vxlanMode: 'Always' as const })] };
  const remote = (i: number) =>
    node(`r${i}`, `192.168.${2 + (i >> 8)}.${i & 255}/16`, {
      vxlanTunnelAddress: `10.245.${i >> 8}.${i & 255}`,
    });
  const block = (i: number) => ({
    node: `r${i}`,
    block: `10.244.${i >> 2}.${(i & 3) * 64}/26`,
    state: 'confirmed',
  });
  inputs.nodes = [node('n1', '192.168.1.1/24'), ...Array.from({ length: 500 }, (_, i) => remote(i))];
  inputs.affinities = Array.from({ length: 500 }, (_, i) => block(i));
  const h = new GraphHarness('n1', settings());
  h.sync(inputs);
  assert.equal(h.state.fdb.desired.size, 500);
  // Count what reaches the trackers while one node joins, then while one changes its tunnel address.
  let touched = 0;
  for (const t of [h.state.routes, h.state.neighbors, h.state.fdb] as {
    setDesired(k: string, v: unknown): void;
    deleteDesired(k: string): void;
  }[]) {
    const set = t.setDesired.bind(t);
    const del = t.deleteDesired.bind(t);
    t.setDesired = (k, v) => {
      touched++;
      set(k, v);
    };
    t.deleteDesired = (k) => {
      touched++;
      del(k);
    };
  }
  inputs.nodes = [...inputs.nodes, remote(500)];
  inputs.affinities = [...inputs.affinities, block(500)];
  h.sync(inputs);
  assert.ok(touched <= 3, `one node joining touched ${touched} items`);
  assert.deepEqual(normalized(h.view()), normalized(desiredOf(inputs)));
  touched = 0;
  inputs.nodes = inputs.nodes.map((n) =>
    n.metadata.name === 'r7' ? node('r7', '192.168.2.7/16', { vxlanTunnelAddress: '10.246.0.7' }) : n,
  );
  h.sync(inputs);
  assert.ok(touched <= 4, `one node changing touched ${touched} items`);
  assert.deepEqual(normalized(h.view()), normalized(desiredOf(inputs)));
});

test('routes onto many devices at once: the missing ones wait, the others are written (one read of the device list)', async () => {
  const eps = Array.from({ length: 200 }, (_, i) =>
    wep(`p${i}`, 'n1', `cali${i.toString(16).padStart(11, '0')}`, `10.244.${i >> 6}.${(i & 63) + 1}/32`),
  );
  const h = new GraphHarness('n1', settings());
  h.sync({ ...base(), endpoints: eps, affinities: [] });
  const k = new FakeKernel();
  eps.forEach((e, i) => {
    if (i % 2) k.addDevice(e.spec.interfaceName);
  });
  const rep = await new RouteDriver(h.state.routes, k, 'cali').apply();
  assert.equal(rep.waiting, 100);
  assert.equal(rep.commands, 100);
  assert.equal([...k.routes.values()].filter((r) => r.protocol === '80').length, 100);
});
