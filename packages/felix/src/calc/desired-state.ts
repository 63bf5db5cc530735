import {
  canonicalCidr,
  cidrContains,
  cidrContainsIp,
  formatCidr,
  type IPPool,
  type Node,
  parseCidr,
  parseIp,
  type WorkloadEndpoint,
} from '@tricolor/datastore';
import type { FelixSettings } from '../config-types.js';
import { buildIptables, type EndpointPolicyRules, IptablesCache, noPolicy } from './iptables/chains.js';
import type { IptablesState } from './iptables/rules.js';
import { type IpsetSpec, poolIpsets } from './nat-outgoing.js';

/** felix's route protocol number (DESIGN.md "Who owns which kernel routes"). */
export const FELIX_RT_PROTO = 80;

export interface DesiredRoute {
  family: 4 | 6;
  /** Canonical CIDR. */
  dst: string;
  type: 'unicast' | 'blackhole';
  dev?: string;
  via?: string;
  onlink?: boolean;
  scope?: 'link';
}

export interface DesiredNeighbor {
  ip: string;
  mac: string;
  dev: string;
}

export interface VxlanDevice {
  name: string;
  vni: number;
  port: number;
  /** Underlay address of this node (the VTEP source). */
  localIP: string;
  /** The node's tunnel address, put on the device as /32. */
  address?: string;
  mac: string;
  /** Explicit MTU; undefined = underlay MTU - 50, resolved by the driver. */
  mtu?: number;
}

export interface VxlanState {
  device: VxlanDevice;
  /** Remote VTEPs: their device MAC and underlay address. */
  fdb: { mac: string; dst: string }[];
  neighbors: DesiredNeighbor[];
}

export interface IpipState {
  device: 'tunl0';
  address?: string;
  mtu?: number;
}

/** An IPAM block affinity as read from `…/ipam/v2/host/<node>/ipv4/block/<cidr>`. */
export interface Affinity {
  node: string;
  block: string;
  state: string;
}

export interface CalcInputs {
  nodeName: string;
  settings: FelixSettings;
  endpoints: Iterable<WorkloadEndpoint>;
  pools: IPPool[];
  affinities: Iterable<Affinity>;
  nodes: Iterable<Node>;
  policy?: EndpointPolicyRules;
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
  /** Local workload interfaces. */
  interfaces: string[];
  localEndpoints: number;
  /** Confirmed blocks of this node. */
  ownedBlocks: string[];
}

export const routeKey = (r: { family: 4 | 6; dst: string }) => `${r.family}|${r.dst}`;
export const neighborKey = (n: { dev: string; ip: string }) => `${n.dev}|${n.ip}`;

/** A deterministic, locally administered unicast MAC for a node's VXLAN device. */
export function vtepMac(nodeName: string): string {
  let h = 0x811c9dc5;
  const bytes: number[] = [];
  for (let round = 0; round < 5; round++) {
    for (const ch of `${round}:${nodeName}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    bytes.push(h & 0xff);
  }
  return ['66', ...bytes.map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

function hostAddr(cidrOrIp: string | undefined): string | undefined {
  if (!cidrOrIp) return undefined;
  const ip = cidrOrIp.split('/')[0]!;
  return parseIp(ip) ? ip : undefined;
}

/** What one local endpoint contributes (routes, neighbors, sysctls); a function of the endpoint only. */
interface EndpointPart {
  sortKey: string;
  dev: string;
  routes: [string, DesiredRoute][];
  neighbors: [string, DesiredNeighbor][];
  sysctls: [string, string][];
  v6: boolean;
}

function endpointPart(ep: WorkloadEndpoint): EndpointPart {
  const dev = ep.spec.interfaceName;
  const part: EndpointPart = {
    sortKey: `${ep.metadata.namespace}/${ep.metadata.name}`,
    dev,
    routes: [],
    neighbors: [],
    sysctls: [],
    v6: false,
  };
  for (const net of ep.spec.ipNetworks) {
    const c = parseCidr(net);
    if (!c) continue;
    const full = c.family === 4 ? 32 : 128;
    const dst = formatCidr({ ...c, prefixLength: full });
    if (c.family === 6) part.v6 = true;
    part.routes.push([
      routeKey({ family: c.family, dst }),
      { family: c.family, dst, type: 'unicast', dev, scope: 'link' },
    ]);
    if (ep.spec.mac) {
      const ip = dst.split('/')[0]!;
      part.neighbors.push([neighborKey({ dev, ip }), { ip, mac: ep.spec.mac.toLowerCase(), dev }]);
    }
  }
  part.sysctls.push(
    [`net/ipv4/conf/${dev}/proxy_arp`, '1'],
    [`net/ipv4/neigh/${dev}/proxy_delay`, '0'],
    [`net/ipv4/conf/${dev}/forwarding`, '1'],
    [`net/ipv4/conf/${dev}/route_localnet`, '1'],
  );
  if (part.v6)
    part.sysctls.push(
      [`net/ipv6/conf/${dev}/proxy_ndp`, '1'],
      [`net/ipv6/conf/${dev}/forwarding`, '1'],
      [`net/ipv6/conf/${dev}/accept_ra`, '0'],
    );
  return part;
}

/**
 * Optional memory for `computeDesiredState` between calls (one per agent): what each
 * endpoint object contributed, and the per-endpoint chains. It changes nothing in the
 * result, only how much is recomputed and reallocated: with 10,000 endpoints and one
 * new one, unchanged endpoints hand back the very same objects, which is also what lets
 * the dataplane drivers skip them by identity instead of re-comparing or re-hashing.
 * Endpoints are keyed by object identity (the syncer replaces an object when it changes).
 */
export class CalcCache {
  readonly parts = new WeakMap<WorkloadEndpoint, EndpointPart>();
  /** The local endpoints in sorted order, as of the last call. */
  sorted: WorkloadEndpoint[] = [];
  /** Endpoint chains and dispatch subtrees, reused while equal (see `buildIptables`). */
  readonly iptables = new IptablesCache();
}

/**
 * The calculation: from what etcd says (all of it; this function filters to this node),
 * the complete kernel state felix wants on this node. Pure and deterministic; `cache`
 * (see `CalcCache`) only saves work.
 */
export function computeDesiredState(inp: CalcInputs, cache?: CalcCache): DesiredState {
  const s = inp.settings;
  const routes = new Map<string, DesiredRoute>();
  const neighbors = new Map<string, DesiredNeighbor>();
  const sysctls = new Map<string, string>();
  const enabledPools = inp.pools.filter((p) => !p.spec.disabled);
  const poolCidrs = inp.pools.map((p) => ({ pool: p, cidr: parseCidr(p.spec.cidr)! })).filter((x) => x.cidr);

  // Local workloads: /32 (/128) routes onto the host end of the veth, static neighbors, sysctls.
  const part = (ep: WorkloadEndpoint): EndpointPart => {
    if (!cache) return endpointPart(ep);
    let p = cache.parts.get(ep);
    if (!p) {
      p = endpointPart(ep);
      cache.parts.set(ep, p);
    }
    return p;
  };
  let local: { ep: WorkloadEndpoint; part: EndpointPart }[] = [];
  for (const ep of inp.endpoints) if (ep.spec.node === inp.nodeName) local.push({ ep, part: part(ep) });
  if (cache) {
    // Last call's order first, then the newcomers: the sort below then finds one long
    // sorted run (linear) instead of sorting 10,000 names from scratch.
    const present = new Set(local.map((x) => x.ep));
    const seen = new Set<WorkloadEndpoint>();
    const ordered: typeof local = [];
    for (const ep of cache.sorted)
      if (present.has(ep)) {
        ordered.push({ ep, part: part(ep) });
        seen.add(ep);
      }
    for (const x of local) if (!seen.has(x.ep)) ordered.push(x);
    local = ordered;
  }
  local.sort((a, b) => (a.part.sortKey < b.part.sortKey ? -1 : a.part.sortKey > b.part.sortKey ? 1 : 0));
  if (cache) cache.sorted = local.map((x) => x.ep);
  const ifaces = new Map<string, WorkloadEndpoint>();
  let anyV6 = false;
  for (const { ep, part: p } of local) {
    if (!ifaces.has(p.dev)) ifaces.set(p.dev, ep);
    for (const [key, r] of p.routes) if (!routes.has(key)) routes.set(key, r);
    for (const [key, n] of p.neighbors) neighbors.set(key, n);
    for (const [k, v] of p.sysctls) sysctls.set(k, v);
    if (p.v6) anyV6 = true;
  }
  if (anyV6) sysctls.set('net/ipv6/conf/all/forwarding', '1');
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
      const underlayIp = parseIp(underlay)!;
      const sameSubnet = myCidr ? cidrContainsIp(myCidr, underlayIp) : false;
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

  const iptables = buildIptables(
    s,
    [...ifaces].map(([iface, ep]) => ({ iface, profiles: ep.spec.profiles })),
    poolCidrs.map((x) => x.pool),
    inp.policy ?? noPolicy,
    cache?.iptables,
  );
  const out: DesiredState = {
    routes,
    neighbors,
    sysctls,
    ipsets: poolIpsets(s.chainPrefix, inp.pools),
    iptables,
    // buildIptables has just sorted the same names (linearly, with the cache).
    interfaces: cache ? [...cache.iptables.ifaces] : [...ifaces.keys()].sort(),
    localEndpoints: local.length,
    ownedBlocks: owned,
  };
  if (vxlan) out.vxlan = vxlan;
  if (ipip) out.ipip = ipip;
  return out;
}
