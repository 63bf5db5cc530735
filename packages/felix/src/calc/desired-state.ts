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
  /** With a `CalcCache`: the number of this result among the cache's results (1, 2, …). */
  generation?: number;
  /**
   * With a `CalcCache`, unless it recomputed everything: the keys of `routes`, `neighbors`
   * and `sysctls` whose entries may differ from result number `since` (a superset of the
   * changes; a key absent from its map now was deleted). Undefined = diff everything.
   */
  changes?: DesiredChanges;
}

export interface DesiredChanges {
  since: number;
  routes: Set<string>;
  neighbors: Set<string>;
  sysctls: Set<string>;
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
 * The routes, neighbors and sysctls of the local endpoints, maintained by adding and
 * removing endpoint contributions (so a change costs what it touches, not O(endpoints)).
 * Precedence is the full calculation's: for a route key the endpoint first by name wins,
 * for a neighbor key the last; block routes and VTEP neighbors (`extra…`) override both.
 */
class EndpointMaps {
  readonly parts = new Map<WorkloadEndpoint, EndpointPart>();
  readonly routes = new Map<string, DesiredRoute>();
  readonly neighbors = new Map<string, DesiredNeighbor>();
  readonly sysctls = new Map<string, string>();
  /** Key → the contributing parts (one, or several when endpoints collide). */
  private readonly routeOwners = new Map<string, EndpointPart | EndpointPart[]>();
  private readonly neighborOwners = new Map<string, EndpointPart | EndpointPart[]>();
  private readonly sysctlRefs = new Map<string, number>();
  private v6Parts = 0;
  private extraRoutes = new Map<string, DesiredRoute>();
  private extraNeighbors = new Map<string, DesiredNeighbor>();
  private extraSysctls = new Map<string, string>();

  add(ep: WorkloadEndpoint, p: EndpointPart, t: Touched): void {
    this.parts.set(ep, p);
    for (const [k] of p.routes) ownerAdd(this.routeOwners, k, p, t.routes);
    for (const [k] of p.neighbors) ownerAdd(this.neighborOwners, k, p, t.neighbors);
    for (const [k, v] of p.sysctls) {
      this.sysctlRefs.set(k, (this.sysctlRefs.get(k) ?? 0) + 1);
      if (!this.extraSysctls.has(k)) this.sysctls.set(k, v);
      t.sysctls.add(k);
    }
    if (p.v6) this.v6Parts++;
  }

  remove(ep: WorkloadEndpoint, t: Touched): void {
    const p = this.parts.get(ep)!;
    this.parts.delete(ep);
    for (const [k] of p.routes) ownerRemove(this.routeOwners, k, p, t.routes);
    for (const [k] of p.neighbors) ownerRemove(this.neighborOwners, k, p, t.neighbors);
    for (const [k] of p.sysctls) {
      const n = this.sysctlRefs.get(k)! - 1;
      if (n > 0) this.sysctlRefs.set(k, n);
      else {
        this.sysctlRefs.delete(k);
        if (!this.extraSysctls.has(k)) this.sysctls.delete(k);
      }
      t.sysctls.add(k);
    }
    if (p.v6) this.v6Parts--;
  }

  /** Replaces the non-endpoint entries (recomputed on every call; there are few). */
  setExtras(routes: Map<string, DesiredRoute>, neighbors: Map<string, DesiredNeighbor>, t: Touched): void {
    const sysctls = new Map<string, string>();
    if (this.v6Parts > 0) sysctls.set('net/ipv6/conf/all/forwarding', '1');
    sysctls.set('net/ipv4/ip_forward', '1');
    for (const k of this.extraRoutes.keys()) t.routes.add(k);
    for (const k of routes.keys()) t.routes.add(k);
    for (const k of this.extraNeighbors.keys()) t.neighbors.add(k);
    for (const k of neighbors.keys()) t.neighbors.add(k);
    for (const k of this.extraSysctls.keys()) t.sysctls.add(k);
    for (const k of sysctls.keys()) t.sysctls.add(k);
    this.extraRoutes = routes;
    this.extraNeighbors = neighbors;
    const oldSysctls = this.extraSysctls;
    this.extraSysctls = sysctls;
    // Resolve every key whose contributors or extras changed.
    for (const k of t.routes) {
      const r =
        routes.get(k) ?? winner(this.routeOwners.get(k), 'first')?.routes.find(([rk]) => rk === k)?.[1];
      if (r) this.routes.set(k, r);
      else this.routes.delete(k);
    }
    for (const k of t.neighbors) {
      const own = winner(this.neighborOwners.get(k), 'last');
      let n = neighbors.get(k);
      if (!n && own) for (const [nk, v] of own.neighbors) if (nk === k) n = v; // last one wins, as with Map.set
      if (n) this.neighbors.set(k, n);
      else this.neighbors.delete(k);
    }
    for (const k of new Set([...oldSysctls.keys(), ...sysctls.keys()])) {
      const v = sysctls.get(k) ?? (this.sysctlRefs.has(k) ? this.partSysctl(k) : undefined);
      if (v !== undefined) this.sysctls.set(k, v);
      else this.sysctls.delete(k);
    }
  }

  /** Value of an endpoint sysctl; the value is a function of the key (see `endpointPart`). */
  private partSysctl(k: string): string | undefined {
    for (const p of this.parts.values()) for (const [pk, v] of p.sysctls) if (pk === k) return v;
    return undefined;
  }
}

interface Touched {
  routes: Set<string>;
  neighbors: Set<string>;
  sysctls: Set<string>;
}

function ownerAdd(
  m: Map<string, EndpointPart | EndpointPart[]>,
  k: string,
  p: EndpointPart,
  touched: Set<string>,
): void {
  const o = m.get(k);
  if (!o) m.set(k, p);
  else if (Array.isArray(o)) o.push(p);
  else m.set(k, [o, p]);
  touched.add(k);
}

function ownerRemove(
  m: Map<string, EndpointPart | EndpointPart[]>,
  k: string,
  p: EndpointPart,
  touched: Set<string>,
): void {
  const o = m.get(k);
  touched.add(k);
  if (!o) return;
  if (!Array.isArray(o)) {
    if (o === p) m.delete(k);
    return;
  }
  const i = o.indexOf(p);
  if (i >= 0) o.splice(i, 1);
  if (o.length === 1) m.set(k, o[0]!);
  else if (!o.length) m.delete(k);
}

/** The part first (or last) by endpoint name; on equal names the later-added one counts as later. */
function winner(
  o: EndpointPart | EndpointPart[] | undefined,
  which: 'first' | 'last',
): EndpointPart | undefined {
  if (!o || !Array.isArray(o)) return o;
  let best = o[0]!;
  for (const p of o.slice(1))
    if (which === 'first' ? p.sortKey < best.sortKey : p.sortKey >= best.sortKey) best = p;
  return best;
}

/**
 * Optional memory for `computeDesiredState` between calls (one per agent): what each
 * endpoint object contributed, and the per-endpoint chains. It changes nothing in the
 * result, only how much is recomputed and reallocated: with 10,000 endpoints and one
 * new one, unchanged endpoints hand back the very same objects, which is also what lets
 * the dataplane drivers skip them by identity instead of re-comparing or re-hashing.
 * Endpoints are keyed by object identity (the syncer replaces an object when it changes).
 *
 * The routes, neighbors and sysctls maps of a result computed with a cache are the
 * cache's own, updated in place by the next call (only the keys of endpoints that came,
 * went or changed): read a result before computing the next. Such a result also says
 * which keys changed since the previous one (`DesiredState.changes`), so the drivers can
 * diff just those. `full()` makes the next call rebuild everything (resync, refresh).
 */
export class CalcCache {
  readonly parts = new WeakMap<WorkloadEndpoint, EndpointPart>();
  /** The local endpoints in sorted order, as of the last call. */
  sorted: WorkloadEndpoint[] = [];
  /** Endpoint chains and dispatch subtrees, reused while equal (see `buildIptables`). */
  readonly iptables = new IptablesCache();
  /** The maintained maps; undefined = rebuild on the next call. */
  maps: EndpointMaps | undefined;
  /** Number of the last result (see `DesiredState.generation`). */
  generation = 0;

  /** The next call recomputes routes, neighbors and sysctls from scratch (and reports no delta). */
  full(): void {
    this.maps = undefined;
  }
}

/**
 * The calculation: from what etcd says (all of it; this function filters to this node),
 * the complete kernel state felix wants on this node. Pure and deterministic; `cache`
 * (see `CalcCache`) only saves work.
 */
export function computeDesiredState(inp: CalcInputs, cache?: CalcCache): DesiredState {
  const s = inp.settings;
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
  const incremental = cache?.maps !== undefined;
  const maps = cache?.maps ?? new EndpointMaps();
  const touched: Touched = { routes: new Set(), neighbors: new Set(), sysctls: new Set() };
  if (cache) {
    // Last call's order first, then the newcomers: the sort below then finds one long
    // sorted run (linear) instead of sorting 10,000 names from scratch.
    const present = new Set<WorkloadEndpoint>();
    for (const x of local) present.add(x.ep);
    const seen = new Set<WorkloadEndpoint>();
    const ordered: typeof local = [];
    for (const ep of cache.sorted)
      if (present.has(ep)) {
        ordered.push({ ep, part: part(ep) });
        seen.add(ep);
      }
    for (const x of local) if (!seen.has(x.ep)) ordered.push(x);
    local = ordered;
    // Endpoints gone since the last call leave the maps; newcomers join below.
    if (incremental) for (const ep of maps.parts.keys()) if (!present.has(ep)) maps.remove(ep, touched);
  }
  local.sort((a, b) => (a.part.sortKey < b.part.sortKey ? -1 : a.part.sortKey > b.part.sortKey ? 1 : 0));
  if (cache) cache.sorted = local.map((x) => x.ep);
  const ifaces = new Map<string, WorkloadEndpoint>();
  for (const { ep, part: p } of local) {
    if (!ifaces.has(p.dev)) ifaces.set(p.dev, ep);
    if (!maps.parts.has(ep)) maps.add(ep, p, touched);
  }
  const extraRoutes = new Map<string, DesiredRoute>();
  const extraNeighbors = new Map<string, DesiredNeighbor>();

  // Blocks: blackholes for ours, and (VXLAN) routes to the others'.
  const affinities = [...inp.affinities].filter((a) => a.state === 'confirmed');
  const owned = [
    ...new Set(affinities.filter((a) => a.node === inp.nodeName).map((a) => canonicalCidr(a.block)!)),
  ]
    .filter(Boolean)
    .sort();
  for (const b of owned) {
    const c = parseCidr(b)!;
    extraRoutes.set(routeKey({ family: c.family, dst: b }), { family: c.family, dst: b, type: 'blackhole' });
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
        extraRoutes.set(routeKey({ family: 4, dst }), {
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
      extraNeighbors.set(neighborKey(nb), nb);
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
  maps.setExtras(extraRoutes, extraNeighbors, touched);
  const out: DesiredState = {
    routes: maps.routes,
    neighbors: maps.neighbors,
    sysctls: maps.sysctls,
    ipsets: poolIpsets(s.chainPrefix, inp.pools),
    iptables,
    // buildIptables has just sorted the same names (linearly, with the cache).
    interfaces: cache ? [...cache.iptables.ifaces] : [...ifaces.keys()].sort(),
    localEndpoints: local.length,
    ownedBlocks: owned,
  };
  if (vxlan) out.vxlan = vxlan;
  if (ipip) out.ipip = ipip;
  if (cache) {
    const since = cache.generation;
    out.generation = ++cache.generation;
    if (incremental) out.changes = { since, ...touched };
    cache.maps = maps;
  }
  return out;
}
