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
import { buildIptables, type EndpointPolicyRules, noPolicy } from './iptables/chains.js';
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

/**
 * The calculation: from what etcd says (all of it; this function filters to this node),
 * the complete kernel state felix wants on this node. Pure and deterministic.
 */
export function computeDesiredState(inp: CalcInputs): DesiredState {
  const s = inp.settings;
  const routes = new Map<string, DesiredRoute>();
  const neighbors = new Map<string, DesiredNeighbor>();
  const sysctls = new Map<string, string>();
  const enabledPools = inp.pools.filter((p) => !p.spec.disabled);
  const poolCidrs = inp.pools.map((p) => ({ pool: p, cidr: parseCidr(p.spec.cidr)! })).filter((x) => x.cidr);

  // Local workloads: /32 (/128) routes onto the host end of the veth, static neighbors, sysctls.
  const local = [...inp.endpoints]
    .filter((e) => e.spec.node === inp.nodeName)
    .sort((a, b) => {
      const ka = `${a.metadata.namespace}/${a.metadata.name}`;
      const kb = `${b.metadata.namespace}/${b.metadata.name}`;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
  const ifaces = new Map<string, WorkloadEndpoint>();
  for (const ep of local) {
    const dev = ep.spec.interfaceName;
    if (!ifaces.has(dev)) ifaces.set(dev, ep);
    let v6 = false;
    for (const net of ep.spec.ipNetworks) {
      const c = parseCidr(net);
      if (!c) continue;
      const full = c.family === 4 ? 32 : 128;
      const dst = formatCidr({ ...c, prefixLength: full });
      const key = routeKey({ family: c.family, dst });
      if (c.family === 6) v6 = true;
      if (!routes.has(key)) routes.set(key, { family: c.family, dst, type: 'unicast', dev, scope: 'link' });
      if (ep.spec.mac) {
        const ip = dst.split('/')[0]!;
        neighbors.set(neighborKey({ dev, ip }), { ip, mac: ep.spec.mac.toLowerCase(), dev });
      }
    }
    sysctls.set(`net/ipv4/conf/${dev}/proxy_arp`, '1');
    sysctls.set(`net/ipv4/neigh/${dev}/proxy_delay`, '0');
    sysctls.set(`net/ipv4/conf/${dev}/forwarding`, '1');
    sysctls.set(`net/ipv4/conf/${dev}/route_localnet`, '1');
    if (v6) {
      sysctls.set(`net/ipv6/conf/${dev}/proxy_ndp`, '1');
      sysctls.set(`net/ipv6/conf/${dev}/forwarding`, '1');
      sysctls.set(`net/ipv6/conf/${dev}/accept_ra`, '0');
      sysctls.set('net/ipv6/conf/all/forwarding', '1');
    }
  }
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
  );
  const out: DesiredState = {
    routes,
    neighbors,
    sysctls,
    ipsets: poolIpsets(s.chainPrefix, inp.pools),
    iptables,
    interfaces: [...ifaces.keys()].sort(),
    localEndpoints: local.length,
    ownedBlocks: owned,
  };
  if (vxlan) out.vxlan = vxlan;
  if (ipip) out.ipip = ipip;
  return out;
}
