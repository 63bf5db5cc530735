import type { FdbEntry, Neighbor, Route } from '../dataplane/items.js';
import type { KernelState } from '../dataplane/kernel-state.js';
import { Arbiter } from './arbiter.js';
import { IptablesFamilies } from './iptables/families.js';

/** Source names of contributions (see Arbiter): endpoints by namespace/name, blocks, remote VTEPs, the host. */
export const src = {
  endpoint: (sortKey: string) => `ep:${sortKey}`,
  block: (affinityKey: string) => `bh:${affinityKey}`,
  vtep: (node: string) => `vx:${node}`,
  host: 'host',
} as const;

const rank = (s: string) => (s.startsWith('vx:') ? 2 : s.startsWith('bh:') ? 1 : 0);

/**
 * Where the calculators' results go: the trackers of a KernelState, behind arbiters where
 * several calculators can want one key. Precedence (kept from felix's first calculation):
 * a route to a remote block through the tunnel beats this node's blackhole of that block,
 * which beats an endpoint's /32; among endpoints the first by namespace/name wins a route
 * and the last a neighbor; among remote nodes the last by name wins; the host's sysctls
 * win over an interface's.
 */
export class Outputs {
  readonly routes: Arbiter<Route>;
  readonly neighbors: Arbiter<Neighbor>;
  readonly sysctls: Arbiter<string>;
  readonly fdb: Arbiter<FdbEntry>;
  readonly iptables: IptablesFamilies;

  constructor(readonly state: KernelState) {
    this.routes = new Arbiter(state.routes, (a, b) => {
      const ra = rank(a);
      const rb = rank(b);
      if (ra !== rb) return ra > rb;
      return ra === 0 ? a < b : a > b;
    });
    this.neighbors = new Arbiter(state.neighbors, (a, b) => {
      const ra = rank(a);
      const rb = rank(b);
      return ra !== rb ? ra > rb : a > b;
    });
    this.sysctls = new Arbiter(state.sysctls, (a, b) => a === src.host && b !== src.host);
    this.fdb = new Arbiter(state.fdb, () => false);
    this.iptables = new IptablesFamilies(state.iptables);
  }
}
