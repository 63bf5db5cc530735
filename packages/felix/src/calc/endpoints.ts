import { formatCidr, parseCidr, type WorkloadEndpoint } from '@tricolor/datastore';
import { type DesiredNeighbor, type DesiredRoute, neighborKey, routeKey } from './model.js';

/** Endpoints are ordered (for precedence) by namespace/name. */
export const endpointSortKey = (ep: WorkloadEndpoint) => `${ep.metadata.namespace}/${ep.metadata.name}`;

/** What one local endpoint contributes (routes, neighbors, sysctls); a function of the endpoint only. */
export interface EndpointPart {
  sortKey: string;
  dev: string;
  /** Policy names (profiles) that apply, in order. */
  profiles: string[];
  routes: [string, DesiredRoute][];
  neighbors: [string, DesiredNeighbor][];
  sysctls: [string, string][];
  v6: boolean;
}

export function endpointPart(ep: WorkloadEndpoint): EndpointPart {
  const dev = ep.spec.interfaceName;
  const part: EndpointPart = {
    sortKey: endpointSortKey(ep),
    dev,
    profiles: ep.spec.profiles,
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
 * An interface claimed by several endpoints belongs to the first by name (its profiles
 * are the ones its chains enforce).
 */
export class EndpointMaps {
  readonly parts = new Map<WorkloadEndpoint, EndpointPart>();
  readonly routes = new Map<string, DesiredRoute>();
  readonly neighbors = new Map<string, DesiredNeighbor>();
  readonly sysctls = new Map<string, string>();
  /** Key → the contributing parts (one, or several when endpoints collide). */
  private readonly routeOwners = new Map<string, EndpointPart | EndpointPart[]>();
  private readonly neighborOwners = new Map<string, EndpointPart | EndpointPart[]>();
  private readonly ifaceOwners = new Map<string, EndpointPart | EndpointPart[]>();
  private readonly sysctlRefs = new Map<string, number>();
  private v6Parts = 0;
  private extraRoutes = new Map<string, DesiredRoute>();
  private extraNeighbors = new Map<string, DesiredNeighbor>();
  private extraSysctls = new Map<string, string>();

  add(ep: WorkloadEndpoint, p: EndpointPart, t: Touched): void {
    this.parts.set(ep, p);
    for (const [k] of p.routes) ownerAdd(this.routeOwners, k, p, t.routes);
    for (const [k] of p.neighbors) ownerAdd(this.neighborOwners, k, p, t.neighbors);
    ownerAdd(this.ifaceOwners, p.dev, p, t.ifaces);
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
    ownerRemove(this.ifaceOwners, p.dev, p, t.ifaces);
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

  /** The endpoint an interface belongs to (the first by name), if any. */
  ifaceOwner(iface: string): EndpointPart | undefined {
    return winner(this.ifaceOwners.get(iface), 'first');
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

/** Keys whose entries may have changed in one calculation. */
export interface Touched {
  routes: Set<string>;
  neighbors: Set<string>;
  sysctls: Set<string>;
  /** Workload interfaces whose owning endpoint came, went or changed. */
  ifaces: Set<string>;
}

export const newTouched = (): Touched => ({
  routes: new Set(),
  neighbors: new Set(),
  sysctls: new Set(),
  ifaces: new Set(),
});

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
