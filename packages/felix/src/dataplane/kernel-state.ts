import type { KernelRoute } from '@tricolor/linux';
import { type Chain, type HookJump, sameRules, TABLES, type Table } from '../calc/iptables/rules.js';
import { DeltaTracker } from '../tracker/delta-tracker.js';
import { hookInSync, type ParsedChain, Renderer, sameHashes } from './iptables-render.js';
import {
  type FdbEntry,
  type IpsetMeta,
  isOwnedNeighbor,
  isOwnedRoute,
  type LinkObservation,
  type Neighbor,
  type Route,
  sameRoute,
  splitMemberKey,
  type TunnelDevice,
} from './items.js';
import { tunnelInSync } from './tunnels.js';

/** One table of one IP family: felix's chains, and its jump at the top of each kernel hook chain. */
export interface TableTrackers {
  /** User chains by name; the dataplane view holds foreign chains too (never felix's to touch). */
  chains: DeltaTracker<string, Chain, ParsedChain>;
  /** Builtin chains (`FORWARD`, …) by name: the jump felix wants first in each, against its rules. */
  hooks: DeltaTracker<string, HookJump, ParsedChain>;
}

export type IptablesTrackers = Record<Table, TableTrackers>;

export interface KernelStateOptions {
  chainPrefix: string;
  interfacePrefix: string;
  vxlanDevice: string;
}

/**
 * Everything felix wants in the kernel and everything it knows the kernel has: one
 * DeltaTracker per kind of kernel object. The calculation graph sets and deletes desired
 * items; the drivers read the kernel into the dataplane side and write what is pending.
 *
 * A new kind of kernel object gets its item type in `items.ts`, its tracker here, a driver
 * in this folder (read the kernel, write the pending items) that `Dataplane` runs, and a
 * calculator in `calc/` that emits its desired items.
 */
export class KernelState {
  readonly routes: DeltaTracker<string, Route, KernelRoute>;
  readonly neighbors: DeltaTracker<string, Neighbor>;
  readonly sysctls = new DeltaTracker<string, string>({ owned: () => false, forgetUnowned: true });
  readonly tunnels: DeltaTracker<string, TunnelDevice, LinkObservation>;
  readonly fdb = new DeltaTracker<string, FdbEntry>({ inSync: () => true });
  readonly ipsets: DeltaTracker<string, IpsetMeta>;
  /** Members of felix's sets, keyed `<set> <member>` (`memberKey`). */
  readonly ipsetMembers: DeltaTracker<string, true>;
  readonly iptables: Record<4 | 6, IptablesTrackers>;
  /** Renders (and hashes) chains once per chain object, for the trackers' comparisons and the driver. */
  readonly renderer: Renderer;

  constructor(readonly opts: KernelStateOptions) {
    const { chainPrefix, interfacePrefix, vxlanDevice } = opts;
    this.routes = new DeltaTracker({
      inSync: sameRoute,
      owned: (_k, r) => isOwnedRoute(r, interfacePrefix),
      // A running count of the IPv6 routes (felix_route_table_num_routes{ip_version}).
      weigh: (r) => (r.dst.includes(':') ? 1 : 0),
    });
    this.neighbors = new DeltaTracker({
      inSync: (d, p) => d.mac === p.mac,
      owned: (_k, n) => isOwnedNeighbor(n, interfacePrefix, [vxlanDevice]),
    });
    this.tunnels = new DeltaTracker({ inSync: tunnelInSync, owned: (k) => k === vxlanDevice });
    const ours = (name: string) => name.startsWith(chainPrefix);
    this.ipsets = new DeltaTracker({
      inSync: (d, p) => d.type === p.type && d.family === p.family,
      sameDesired: (a, b) => a.type === b.type && a.family === b.family,
      owned: (k) => ours(k),
    });
    this.ipsetMembers = new DeltaTracker({ owned: (k) => ours(splitMemberKey(k)[0]) });
    this.renderer = new Renderer(chainPrefix);
    const r = this.renderer;
    const family = (): IptablesTrackers => {
      const out = {} as IptablesTrackers;
      for (const t of TABLES)
        out[t] = {
          chains: new DeltaTracker<string, Chain, ParsedChain>({
            inSync: (c, p) => {
              const rc = r.render(c);
              return p === rc || sameHashes(rc.hashes, p.hashes);
            },
            sameDesired: (a, b) => sameRules(a.rules, b.rules),
            owned: (name) => ours(name),
            weigh: (c) => c.rules.length,
          }),
          hooks: new DeltaTracker<string, HookJump, ParsedChain>({
            inSync: (j, p) => hookInSync(j, p, chainPrefix),
            owned: (_k, p) => p.hashes.some((h) => h !== undefined),
          }),
        };
      return out;
    };
    this.iptables = { 4: family(), 6: family() };
  }

  /** Every tracker, for what applies to all of them. */
  all(): DeltaTracker<string, unknown, unknown>[] {
    return this.byKind().map(([, t]) => t);
  }

  /**
   * Every tracker with the name of its kind (`route`, `iptablesChain`, …; both IP families'
   * and every table's iptables trackers share one name): `felix_int_dataplane_messages{type}`.
   */
  byKind(): [string, DeltaTracker<string, unknown, unknown>][] {
    const out = [
      ['route', this.routes],
      ['neighbor', this.neighbors],
      ['sysctl', this.sysctls],
      ['tunnel', this.tunnels],
      ['fdb', this.fdb],
      ['ipset', this.ipsets],
      ['ipsetMember', this.ipsetMembers],
    ] as [string, DeltaTracker<string, unknown, unknown>][];
    for (const f of [4, 6] as const)
      for (const t of TABLES)
        out.push(
          ['iptablesChain', this.iptables[f][t].chains as DeltaTracker<string, unknown, unknown>],
          ['iptablesHook', this.iptables[f][t].hooks as DeltaTracker<string, unknown, unknown>],
        );
    return out;
  }
}
