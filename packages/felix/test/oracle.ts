/**
 * The test oracle: felix's calculation as it was first written — the node's whole desired
 * kernel state recomputed from everything etcd says, the plain way, on every call. felix
 * itself runs the calculation graph (`src/calc/`); the property tests require that the
 * graph, fed the same updates one by one, wants exactly this, and programs the same kernel.
 */
import {
  canonicalCidr,
  cidrContains,
  cidrContainsIp,
  formatCidr,
  type GlobalNetworkPolicy,
  type IPPool,
  type NetworkPolicy,
  type Node,
  type Profile,
  parseCidr,
  parseIp,
  type WorkloadEndpoint,
} from '@tricolor/datastore';
import type { Affinity } from '../src/calc/graph.js';
import {
  buildIptables,
  type EndpointPolicyRules,
  type LocalEndpointRef,
} from '../src/calc/iptables/chains.js';
import type { Chain, IptablesState, Table } from '../src/calc/iptables/rules.js';
import { type IpsetSpec, poolIpsets } from '../src/calc/pools.js';
import { hostAddr, vtepMac } from '../src/calc/vxlan.js';
import type { FelixSettings } from '../src/config-types.js';
import {
  type Neighbor,
  neighborKey,
  type Route,
  routeKey,
  type VxlanDevice,
} from '../src/dataplane/items.js';
import { computePolicyState } from './policy-oracle.js';

export type DesiredRoute = Route;
export type DesiredNeighbor = Neighbor;

export type VxlanDeviceState = Omit<VxlanDevice, 'kind'>;

export interface VxlanState {
  device: VxlanDeviceState;
  /** Remote VTEPs: their device MAC and underlay address. */
  fdb: { mac: string; dst: string }[];
  neighbors: DesiredNeighbor[];
}

export interface IpipState {
  device: 'tunl0';
  address?: string;
  mtu?: number;
}

export interface CalcInputs {
  nodeName: string;
  settings: FelixSettings;
  /** Endpoints (this node's are picked out). */
  endpoints: Iterable<WorkloadEndpoint>;
  pools: IPPool[];
  affinities: Iterable<Affinity>;
  nodes: Iterable<Node>;
  profiles?: Iterable<Profile>;
  policies?: Iterable<NetworkPolicy | GlobalNetworkPolicy>;
}

export interface DesiredState {
  /** Routes felix owns in the main table, keyed by `<family>|<dst>`. */
  routes: Map<string, DesiredRoute>;
  /** Static neighbor entries (workload MACs and remote VTEPs), keyed by `<dev>|<ip>`. */
  neighbors: Map<string, DesiredNeighbor>;
  vxlan?: VxlanState;
  ipip?: IpipState;
  /** `/proc/sys` relative path → value. */
  sysctls: Map<string, string>;
  ipsets: IpsetSpec[];
  iptables: IptablesState;
  ip6tables?: IptablesState;
  /** Local workload interfaces. */
  interfaces: string[];
  localEndpoints: number;
  /** Confirmed blocks of this node. */
  ownedBlocks: string[];
}

export type { Table };

const sortKey = (e: WorkloadEndpoint) => `${e.metadata.namespace}/${e.metadata.name}`;

/**
 * From what etcd says (all of it; this function filters to this node), the complete kernel
 * state felix wants on this node. For a route destination the endpoint first by name wins,
 * for a neighbor the last; block routes and VTEP neighbors override both; an interface
 * belongs to the first endpoint by name.
 */
export function computeDesiredState(inp: CalcInputs): DesiredState {
  const s = inp.settings;
  const enabledPools = inp.pools.filter((p) => !p.spec.disabled);
  const wantV6 =
    s.ipv6Support === true ||
    (s.ipv6Support === 'auto' && inp.pools.some((p) => parseCidr(p.spec.cidr)?.family === 6));

  // Local workloads: /32 (/128) routes onto the host end of the veth, static neighbors,
  // sysctls, and the interfaces the iptables chains dispatch on.
  const byKey = new Map<string, WorkloadEndpoint>();
  for (const e of inp.endpoints) if (e.spec.node === inp.nodeName) byKey.set(sortKey(e), e);
  const local = [...byKey.values()].sort((a, b) =>
    sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0,
  );
  const routes = new Map<string, DesiredRoute>();
  const neighbors = new Map<string, DesiredNeighbor>();
  const sysctls = new Map<string, string>();
  const owners = new Map<string, LocalEndpointRef>();
  const ownerEndpoints = new Map<string, WorkloadEndpoint>();
  let v6Endpoints = false;
  for (const e of local) {
    const dev = e.spec.interfaceName;
    let v6 = false;
    for (const net of e.spec.ipNetworks) {
      const c = parseCidr(net);
      if (!c) continue;
      const dst = formatCidr({ ...c, prefixLength: c.family === 4 ? 32 : 128 });
      if (c.family === 6) v6 = true;
      const k = routeKey({ family: c.family, dst });
      if (!routes.has(k)) routes.set(k, { family: c.family, dst, type: 'unicast', dev, scope: 'link' });
      if (e.spec.mac) {
        const ip = dst.split('/')[0]!;
        neighbors.set(neighborKey({ dev, ip }), { ip, mac: e.spec.mac.toLowerCase(), dev });
      }
    }
    for (const k of ['conf/X/proxy_arp', 'conf/X/forwarding', 'conf/X/route_localnet'])
      sysctls.set(`net/ipv4/${k.replace('X', dev)}`, '1');
    sysctls.set(`net/ipv4/neigh/${dev}/proxy_delay`, '0');
    if (v6)
      for (const [k, v] of [
        ['proxy_ndp', '1'],
        ['forwarding', '1'],
        ['accept_ra', '0'],
      ] as const)
        sysctls.set(`net/ipv6/conf/${dev}/${k}`, v);
    v6Endpoints ||= v6;
    if (!owners.has(dev)) {
      owners.set(dev, { iface: dev, profiles: e.spec.profiles });
      ownerEndpoints.set(dev, e);
    }
  }
  if (v6Endpoints) sysctls.set('net/ipv6/conf/all/forwarding', '1');
  sysctls.set('net/ipv4/ip_forward', '1');

  // Blocks: blackholes for ours, and (VXLAN) routes to the others'.
  const affinities = [...inp.affinities].filter((a) => a.state === 'confirmed');
  const owned = [
    ...new Set(affinities.filter((a) => a.node === inp.nodeName).map((a) => canonicalCidr(a.block)!)),
  ]
    .filter(Boolean)
    .sort();
  for (const b of owned) {
    const c = parseCidr(b)!;
    routes.set(routeKey({ family: c.family, dst: b }), { family: c.family, dst: b, type: 'blackhole' });
  }

  const nodes = new Map<string, Node>();
  for (const n of inp.nodes) nodes.set(n.metadata.name, n);
  const me = nodes.get(inp.nodeName);
  const myAddr = me?.spec.bgp?.ipv4Address;
  const myCidr = myAddr ? parseCidr(myAddr) : undefined;

  let vxlan: VxlanState | undefined;
  const vxlanPools = enabledPools.filter(
    (p) => p.spec.vxlanMode !== 'Never' && parseCidr(p.spec.cidr)?.family === 4,
  );
  const localIP = hostAddr(myAddr);
  if (vxlanPools.length > 0 && localIP) {
    vxlan = {
      device: {
        name: s.vxlanDevice,
        vni: s.vxlanVNI,
        port: s.vxlanPort,
        localIP,
        mac: me?.spec.vxlanTunnelMACAddr?.toLowerCase() ?? vtepMac(inp.nodeName),
      },
      fdb: [],
      neighbors: [],
    };
    if (s.vxlanMTU) vxlan.device.mtu = s.vxlanMTU;
    const tunnel = hostAddr(me?.spec.vxlanTunnelAddress);
    if (tunnel) vxlan.device.address = tunnel;
    const byNode = new Map<string, string[]>();
    for (const a of affinities) {
      if (a.node === inp.nodeName) continue;
      const list = byNode.get(a.node);
      if (list) list.push(a.block);
      else byNode.set(a.node, [a.block]);
    }
    for (const [name, node] of [...nodes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (name === inp.nodeName) continue;
      const underlay = hostAddr(node.spec.bgp?.ipv4Address);
      const tun = hostAddr(node.spec.vxlanTunnelAddress);
      if (!underlay || !tun) continue;
      const mac = node.spec.vxlanTunnelMACAddr?.toLowerCase() ?? vtepMac(name);
      const sameSubnet = myCidr ? cidrContainsIp(myCidr, parseIp(underlay)!) : false;
      let used = false;
      for (const block of byNode.get(name) ?? []) {
        const bc = parseCidr(block);
        if (!bc) continue;
        const pool = vxlanPools.find((p) => cidrContains(parseCidr(p.spec.cidr)!, bc));
        if (!pool) continue;
        // CrossSubnet: same-subnet peers are reached natively (bird's routes), not through the tunnel.
        if (pool.spec.vxlanMode === 'CrossSubnet' && sameSubnet) continue;
        const dst = formatCidr(bc);
        routes.set(routeKey({ family: 4, dst }), {
          family: 4,
          dst,
          type: 'unicast',
          dev: s.vxlanDevice,
          via: tun,
          onlink: true,
        });
        used = true;
      }
      if (!used) continue;
      vxlan.fdb.push({ mac, dst: underlay });
      const nb = { ip: tun, mac, dev: s.vxlanDevice };
      vxlan.neighbors.push(nb);
      neighbors.set(neighborKey(nb), nb);
    }
  }

  let ipip: IpipState | undefined;
  if (enabledPools.some((p) => p.spec.ipipMode !== 'Never')) {
    ipip = { device: 'tunl0' };
    const a = hostAddr(me?.spec.ipv4IPIPTunnelAddr);
    if (a) ipip.address = a;
    if (s.ipipMTU) ipip.mtu = s.ipipMTU;
  }

  const pools = inp.pools.filter((p) => parseCidr(p.spec.cidr));
  const eps = [...owners.values()];
  const pol = computePolicyState({
    chainPrefix: s.chainPrefix,
    endpoints: inp.endpoints,
    local: [...ownerEndpoints].map(([iface, endpoint]) => ({ iface, endpoint })),
    profiles: inp.profiles ?? [],
    policies: inp.policies ?? [],
    v6: wantV6,
  });
  const policy: EndpointPolicyRules = (ep, dir) => pol.endpointRules.get(ep.iface)![dir];
  const withPolicyChains = (st: IptablesState, chains: Chain[]): IptablesState => {
    const filter = st.filter.chains as Map<string, Chain>;
    for (const c of chains) filter.set(c.name, c);
    st.filter.ruleCount = [...filter.values()].reduce((n, c) => n + c.rules.length, 0);
    return st;
  };
  const out: DesiredState = {
    routes,
    neighbors,
    sysctls,
    ipsets: [...poolIpsets(s.chainPrefix, inp.pools, wantV6 ? [4, 6] : [4]), ...pol.ipsets],
    iptables: withPolicyChains(buildIptables(s, eps, pools, policy, 4), pol.chains[4]),
    interfaces: [...owners.keys()].sort(),
    localEndpoints: byKey.size,
    ownedBlocks: owned,
  };
  if (wantV6) out.ip6tables = withPolicyChains(buildIptables(s, eps, pools, policy, 6), pol.chains[6]);
  if (vxlan) out.vxlan = vxlan;
  if (ipip) out.ipip = ipip;
  return out;
}
