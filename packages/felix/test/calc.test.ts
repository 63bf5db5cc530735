import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalCidr, type WorkloadEndpoint } from '@tricolor/datastore';
import fc from 'fast-check';
import {
  CalcCache,
  type CalcInputs,
  computeDesiredState,
  type DesiredState,
  vtepMac,
} from '../src/calc/desired-state.js';
import { EndpointIndex } from '../src/calc/endpoint-index.js';
import { TABLES, type Table } from '../src/calc/iptables/rules.js';
import { diffRoutes, type KernelRoute, routeMap } from '../src/dataplane/routes.js';
import { ipipCommands, vxlanCommands } from '../src/dataplane/vxlan.js';
import { node, pool, settings, wep } from './helpers.js';

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
  const d = computeDesiredState(base());
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
  const d = computeDesiredState(inp);
  assert.ok(d.routes.has('6|fd00:1::5/128'));
  assert.equal(d.sysctls.get('net/ipv6/conf/cali6666666666f/proxy_ndp'), '1');
  assert.equal(d.sysctls.get('net/ipv6/conf/cali6666666666f/accept_ra'), '0');
  assert.equal(d.sysctls.get('net/ipv6/conf/cali6666666666f/forwarding'), '1');
});

test('only confirmed blocks of this node become blackholes', () => {
  const d = computeDesiredState(base());
  assert.deepEqual(d.ownedBlocks, ['10.244.1.0/26']);
  assert.deepEqual(d.routes.get('4|10.244.1.0/26'), { family: 4, dst: '10.244.1.0/26', type: 'blackhole' });
  assert.ok(!d.routes.has('4|10.244.9.0/26'), 'pending affinity is not ours yet');
  assert.ok(!d.routes.has('4|10.244.2.0/26'), "no VXLAN: other blocks are bird's business");
  assert.equal(d.vxlan, undefined);
});

test("VXLAN mode: device, FDB, neighbor and onlink routes to other nodes' blocks", () => {
  const inp = base();
  inp.pools = [pool('p', '10.244.0.0/16', { vxlanMode: 'Always' })];
  const d = computeDesiredState(inp);
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
  const cs = computeDesiredState(inp);
  assert.ok(!cs.routes.has('4|10.244.2.0/26'));
  assert.deepEqual(cs.vxlan?.fdb, []);
  assert.match(vtepMac('n2'), /^66(:[0-9a-f]{2}){5}$/);
});

test("IPIP pools ask for tunl0 with the node's IPIP address; the command plan is what the kernel needs", () => {
  const inp = base();
  inp.pools = [pool('p', '10.244.0.0/16', { ipipMode: 'Always' })];
  inp.nodes = [node('n1', '192.168.1.1/24', { ipv4IPIPTunnelAddr: '10.244.1.1' })];
  const d = computeDesiredState(inp);
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

test('route diff: replaces ours, deletes stale ours, never touches operator routes', () => {
  const d: DesiredState = computeDesiredState(base());
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
  const diff = diffRoutes(d.routes, routeMap(kernel), 'cali', () => true);
  assert.deepEqual(diff.commands.sort(), [
    'route del 10.244.1.99/32 dev cali9999999999z',
    'route del blackhole 10.244.7.0/26',
    'route replace 10.244.1.6/32 dev cali2222222222b scope link proto 80',
  ]);
  assert.deepEqual(diff.conflicts, ['10.244.1.0/26'], 'an operator route for our block is left alone');
  const waiting = diffRoutes(d.routes, new Map(), 'cali', (dev) => dev !== 'cali2222222222b');
  assert.deepEqual(waiting.waiting, ['10.244.1.6/32']);
});

/** A cached result without what only cached results carry (generation, changes). */
const withoutDelta = ({ generation: _g, changes: _c, ...rest }: DesiredState): DesiredState => rest;

test('a CalcCache changes nothing in the result, through adds, deletes, changes and duplicates', () => {
  const iface = (i: number) => `cali${(i * 7919).toString(16).padStart(11, '0')}`;
  const eps = Array.from({ length: 300 }, (_, i) =>
    wep(`p${i}`, i % 7 ? 'n1' : 'n2', iface(i), `10.1.${i >> 8}.${i & 255}/32`, 'ee:ee:ee:00:00:01'),
  );
  // Two endpoints claiming one interface and one address: the first by name must win either way.
  eps.push(wep('p0-dup', 'n1', iface(1), '10.1.0.1/32'));
  const inputs = { ...base(), endpoints: eps };
  const cache = new CalcCache();
  for (let k = 0; k < 60; k++) {
    const at = (k * 37) % eps.length;
    if (k % 3 === 0) eps.splice(at, 1);
    else if (k % 3 === 1) eps.push(wep(`q${k}`, 'n1', iface(1000 + k), `10.2.0.${k}/32`));
    else eps[at] = { ...eps[at]!, spec: { ...eps[at]!.spec, ipNetworks: [`10.3.0.${k}/32`] } };
    const cached = computeDesiredState(inputs, cache);
    assert.deepEqual(withoutDelta(cached), computeDesiredState(inputs), `step ${k}`);
  }
  // Unchanged endpoints hand back the same chain objects (what lets the drivers skip them).
  const local = eps.find((e) => e.spec.node === 'n1')!;
  const fw = () =>
    computeDesiredState(inputs, cache).iptables.filter.chains.get(`tri-fw-${local.spec.interfaceName}`);
  const a = fw();
  assert.ok(a && a === fw());
});

/**
 * The endpoint part of the calculation written the plain way (as felix first did it):
 * every local endpoint in name order, the first route for a destination wins, later
 * neighbors and sysctls overwrite earlier ones; block routes and VTEP neighbors (taken
 * from a calculation without endpoints) override them.
 */
function reference(inputs: CalcInputs) {
  const extras = computeDesiredState({ ...inputs, endpoints: [] });
  const routes = new Map<string, unknown>();
  const neighbors = new Map<string, unknown>();
  const sysctls = new Map<string, string>();
  const key = (e: WorkloadEndpoint) => `${e.metadata.namespace}/${e.metadata.name}`;
  const local = [...(inputs.endpoints as WorkloadEndpoint[])]
    .filter((e) => e.spec.node === inputs.nodeName)
    .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  let v6 = false;
  for (const e of local) {
    const dev = e.spec.interfaceName;
    let six = false;
    for (const net of e.spec.ipNetworks) {
      const dst = canonicalCidr(net)!;
      const family = dst.includes(':') ? 6 : 4;
      if (family === 6) six = true;
      const k = `${family}|${dst}`;
      if (!routes.has(k)) routes.set(k, { family, dst, type: 'unicast', dev, scope: 'link' });
      const ip = dst.split('/')[0]!;
      if (e.spec.mac) neighbors.set(`${dev}|${ip}`, { ip, mac: e.spec.mac.toLowerCase(), dev });
    }
    for (const k of ['conf/X/proxy_arp', 'conf/X/forwarding', 'conf/X/route_localnet'])
      sysctls.set(`net/ipv4/${k.replace('X', dev)}`, '1');
    sysctls.set(`net/ipv4/neigh/${dev}/proxy_delay`, '0');
    if (six)
      for (const [k, v] of [
        ['proxy_ndp', '1'],
        ['forwarding', '1'],
        ['accept_ra', '0'],
      ] as const)
        sysctls.set(`net/ipv6/conf/${dev}/${k}`, v);
    v6 ||= six;
  }
  for (const [k, r] of extras.routes) routes.set(k, r);
  for (const [k, n] of extras.neighbors) neighbors.set(k, n);
  if (v6) sysctls.set('net/ipv6/conf/all/forwarding', '1');
  sysctls.set('net/ipv4/ip_forward', '1');
  return { routes, neighbors, sysctls };
}

/** What the drivers see: every entry of `d`, and for `changes` the keys they would revisit. */
const snapshot = (d: DesiredState) => ({
  routes: new Map(d.routes),
  neighbors: new Map(d.neighbors),
  sysctls: new Map(d.sysctls),
});

/** Every chain of every table, by `<table> <name>` (chains are values: never mutated). */
const chainsOf = (d: DesiredState) => {
  const m = new Map<string, unknown>();
  for (const t of TABLES) for (const [n, c] of d.iptables[t].chains) m.set(`${t} ${n}`, c.rules);
  return m;
};

test('incremental results equal full recomputation across random add/delete/change sequences', () => {
  const ifaceName = (i: number) => `cali${i.toString(16).padStart(11, '0')}`;
  type Op =
    | { op: 'add'; name: number; iface: number; ip: number; v6: boolean; mac: boolean; remote: boolean }
    | { op: 'del'; at: number }
    | { op: 'change'; at: number; ip: number; iface: number }
    | { op: 'blocks'; owned: number; remote: number }
    | { op: 'full' };
  const op: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        op: fc.constant('add' as const),
        // Small ranges, so interfaces, addresses and names collide.
        name: fc.integer({ min: 0, max: 40 }),
        iface: fc.integer({ min: 0, max: 5 }),
        ip: fc.integer({ min: 0, max: 8 }),
        v6: fc.boolean(),
        mac: fc.boolean(),
        remote: fc.boolean(),
      }),
    },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('del' as const), at: fc.nat() }) },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant('change' as const),
        at: fc.nat(),
        ip: fc.integer({ min: 0, max: 8 }),
        iface: fc.integer({ min: 0, max: 5 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('blocks' as const),
        owned: fc.integer({ min: 0, max: 3 }),
        remote: fc.integer({ min: 0, max: 3 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('full' as const) }) },
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), fc.boolean(), (ops, vxlan) => {
      const inputs = base();
      if (vxlan) inputs.pools = [pool('p', '10.244.0.0/16', { vxlanMode: 'Always' })];
      const eps = [...inputs.endpoints];
      inputs.endpoints = eps;
      const cache = new CalcCache();
      let prev = snapshot(computeDesiredState(inputs, cache));
      // The same endpoints through an EndpointIndex (what the agent uses): only the
      // changed keys are visited, and the results must be the same.
      const index = new EndpointIndex('n1');
      const key = (e: WorkloadEndpoint) => `${e.metadata.namespace}/${e.metadata.name}`;
      for (const e of eps) index.set(key(e), e);
      const indexCache = new CalcCache();
      let prevChains = chainsOf(computeDesiredState({ ...inputs, endpoints: index }, indexCache));
      let names = 0;
      for (const o of ops) {
        if (o.op === 'add') {
          const ip = o.v6 ? `fd00::${o.ip.toString(16)}/128` : `10.244.1.${o.ip}/32`;
          const e = wep(
            `w${o.name}-${names++}`,
            o.remote ? 'n2' : 'n1',
            ifaceName(o.iface),
            ip,
            o.mac ? `ee:ee:ee:00:00:${(o.ip % 256).toString(16).padStart(2, '0')}` : undefined,
          );
          eps.push(e);
          index.set(key(e), e);
        } else if (o.op === 'del' && eps.length) {
          index.set(key(eps[o.at % eps.length]!), undefined);
          eps.splice(o.at % eps.length, 1);
        } else if (o.op === 'change' && eps.length) {
          const i = o.at % eps.length;
          const e = eps[i]!;
          eps[i] = {
            ...e,
            spec: { ...e.spec, interfaceName: ifaceName(o.iface), ipNetworks: [`10.244.1.${o.ip}/32`] },
          };
          index.set(key(e), eps[i]);
        } else if (o.op === 'blocks') {
          inputs.affinities = [
            ...Array.from({ length: o.owned }, (_, k) => ({
              node: 'n1',
              block: `10.244.${k}.0/26`,
              state: 'confirmed',
            })),
            ...Array.from({ length: o.remote }, (_, k) => ({
              node: 'n2',
              block: `10.244.${k + 2}.0/26`,
              state: 'confirmed',
            })),
          ];
        } else if (o.op === 'full') {
          cache.full();
          indexCache.full();
        }
        const d = computeDesiredState(inputs, cache);
        const want = computeDesiredState(inputs);
        assert.deepEqual(withoutDelta(d), want);
        const viaIndex = computeDesiredState({ ...inputs, endpoints: index }, indexCache);
        assert.deepEqual(withoutDelta(viaIndex), want, 'through the index');
        // The iptables delta names every chain that differs from the previous result.
        const chains = chainsOf(viaIndex);
        if (viaIndex.changes)
          for (const k of new Set([...prevChains.keys(), ...chains.keys()])) {
            const [t, n] = k.split(' ') as [Table, string];
            if (!viaIndex.changes.iptables[t].has(n))
              assert.deepEqual(
                chains.get(k),
                prevChains.get(k),
                `chain ${k} changed but is not in the delta`,
              );
          }
        prevChains = chains;
        assert.deepEqual(snapshot(d), reference(inputs));
        // The delta names every key whose entry differs from the previous result.
        if (d.changes) {
          const now = snapshot(d);
          for (const kind of ['routes', 'neighbors', 'sysctls'] as const) {
            const keys = new Set([...prev[kind].keys(), ...now[kind].keys()]);
            for (const k of keys)
              if (!d.changes[kind].has(k))
                assert.deepEqual(
                  (now[kind] as Map<string, unknown>).get(k),
                  (prev[kind] as Map<string, unknown>).get(k),
                  `${kind} ${k} changed but is not in the delta`,
                );
          }
        }
        prev = snapshot(d);
      }
    }),
    { numRuns: 300 },
  );
});

test('IPv6 tables: with an IPv6 pool (auto) or when forced; IPv6 nat-outgoing uses the IPv6 pool sets', () => {
  const v6pool = pool('p6', 'fd00:10::/64', { natOutgoing: true, blockSize: 122 });
  const v4only = computeDesiredState(base());
  assert.equal(v4only.ip6tables, undefined, 'auto without an IPv6 pool: no IPv6 tables');
  assert.deepEqual(
    v4only.ipsets.map((s) => s.name),
    ['tri-masq-ipam-pools', 'tri-all-ipam-pools'],
  );
  const dual = computeDesiredState({ ...base(), pools: [...base().pools, v6pool] });
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
  const off = computeDesiredState({ ...base(), settings: settings({ ipv6Support: false }), pools: [v6pool] });
  assert.equal(off.ip6tables, undefined);
  const on = computeDesiredState({ ...base(), settings: settings({ ipv6Support: true }) });
  assert.ok(on.ip6tables?.filter.chains.has('tri-FORWARD'));
  // A cache follows the switch (an IPv6 pool appearing) with a full result.
  const cache = new CalcCache();
  const inputs = base();
  computeDesiredState(inputs, cache);
  inputs.pools = [...inputs.pools, v6pool];
  const next = computeDesiredState(inputs, cache);
  assert.ok(next.ip6tables);
  assert.equal(next.changes, undefined, 'a family appearing is a full recomputation');
});
