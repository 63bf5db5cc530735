import { HOST_SYSCTLS, workloadSysctls } from '@tricolor/contract';
import { formatCidr, parseCidr, type WorkloadEndpoint } from '@tricolor/datastore';
import { type Neighbor, neighborKey, type Route, routeKey } from '../dataplane/items.js';
import { Arbiter } from './arbiter.js';
import type { CalcGraph, Calculator, LocalEndpoint } from './graph.js';
import { type Outputs, src } from './outputs.js';

/** Endpoints are ordered (for precedence) by namespace/name. */
export const endpointSortKey = (ep: WorkloadEndpoint) => `${ep.metadata.namespace}/${ep.metadata.name}`;

/** What one local endpoint contributes; a function of the endpoint only. */
interface EndpointPart {
  src: string;
  dev: string;
  routes: [string, Route][];
  neighbors: [string, Neighbor][];
  sysctls: [string, string][];
  v6: boolean;
  local: LocalEndpoint;
}

function endpointPart(key: string, ep: WorkloadEndpoint): EndpointPart {
  const dev = ep.spec.interfaceName;
  const part: EndpointPart = {
    src: src.endpoint(endpointSortKey(ep)),
    dev,
    routes: [],
    neighbors: [],
    sysctls: [],
    v6: false,
    local: Object.freeze({ iface: dev, key, endpoint: ep, profiles: ep.spec.profiles }),
  };
  for (const net of ep.spec.ipNetworks) {
    const c = parseCidr(net);
    if (!c) continue;
    const dst = formatCidr({ ...c, prefixLength: c.family === 4 ? 32 : 128 });
    if (c.family === 6) part.v6 = true;
    part.routes.push([
      routeKey({ family: c.family, dst }),
      Object.freeze({ family: c.family, dst, type: 'unicast', dev, scope: 'link' }),
    ]);
    if (ep.spec.mac) {
      const ip = dst.split('/')[0]!;
      part.neighbors.push([
        neighborKey({ dev, ip }),
        Object.freeze({ ip, mac: ep.spec.mac.toLowerCase(), dev }),
      ]);
    }
  }
  part.sysctls = workloadSysctls(dev, part.v6);
  return part;
}

/**
 * This node's workload endpoints: a /32 (/128) route onto each endpoint's host interface,
 * a permanent neighbor for its MAC, the interface's sysctls, host forwarding; and, for the
 * iptables and policy calculators, `localEndpoint` per interface (the first endpoint by
 * name owns an interface). One endpoint change costs what that endpoint touches.
 */
export class EndpointCalculator implements Calculator {
  private readonly parts = new Map<string, EndpointPart>();
  private readonly owners: Arbiter<LocalEndpoint>;
  private v6Endpoints = 0;
  private graph: CalcGraph | undefined;

  constructor(
    private readonly nodeName: string,
    private readonly out: Outputs,
  ) {
    this.owners = new Arbiter(
      {
        setDesired: (iface, ep) => this.graph!.emit('localEndpoint', iface, ep),
        deleteDesired: (iface) => this.graph!.emit('localEndpoint', iface, undefined),
      },
      (a, b) => a < b,
    );
    const [k, v] = HOST_SYSCTLS.ipv4Forwarding;
    out.sysctls.put(k, src.host, v);
  }

  /** Local endpoints. */
  get count(): number {
    return this.parts.size;
  }

  register(g: CalcGraph): void {
    this.graph = g;
    g.on('endpoint', (key, ep) => {
      const old = this.parts.get(key);
      const local = ep && ep.spec.node === this.nodeName ? ep : undefined;
      if (old?.local.endpoint === local) return;
      if (old) this.remove(old);
      if (local) this.add(key, local);
      else this.parts.delete(key);
    });
  }

  private add(key: string, ep: WorkloadEndpoint): void {
    const p = endpointPart(key, ep);
    this.parts.set(key, p);
    const o = this.out;
    for (const [k, r] of p.routes) o.routes.put(k, p.src, r);
    for (const [k, n] of p.neighbors) o.neighbors.put(k, p.src, n);
    for (const [k, v] of p.sysctls) o.sysctls.put(k, p.src, v);
    if (p.v6 && this.v6Endpoints++ === 0) o.sysctls.put(HOST_SYSCTLS.ipv6Forwarding[0], src.host, '1');
    this.owners.put(p.dev, p.src, p.local);
  }

  private remove(p: EndpointPart): void {
    const o = this.out;
    for (const [k] of p.routes) o.routes.remove(k, p.src);
    for (const [k] of p.neighbors) o.neighbors.remove(k, p.src);
    for (const [k] of p.sysctls) o.sysctls.remove(k, p.src);
    if (p.v6 && --this.v6Endpoints === 0) o.sysctls.remove(HOST_SYSCTLS.ipv6Forwarding[0], src.host);
    this.owners.remove(p.dev, p.src);
  }
}
