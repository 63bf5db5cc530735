/**
 * Drives felix's calculation graph from whole input snapshots, as the syncer would from
 * the datastore (an update per object that came, changed — a new object — or went), and
 * shows what the graph wants in the oracle's shape (`DesiredState`), so the two compare.
 */
import type { GlobalNetworkPolicy, IPPool, NetworkPolicy, Node, WorkloadEndpoint } from '@tricolor/datastore';
import { Calculation } from '../src/calc/calculation.js';
import type { Affinity, InputKinds, Update } from '../src/calc/graph.js';
import type { IptablesState } from '../src/calc/iptables/rules.js';
import { TABLES } from '../src/calc/iptables/rules.js';
import type { IpsetSpec } from '../src/calc/pools.js';
import type { FelixSettings } from '../src/config-types.js';
import { splitMemberKey } from '../src/dataplane/items.js';
import { type IptablesTrackers, KernelState } from '../src/dataplane/kernel-state.js';
import type { CalcInputs, DesiredState, IpipState, VxlanState } from './oracle.js';

export const endpointKey = (e: WorkloadEndpoint) => `${e.metadata.namespace}/${e.metadata.name}`;
export const poolKey = (p: IPPool) => `/tricolor/resources/ippools/${p.metadata.name}`;
export const nodeKey = (n: Node) => `/tricolor/resources/nodes/${n.metadata.name}`;
export const affinityKey = (a: Affinity) => `/tricolor/ipam/v2/host/${a.node}/ipv4/block/${a.block}`;

type SyncedKind =
  | 'endpoint'
  | 'pool'
  | 'node'
  | 'affinity'
  | 'networkPolicy'
  | 'globalNetworkPolicy'
  | 'profile';

export class GraphHarness {
  readonly state: KernelState;
  readonly calc: Calculation;
  private prev: { [K in SyncedKind]: Map<string, InputKinds[K]> } = {
    endpoint: new Map(),
    pool: new Map(),
    node: new Map(),
    affinity: new Map(),
    networkPolicy: new Map(),
    globalNetworkPolicy: new Map(),
    profile: new Map(),
  };

  constructor(
    readonly nodeName: string,
    readonly settings: FelixSettings,
    state?: KernelState,
  ) {
    this.state =
      state ??
      new KernelState({
        chainPrefix: settings.chainPrefix,
        interfacePrefix: settings.interfacePrefix,
        vxlanDevice: settings.vxlanDevice,
      });
    this.calc = new Calculation(this.state, {
      nodeName,
      overrides: settings,
      pinned: {
        chainPrefix: settings.chainPrefix,
        interfacePrefix: settings.interfacePrefix,
        ipv6Support: settings.ipv6Support,
      },
    });
  }

  /** The updates that take the graph from the last snapshot to `inp` (and applies them). */
  sync(
    inp: Pick<CalcInputs, 'endpoints' | 'pools' | 'nodes' | 'affinities' | 'profiles' | 'policies'>,
  ): Update[] {
    const updates: Update[] = [];
    const diff = <K extends SyncedKind>(
      kind: K,
      items: Iterable<InputKinds[K]>,
      key: (x: InputKinds[K]) => string,
    ) => {
      const now = new Map<string, InputKinds[K]>();
      for (const x of items) now.set(key(x), x);
      const prev = this.prev[kind] as Map<string, InputKinds[K]>;
      for (const [k, v] of now) if (prev.get(k) !== v) updates.push({ kind, key: k, value: v } as Update);
      for (const k of prev.keys())
        if (!now.has(k)) updates.push({ kind, key: k, value: undefined } as Update);
      (this.prev as Record<string, Map<string, unknown>>)[kind] = now;
    };
    diff('pool', inp.pools, poolKey);
    diff('node', inp.nodes, nodeKey);
    diff('affinity', inp.affinities, affinityKey);
    diff('profile', inp.profiles ?? [], (p) => `/tricolor/resources/profiles/${p.metadata.name}`);
    const policies = [...(inp.policies ?? [])];
    diff(
      'networkPolicy',
      policies.filter((p): p is NetworkPolicy => p.kind === 'NetworkPolicy'),
      (p) => `/tricolor/resources/networkpolicies/${p.metadata.namespace}/${p.metadata.name}`,
    );
    diff(
      'globalNetworkPolicy',
      policies.filter((p): p is GlobalNetworkPolicy => p.kind === 'GlobalNetworkPolicy'),
      (p) => `/tricolor/resources/globalnetworkpolicies/${p.metadata.name}`,
    );
    diff('endpoint', inp.endpoints, endpointKey);
    this.calc.apply(updates);
    return updates;
  }

  /** What the graph wants, in the oracle's shape. */
  view(): DesiredState {
    const st = this.state;
    const tables = (t: IptablesTrackers): IptablesState => {
      const out = {} as IptablesState;
      for (const tb of TABLES)
        out[tb] = {
          chains: new Map(t[tb].chains.desired),
          hooks: [...t[tb].hooks.desired.values()],
          ruleCount: t[tb].chains.desiredWeight,
        };
      return out;
    };
    const ipsets: IpsetSpec[] = [...st.ipsets.desired].map(([name, m]) => ({
      name,
      type: m.type,
      family: m.family,
      members: [],
    }));
    const byName = new Map(ipsets.map((s) => [s.name, s]));
    for (const k of st.ipsetMembers.desired.keys()) {
      const [set, m] = splitMemberKey(k);
      byName.get(set)?.members.push(m);
    }
    for (const s of ipsets) s.members.sort();
    const out: DesiredState = {
      routes: new Map(st.routes.desired),
      neighbors: new Map(st.neighbors.desired),
      sysctls: new Map(st.sysctls.desired),
      ipsets,
      iptables: tables(st.iptables[4]),
      interfaces: [...this.calc.endpointChains.ifaces],
      localEndpoints: this.calc.endpoints.count,
      ownedBlocks: this.calc.blocks.ownedBlocks,
    };
    if (this.calc.out.iptables.v6Active) out.ip6tables = tables(st.iptables[6]);
    for (const d of st.tunnels.desired.values()) {
      if (d.kind === 'vxlan') {
        const { kind: _k, ...device } = d;
        const vx: VxlanState = {
          device,
          fdb: [...st.fdb.desired.values()].map((f) => ({ mac: f.mac, dst: f.dst })),
          neighbors: [...st.neighbors.desired.values()].filter((n) => n.dev === d.name),
        };
        out.vxlan = vx;
      } else {
        const ipip: IpipState = { device: 'tunl0' };
        if (d.address) ipip.address = d.address;
        if (d.mtu) ipip.mtu = d.mtu;
        out.ipip = ipip;
      }
    }
    return out;
  }
}

/** What the graph wants for `inp`, fed in one batch to a fresh graph. */
export function desiredOf(inp: CalcInputs): DesiredState {
  const h = new GraphHarness(inp.nodeName, inp.settings);
  h.sync(inp);
  return h.view();
}

/** Arrays whose order carries no meaning, sorted, so two DesiredStates compare by content. */
export function normalized(d: DesiredState): DesiredState {
  const by = (f: (x: never) => string) => (a: unknown, b: unknown) => {
    const x = f(a as never);
    const y = f(b as never);
    return x < y ? -1 : x > y ? 1 : 0;
  };
  const out = { ...d, ipsets: [...d.ipsets].sort(by((s: IpsetSpec) => s.name)) };
  if (d.vxlan)
    out.vxlan = {
      device: d.vxlan.device,
      fdb: [...d.vxlan.fdb].sort(by((f: { mac: string; dst: string }) => `${f.mac}|${f.dst}`)),
      neighbors: [...d.vxlan.neighbors].sort(by((n: { ip: string }) => n.ip)),
    };
  return out;
}
