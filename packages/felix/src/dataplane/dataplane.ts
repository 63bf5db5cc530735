import { TABLES } from '../calc/iptables/rules.js';
import { IpsetDriver } from './ipsets.js';
import { IptablesDriver } from './iptables.js';
import type { KernelIO } from './kernel-io.js';
import type { KernelState } from './kernel-state.js';
import { NeighborDriver, type NeighborReport } from './neighbors.js';
import { type DataplaneObserver, NO_OBSERVER } from './observer.js';
import { RouteDriver } from './routes.js';
import { SysctlDriver } from './sysctl.js';
import { TunnelDriver } from './tunnels.js';

export interface ApplyReport {
  routeCommands: number;
  /** Routes and sysctls left pending because their device does not exist (yet). */
  waitingRoutes: number;
  /** Destinations left pending because an operator's route holds them. */
  conflicts: string[];
  sysctlsWritten: number;
  /** iptables chains written and deleted, and hook chains fixed, both families. */
  iptablesChanged: number;
  /** The chains written per family and table (`'4'`, `'6'`). */
  iptablesWritten: Record<string, Record<string, string[]>>;
  ipsetsChanged: boolean;
  tunnelCommands: number;
  ipipUnsupported: boolean;
  /** Per-phase milliseconds. */
  timings: Record<string, number>;
  /** Rules and chains per table, per IP family (`'4'`, and `'6'` while IPv6 tables are programmed). */
  rules: Record<string, Record<string, number>>;
  chains: Record<string, Record<string, number>>;
}

export type { NeighborReport };

/**
 * The drivers, run over the trackers of a `KernelState`: each reads its kind of kernel
 * object when its view is unknown and writes what is pending. A steady-state apply with
 * nothing pending runs no process at all; one more endpoint is one line to the
 * long-running `ip -batch` and one `iptables-restore` of its chains.
 *
 * `apply` is the critical path of a change, in two lanes run side by side: sysctls →
 * tunnels → routes; ipsets → iptables of both families concurrently → stale ipsets
 * destroyed. Static neighbors are a lane of their own, `applyNeighbors`, run after each
 * apply and coalescing everything pending since its last run: the entry only saves the
 * first packet one ARP round (the CNI plugin writes the pod's neighbor at ADD, and the
 * host end resolves by ARP without one), so it is not on the critical path.
 *
 * Refreshes read the kernel beside the applies; what the applies write meanwhile wins over
 * the read (see DeltaTracker), and what drifted becomes pending for the next apply.
 */
export class Dataplane {
  readonly routes: RouteDriver;
  readonly neighbors: NeighborDriver;
  readonly sysctls: SysctlDriver;
  readonly tunnels: TunnelDriver;
  readonly ipsets: IpsetDriver;
  readonly iptables: IptablesDriver;
  /** The IPv6 tables; undefined where ip6tables cannot be used (the agent finds that out at start). */
  readonly ip6tables: IptablesDriver | undefined;

  constructor(
    readonly state: KernelState,
    readonly io: KernelIO,
    opts: { ipv6: boolean; observer?: DataplaneObserver },
  ) {
    const o = state.opts;
    const observer = opts.observer ?? NO_OBSERVER;
    this.routes = new RouteDriver(state.routes, io, o.interfacePrefix, observer);
    this.neighbors = new NeighborDriver(state.neighbors, io);
    this.sysctls = new SysctlDriver(state.sysctls, io);
    this.tunnels = new TunnelDriver(state.tunnels, state.fdb, state, io, o.vxlanDevice);
    this.ipsets = new IpsetDriver(state.ipsets, state.ipsetMembers, io, o.chainPrefix, observer);
    this.iptables = new IptablesDriver(4, state.iptables[4], io, state.renderer, observer);
    if (opts.ipv6) this.ip6tables = new IptablesDriver(6, state.iptables[6], io, state.renderer, observer);
  }

  /** Both families' iptables drivers. */
  get iptablesDrivers(): IptablesDriver[] {
    return this.ip6tables ? [this.iptables, this.ip6tables] : [this.iptables];
  }

  /** Whether the neighbor lane has work. */
  get neighborsPending(): boolean {
    return this.state.neighbors.pendingCount > 0 || !this.state.neighbors.synced;
  }

  async apply(): Promise<ApplyReport> {
    const timings: Record<string, number> = {};
    const time = async <T>(name: string, f: () => Promise<T> | T): Promise<T> => {
      const t0 = performance.now();
      try {
        return await f();
      } finally {
        timings[name] = (timings[name] ?? 0) + performance.now() - t0;
      }
    };
    // Two independent lanes, so a change costs the slower, not the sum: the firewall
    // (ipsets the chains name, both families' chains, then ipsets nobody names any more);
    // and sysctls, tunnel devices, routes (some go through a tunnel device). Sysctls and
    // routes do not overlap: a write to a `forwarding` sysctl waits for the RTNL lock by
    // restarting the system call, and route writes hold that lock — run together, each
    // slows the other down several-fold (measured at 10,000 endpoints).
    const firewall = (async () => {
      const ipsets = await time('ipsets', () => this.ipsets.apply());
      const [v4, v6] = await time('iptables', () => Promise.all(this.iptablesDrivers.map((d) => d.apply())));
      await time('ipsetDestroy', () => this.ipsets.destroyStale());
      return { ipsets, v4: v4!, v6 };
    })();
    const sysctls = time('sysctls', () => this.sysctls.apply());
    const tunnels = sysctls.then(() => time('tunnels', () => this.tunnels.apply()));
    const routes = tunnels.then(() => time('routes', () => this.routes.apply()));
    const settled = await Promise.allSettled([sysctls, tunnels, routes, firewall]);
    for (const r of settled) if (r.status === 'rejected') throw r.reason;
    const sys = await sysctls;
    const tun = await tunnels;
    const rt = await routes;
    const fw = await firewall;
    this.state.renderer.prune((name) =>
      TABLES.some(
        (t) =>
          this.state.iptables[4][t].chains.desired.has(name) ||
          this.state.iptables[6][t].chains.desired.has(name),
      ),
    );
    const rules: ApplyReport['rules'] = {};
    const chains: ApplyReport['chains'] = {};
    const written: ApplyReport['iptablesWritten'] = {};
    for (const d of this.iptablesDrivers) {
      const v = String(d.family);
      const tr = this.state.iptables[d.family];
      rules[v] = {};
      chains[v] = {};
      for (const t of TABLES) {
        rules[v][t] = tr[t].hooks.desired.size + tr[t].chains.desiredWeight;
        chains[v][t] = tr[t].chains.desired.size;
      }
    }
    let iptablesChanged = 0;
    for (const x of [fw.v4, fw.v6]) {
      if (!x) continue;
      iptablesChanged += x.changedChains + x.deletedChains + x.hookChanges;
    }
    written['4'] = fw.v4.written;
    if (fw.v6) written['6'] = fw.v6.written;
    return {
      routeCommands: rt.commands,
      waitingRoutes: rt.waiting + sys.waiting,
      conflicts: rt.conflicts,
      sysctlsWritten: sys.written,
      iptablesChanged,
      iptablesWritten: written,
      ipsetsChanged: fw.ipsets,
      tunnelCommands: tun.commands,
      ipipUnsupported: this.tunnels.ipipUnsupported,
      timings,
      rules,
      chains,
    };
  }

  /** The neighbor lane (see the class comment). */
  async applyNeighbors(): Promise<NeighborReport & { timings: Record<string, number> }> {
    const t0 = performance.now();
    const rep = await this.neighbors.apply();
    return { ...rep, timings: { neighbors: performance.now() - t0 } };
  }

  /**
   * The route refresh timer: routes, neighbors, tunnel devices and FDB re-read beside the
   * applies (`ip -json route` of 10,000 routes is streamed and parsed while ip prints).
   */
  async refreshRoutes(): Promise<void> {
    await Promise.all([this.routes.read(), this.neighbors.read(), this.tunnels.read()]);
  }

  /** Re-reads every sysctl felix set, beside the applies; returns how many are pending after. */
  refreshSysctls(): Promise<number> {
    return this.sysctls.refresh();
  }

  /** The iptables refresh timer: both families' tables and the ipsets re-read beside the applies. */
  async refreshIptables(): Promise<void> {
    await Promise.all([...this.iptablesDrivers.map((d) => d.read()), this.ipsets.read()]);
  }

  /** A route of felix's was deleted by someone else: read routes (and neighbors) again before writing. */
  invalidateRoutes(): void {
    this.state.routes.invalidate();
    this.state.neighbors.invalidate();
  }

  /**
   * A device went (`ip monitor`): the kernel removed its routes, neighbors, FDB entries and
   * sysctls with it; those felix still wants are pending again (and wait for the device).
   */
  deviceGone(dev: string): void {
    const st = this.state;
    this.io.devicesChanged();
    const part = `/${dev}/`;
    st.sysctls.forgetDataplane((k) => k.includes(part));
    for (const t of [st.routes, st.neighbors, st.fdb] as {
      forgetDataplane(w: (k: string, p: { dev?: string }) => boolean): void;
    }[])
      t.forgetDataplane((_k, p) => p.dev === dev);
    st.tunnels.forgetDataplane((k) => k === dev);
  }

  /** Ends the long-running tools (the agent's stop). */
  close(): void {
    this.io.close();
  }

  /** After a failed apply: every view is read again before the next write. */
  invalidateAll(): void {
    for (const t of this.state.all()) t.invalidate();
    this.state.sysctls.assumeEmpty();
  }
}
