import {
  canonicalCidr,
  cidrContains,
  cidrContainsIp,
  formatCidr,
  type Node,
  parseCidr,
  parseIp,
  type WorkloadEndpoint,
} from '@tricolor/datastore';
import { type EndpointIndex, isEndpointIndex } from './endpoint-index.js';
import { EndpointMaps, type EndpointPart, endpointPart, endpointSortKey, newTouched } from './endpoints.js';
import { IptablesCalc, noPolicy } from './iptables/chains.js';
import {
  type CalcInputs,
  type DesiredNeighbor,
  type DesiredRoute,
  type DesiredState,
  type IpipState,
  neighborKey,
  routeKey,
  type VxlanState,
} from './model.js';
import { poolIpsets } from './nat-outgoing.js';

export * from './model.js';

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
 * Memory for `computeDesiredState` between calls (one per agent): what each endpoint
 * contributed and the iptables chains built so far. It changes nothing in the result,
 * only how much is recomputed: a call visits only the endpoints that changed (read from
 * an `EndpointIndex`'s history, or found by comparing objects when given a plain list),
 * so with 10,000 endpoints one more costs what that one touches.
 *
 * The maps of a result computed with a cache are the cache's own, updated in place by
 * the next call: read a result before computing the next. Such a result also says which
 * keys and chains changed since the previous one (`DesiredState.changes`), so the drivers
 * can diff just those. `full()` makes the next call rebuild everything (after a datastore resync).
 */
export class CalcCache {
  /** The maintained state; undefined = rebuild on the next call. */
  state: CachedState | undefined;
  /** Number of the last result (see `DesiredState.generation`). */
  generation = 0;

  /** The next call recomputes everything from scratch (and reports no delta). */
  full(): void {
    this.state = undefined;
  }
}

interface CachedState {
  maps: EndpointMaps;
  iptables: IptablesCalc;
  ip6tables?: IptablesCalc;
  /** The local endpoints the maps hold, by key, with their contributions. */
  byKey: Map<string, { ep: WorkloadEndpoint; part: EndpointPart }>;
  /** The index and its position the maps reflect (index input only). */
  index?: EndpointIndex;
  seq?: number;
  pools?: CalcInputs['pools'];
}

/** The local endpoints of `inp`, by key (index keys, or namespace/name for a plain list). */
function localEndpoints(inp: CalcInputs): Map<string, WorkloadEndpoint> {
  const out = new Map<string, WorkloadEndpoint>();
  if (isEndpointIndex(inp.endpoints)) {
    for (const [k, ep] of inp.endpoints.entries()) if (ep.spec.node === inp.nodeName) out.set(k, ep);
  } else for (const ep of inp.endpoints) if (ep.spec.node === inp.nodeName) out.set(endpointSortKey(ep), ep);
  return out;
}

/**
 * The calculation: from what etcd says (all of it; this function filters to this node),
 * the complete kernel state felix wants on this node. Pure and deterministic; `cache`
 * (see `CalcCache`) only saves work.
 */
export function computeDesiredState(inp: CalcInputs, cache?: CalcCache): DesiredState {
  const s = inp.settings;
  const enabledPools = inp.pools.filter((p) => !p.spec.disabled);
  const touched = newTouched();
  const wantV6 =
    s.ipv6Support === true ||
    (s.ipv6Support === 'auto' && inp.pools.some((p) => parseCidr(p.spec.cidr)?.family === 6));

  // Local workloads: /32 (/128) routes onto the host end of the veth, static neighbors,
  // sysctls, and the interfaces the iptables chains dispatch on.
  let st = cache?.state;
  if (
    st &&
    (st.iptables.chainPrefix !== s.chainPrefix ||
      st.iptables.interfacePrefix !== s.interfacePrefix ||
      Boolean(st.ip6tables) !== wantV6)
  )
    st = undefined;
  const incremental = st !== undefined;
  if (!st)
    st = {
      maps: new EndpointMaps(),
      iptables: new IptablesCalc(s.chainPrefix, s.interfacePrefix, 4),
      ip6tables: wantV6 ? new IptablesCalc(s.chainPrefix, s.interfacePrefix, 6) : undefined,
      byKey: new Map(),
    };
  const index = isEndpointIndex(inp.endpoints) ? inp.endpoints : undefined;
  const visit = (key: string, ep: WorkloadEndpoint | undefined) => {
    const now = ep && ep.spec.node === inp.nodeName ? ep : undefined;
    const old = st.byKey.get(key);
    if (old?.ep === now) return;
    if (old) st.maps.remove(old.ep, touched);
    if (now) {
      const part = endpointPart(now);
      st.maps.add(now, part, touched);
      st.byKey.set(key, { ep: now, part });
    } else st.byKey.delete(key);
  };
  const journal =
    index && st.index === index && st.seq !== undefined ? index.changesSince(st.seq) : undefined;
  if (journal) for (const key of new Set(journal)) visit(key, index!.get(key));
  else {
    // Compare every endpoint with what the maps hold (by identity: the syncer replaces an
    // object when it changes).
    const now = localEndpoints(inp);
    for (const key of [...st.byKey.keys()]) if (!now.has(key)) visit(key, undefined);
    for (const [key, ep] of now) visit(key, ep);
  }
  st.index = index;
  st.seq = index?.seq;

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

  // iptables: the chains of the interfaces whose owner changed (first endpoint by name).
  const pools = inp.pools.filter((p) => parseCidr(p.spec.cidr));
  const owner = (iface: string) => {
    const p = st.maps.ifaceOwner(iface);
    return p ? { iface, profiles: p.profiles } : undefined;
  };
  for (const calc of [st.iptables, st.ip6tables])
    calc?.update(s, pools, inp.policy ?? noPolicy, touched.ifaces, owner);
  st.maps.setExtras(extraRoutes, extraNeighbors, touched);
  const iptablesChanged = st.iptables.takeChanged();
  const ip6tablesChanged = st.ip6tables?.takeChanged();
  const out: DesiredState = {
    routes: st.maps.routes,
    neighbors: st.maps.neighbors,
    sysctls: st.maps.sysctls,
    ipsets: poolIpsets(s.chainPrefix, inp.pools, wantV6 ? [4, 6] : [4]),
    iptables: st.iptables.state(),
    interfaces: [...st.iptables.ifaces],
    localEndpoints: st.byKey.size,
    ownedBlocks: owned,
  };
  if (st.ip6tables) out.ip6tables = st.ip6tables.state();
  if (vxlan) out.vxlan = vxlan;
  if (ipip) out.ipip = ipip;
  if (cache) {
    const since = cache.generation;
    out.generation = ++cache.generation;
    if (incremental) {
      out.changes = { since, ...touched, iptables: iptablesChanged };
      if (ip6tablesChanged) out.changes.ip6tables = ip6tablesChanged;
    }
    cache.state = st;
  }
  return out;
}
