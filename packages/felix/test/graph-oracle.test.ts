/**
 * The calculation graph against the oracle (felix's first, plain calculation): random
 * sequences of datastore changes, devices coming and going, hand-made drift in the kernel
 * and refresh reads with writes happening while they run. After every step the graph must
 * want what the oracle computes from scratch, and the kernel felix programmed — through
 * the real drivers, on a fake kernel that interprets the tools' input — must be the kernel
 * a fresh felix programs from the oracle's result, foreign state untouched.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IPPool, Node, WorkloadEndpoint } from '@tricolor/datastore';
import fc from 'fast-check';
import type { Affinity } from '../src/calc/graph.js';
import { TABLES } from '../src/calc/iptables/rules.js';
import { Dataplane } from '../src/dataplane/dataplane.js';
import { type FdbEntry, fdbKey, memberKey, routeKey } from '../src/dataplane/items.js';
import { KernelState } from '../src/dataplane/kernel-state.js';
import { FakeKernel } from './fake-kernel.js';
import { GraphHarness, normalized } from './graph-harness.js';
import { node, pool, settings, wep } from './helpers.js';
import { type CalcInputs, computeDesiredState, type DesiredState } from './oracle.js';

const ifaceName = (i: number) => `cali${i.toString(16).padStart(11, '0')}`;

/** What an operator and other agents put in the kernel: felix must leave all of it alone. */
function withForeignState(k: FakeKernel): FakeKernel {
  k.routes.set('4|172.16.0.0/12', {
    family: 4,
    dst: '172.16.0.0/12',
    type: 'unicast',
    via: '192.168.1.254',
    dev: 'eth0',
    protocol: 'boot',
  });
  // Holds the destination of one of our blocks (when n1 owns 10.244.0.0/26): a conflict.
  k.routes.set('4|10.244.0.0/26', {
    family: 4,
    dst: '10.244.0.0/26',
    type: 'unicast',
    via: '192.168.1.9',
    dev: 'eth0',
    protocol: 'static',
  });
  k.neighbors.set('eth0|192.168.1.254', { ip: '192.168.1.254', mac: '52:54:00:00:00:01', dev: 'eth0' });
  k.iptables[4].get('filter')!.get('FORWARD')!.push('-s 203.0.113.1/32 -j DROP');
  k.iptables[4].get('filter')!.set('KUBE-X', ['-j ACCEPT']);
  k.iptables[6].get('filter')!.get('FORWARD')!.push('-s 2001:db8::1/128 -j DROP');
  k.ipsets.set('KUBE-SET', { type: 'hash:ip', family: 'inet', members: new Set(['10.0.0.1']) });
  return k;
}

/** A fresh felix's trackers loaded straight from the oracle's result (no calculators involved). */
function loadDesired(st: KernelState, d: DesiredState): void {
  for (const [k, r] of d.routes) st.routes.setDesired(k, r);
  for (const [k, n] of d.neighbors) st.neighbors.setDesired(k, n);
  for (const [k, v] of d.sysctls) st.sysctls.setDesired(k, v);
  for (const s of d.ipsets) {
    st.ipsets.setDesired(s.name, { type: s.type, family: s.family });
    for (const m of s.members) st.ipsetMembers.setDesired(memberKey(s.name, m), true);
  }
  for (const [family, tables] of [
    [4, d.iptables],
    [6, d.ip6tables],
  ] as const) {
    if (!tables) continue;
    for (const t of TABLES) {
      for (const c of tables[t].chains.values()) st.iptables[family][t].chains.setDesired(c.name, c);
      for (const j of tables[t].hooks) st.iptables[family][t].hooks.setDesired(j.hook, j);
    }
  }
  if (d.vxlan) {
    st.tunnels.setDesired(d.vxlan.device.name, { kind: 'vxlan', ...d.vxlan.device });
    for (const f of d.vxlan.fdb) {
      const e: FdbEntry = { dev: d.vxlan.device.name, ...f };
      st.fdb.setDesired(fdbKey(e), e);
    }
  }
  if (d.ipip) {
    const ipip = { kind: 'ipip' as const, name: 'tunl0' as const, localIP: '192.168.1.1' };
    st.tunnels.setDesired('tunl0', { ...ipip, ...(d.ipip.address ? { address: d.ipip.address } : {}) });
  }
}

const sortedEntries = <V>(m: Map<string, V>) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/**
 * Everything a kernel holds, in a form two kernels compare by. Sysctls only where felix
 * wants a value: felix never sets one back when nobody wants it any more (an endpoint left;
 * the kernel's own default is not felix's to know), so their history differs by design.
 */
function kernelView(k: FakeKernel, wanted: DesiredState) {
  const tables = (f: 4 | 6) =>
    [...k.iptables[f]]
      .map(([t, chains]) => [t, sortedEntries(chains)] as const)
      .sort(([a], [b]) => (a < b ? -1 : 1));
  return {
    routes: sortedEntries(k.routes),
    neighbors: sortedEntries(k.neighbors),
    fdb: sortedEntries(k.fdb),
    sysctls: sortedEntries(k.sysctls).filter(([key]) => wanted.sysctls.has(key)),
    links: sortedEntries(k.links).map(([n, l]) => [n, { ...l, addresses: [...l.addresses].sort() }]),
    ipsets: sortedEntries(k.ipsets).map(([n, s]) => [n, s.type, s.family, [...s.members].sort()]),
    iptables: tables(4),
    ip6tables: tables(6),
  };
}

type Drift = 'route' | 'stray' | 'sysctl' | 'chain' | 'hook' | 'member' | 'neighbor' | 'fdb';
type Op =
  | { op: 'add'; name: number; iface: number; ip: number; v6: boolean; mac: boolean; remote: boolean }
  | { op: 'del'; at: number }
  | { op: 'change'; at: number; ip: number; iface: number }
  | { op: 'blocks'; owned: number; remote: number }
  | { op: 'nodes'; n2Tunnel: boolean; n3: boolean }
  | { op: 'pools'; nat: boolean; v6: boolean }
  | { op: 'device'; iface: number; up: boolean }
  | { op: 'drift'; what: Drift; pick: number }
  | { op: 'refresh'; during: number }
  | { op: 'invalidate'; all: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
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
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('nodes' as const), n2Tunnel: fc.boolean(), n3: fc.boolean() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('pools' as const), nat: fc.boolean(), v6: fc.boolean() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('device' as const),
      iface: fc.integer({ min: 0, max: 5 }),
      up: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('drift' as const),
      what: fc.constantFrom<Drift>('route', 'stray', 'sysctl', 'chain', 'hook', 'member', 'neighbor', 'fdb'),
      pick: fc.nat(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('refresh' as const), during: fc.integer({ min: 0, max: 40 }) }),
  },
);

/** Hand-made drift: what an operator or a bug elsewhere does to felix's state. */
function drift(k: FakeKernel, what: Drift, pick: number): void {
  const one = <T>(xs: T[]): T | undefined => (xs.length ? xs[pick % xs.length] : undefined);
  switch (what) {
    case 'route': {
      const r = one([...k.routes].filter(([, r]) => r.protocol === '80'));
      if (r) k.routes.delete(r[0]);
      return;
    }
    case 'stray': {
      const dev = one([...k.links.keys()].filter((d) => d.startsWith('cali')));
      const r = dev
        ? {
            family: 4 as const,
            dst: `10.99.0.${pick % 200}/32`,
            type: 'unicast',
            dev,
            scope: 'link' as const,
            protocol: '80',
          }
        : { family: 4 as const, dst: '10.99.9.0/26', type: 'blackhole', protocol: '80' };
      k.routes.set(routeKey(r), r);
      return;
    }
    case 'sysctl': {
      const s = one([...k.sysctls].filter(([, v]) => v === '1'));
      if (s) k.sysctls.set(s[0], '0');
      return;
    }
    case 'chain': {
      const c = one([...k.iptables[4].get('filter')!].filter(([n, r]) => n.startsWith('tri-') && r.length));
      if (c) c[1].splice(pick % c[1].length, 1);
      return;
    }
    case 'hook': {
      const fwd = k.iptables[4].get('filter')!.get('FORWARD')!;
      const i = fwd.findIndex((r) => r.includes('tri:'));
      if (i >= 0) fwd.splice(i, 1);
      return;
    }
    case 'member': {
      const s = k.ipsets.get('tri-all-ipam-pools');
      if (!s) return;
      const m = one([...s.members]);
      if (m && pick % 2) s.members.delete(m);
      else s.members.add('10.123.0.0/16');
      return;
    }
    case 'neighbor': {
      const n = one([...k.neighbors].filter(([, n]) => n.dev !== 'eth0'));
      if (n) k.neighbors.delete(n[0]);
      return;
    }
    case 'fdb': {
      const f = one([...k.fdb.keys()]);
      if (f) k.fdb.delete(f);
      return;
    }
  }
}

test('graph == oracle: random changes, devices, drift and refresh reads with writes during them', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { maxLength: 30 }), fc.boolean(), async (ops, vxlan) => {
      const s = settings();
      const eps: WorkloadEndpoint[] = [];
      const nodes = (n2Tunnel: boolean, n3: boolean): Node[] => [
        node('n1', '192.168.1.1/24', { vxlanTunnelAddress: '10.244.1.0' }),
        node('n2', '192.168.2.2/24', n2Tunnel ? { vxlanTunnelAddress: '10.244.2.0' } : {}),
        ...(n3 ? [node('n3', '192.168.3.3/24', { vxlanTunnelAddress: '10.244.3.0' })] : []),
      ];
      const poolsOf = (nat: boolean, v6: boolean): IPPool[] => [
        pool('p', '10.244.0.0/16', { natOutgoing: nat, vxlanMode: vxlan ? 'Always' : 'Never' }),
        ...(v6 ? [pool('p6', 'fd00::/64', { blockSize: 122, natOutgoing: nat })] : []),
      ];
      const inputs: CalcInputs = {
        nodeName: 'n1',
        settings: s,
        endpoints: eps,
        pools: poolsOf(true, false),
        affinities: [] as Affinity[],
        nodes: nodes(true, false),
      };
      const kernel = withForeignState(new FakeKernel('192.168.1.1'));
      const h = new GraphHarness('n1', s);
      const dp = new Dataplane(h.state, kernel, { ipv6: true });
      const devices = new Set<number>();
      let names = 0;
      const applyAll = async () => {
        await dp.apply();
        await dp.applyNeighbors();
      };
      const add = (o: Extract<Op, { op: 'add' }>) => {
        const ip = o.v6 ? `fd00::${o.ip.toString(16)}/128` : `10.244.1.${o.ip}/32`;
        eps.push(
          wep(
            `w${o.name}-${names++}`,
            o.remote ? 'n2' : 'n1',
            ifaceName(o.iface),
            ip,
            o.mac ? `ee:ee:ee:00:00:${(o.ip % 256).toString(16).padStart(2, '0')}` : undefined,
          ),
        );
      };
      const check = async (step: string) => {
        const want = computeDesiredState(inputs);
        assert.deepEqual(
          normalized(h.view()),
          normalized(want),
          `${step}: the graph wants what the oracle computes`,
        );
        // A fresh felix, given the oracle's result, on a kernel with the same devices and foreign state.
        const fresh = withForeignState(new FakeKernel('192.168.1.1'));
        for (const i of devices) fresh.addDevice(ifaceName(i));
        const st = new KernelState({
          chainPrefix: s.chainPrefix,
          interfacePrefix: s.interfacePrefix,
          vxlanDevice: s.vxlanDevice,
        });
        loadDesired(st, want);
        const cold = new Dataplane(st, fresh, { ipv6: true });
        await cold.apply();
        await cold.applyNeighbors();
        assert.deepEqual(kernelView(kernel, want), kernelView(fresh, want), `${step}: the same kernel`);
      };
      h.sync(inputs);
      await applyAll();
      await check('start');
      for (const [i, o] of ops.entries()) {
        const step = `step ${i} ${JSON.stringify(o)}`;
        if (o.op === 'add') add(o);
        else if (o.op === 'del' && eps.length) eps.splice(o.at % eps.length, 1);
        else if (o.op === 'change' && eps.length) {
          const at = o.at % eps.length;
          const e = eps[at]!;
          eps[at] = {
            ...e,
            spec: { ...e.spec, interfaceName: ifaceName(o.iface), ipNetworks: [`10.244.1.${o.ip}/32`] },
          };
        } else if (o.op === 'blocks') {
          inputs.affinities = [
            ...Array.from({ length: o.owned }, (_, k) => ({
              node: 'n1',
              block: `10.244.${k}.0/26`,
              state: 'confirmed',
            })),
            ...Array.from({ length: o.remote }, (_, k) => ({
              node: k % 2 ? 'n3' : 'n2',
              block: `10.244.${k + 2}.0/26`,
              state: 'confirmed',
            })),
            { node: 'n2', block: '10.244.9.0/26', state: 'pending' },
          ];
        } else if (o.op === 'nodes') inputs.nodes = nodes(o.n2Tunnel, o.n3);
        else if (o.op === 'pools') inputs.pools = poolsOf(o.nat, o.v6);
        else if (o.op === 'device') {
          const name = ifaceName(o.iface);
          if (o.up && !devices.has(o.iface)) {
            devices.add(o.iface);
            kernel.addDevice(name);
          } else if (!o.up && devices.has(o.iface)) {
            devices.delete(o.iface);
            kernel.deleteDevice(name);
            // What the agent does on `ip monitor`'s "Deleted <device>" line.
            dp.deviceGone(name);
          }
        } else if (o.op === 'drift') {
          drift(kernel, o.what, o.pick);
          // The refresh timers find it (reads beside the applies) and the next apply repairs it.
          await Promise.all([dp.refreshRoutes(), dp.refreshSysctls(), dp.refreshIptables()]);
        } else if (o.op === 'invalidate') {
          // A route of ours deleted by someone (netlink), or a failed apply: views read again.
          if (o.all) dp.invalidateAll();
          else dp.invalidateRoutes();
        } else if (o.op === 'refresh') {
          // The timers' reads, held open while one more endpoint is added and applied.
          const release = kernel.holdReads();
          const reading = Promise.all([dp.refreshRoutes(), dp.refreshSysctls(), dp.refreshIptables()]);
          // Writes while the reads run: one endpoint more, and one less (its route and neighbor deleted).
          if (eps.length) eps.splice(o.during % eps.length, 1);
          add({
            op: 'add',
            name: o.during,
            iface: o.during % 6,
            ip: o.during % 9,
            v6: false,
            mac: true,
            remote: false,
          });
          h.sync(inputs);
          await applyAll();
          release();
          await reading;
          // What was written during the reads is newer than they are: nothing to redo.
          const before = kernel.log.length;
          await applyAll();
          assert.deepEqual(kernel.log.slice(before), [], `${step}: the apply after the reads wrote`);
        }
        h.sync(inputs);
        await applyAll();
        await check(step);
      }
    }),
    { numRuns: Number(process.env.FELIX_PROPERTY_RUNS ?? 150) },
  );
});
