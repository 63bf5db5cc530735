import type { DesiredNeighbor, DesiredState } from '../calc/desired-state.js';
import { FELIX_RT_PROTO, routeKey } from '../calc/desired-state.js';
import { countRules, type IptablesState, TABLES } from '../calc/iptables/rules.js';
import type { FelixSettings } from '../config-types.js';
import { cmd } from './exec.js';
import { IpsetDriver } from './ipsets.js';
import { type Backend, IptablesDriver } from './iptables.js';
import { diffNeighbors, neighborMap, readNeighbors } from './neighbors.js';
import { diffRoutes, type KernelRoute, linkExists, readRoutes, routeMap } from './routes.js';
import { keepWritten } from './staged-read.js';
import { SysctlDriver } from './sysctl.js';
import { applyIpip, applyVxlan } from './vxlan.js';

/** A route re-read running beside the applies (see `Dataplane.refreshRoutes`). */
interface StagedRoutes {
  routes?: Map<string, KernelRoute>;
  /** Keys the applies wrote (replaced or deleted) while it ran. */
  written: Set<string>;
}

export interface ApplyReport {
  routeCommands: number;
  waitingRoutes: number;
  conflicts: string[];
  sysctlsWritten: number;
  iptablesChanged: number;
  ipsetsChanged: boolean;
  ipipUnsupported: boolean;
  /** Whether routes and sysctls were diffed by the calculation's delta only. */
  incremental: boolean;
  /** Per-phase milliseconds. */
  timings: Record<string, number>;
  /** Rules and chains per table, per IP family (`'4'`, and `'6'` with IPv6 support). */
  rules: Record<string, Record<string, number>>;
  chains: Record<string, Record<string, number>>;
}

export interface NeighborReport {
  commands: number;
  /** Whether only the keys changed since the last neighbor apply were diffed. */
  incremental: boolean;
  timings: Record<string, number>;
}

/**
 * All kernel drivers behind one `apply(desired)`. Each driver keeps a model of the
 * kernel that it trusts until invalidated (refresh timer, netlink event, error), so a
 * steady-state apply costs no process at all and a one-endpoint change costs one
 * `ip -batch` and one `iptables-restore`. When the desired state carries the
 * calculation's delta (`DesiredState.changes`) relative to the state this dataplane
 * applied last, routes and sysctls are diffed for those keys only.
 *
 * Static neighbors are a separate lane: `apply` records which neighbor keys changed and
 * `applyNeighbors` writes them afterwards, coalescing every apply since its last run into
 * one `ip neigh` batch. They are not on the critical path of an endpoint change: the CNI
 * plugin writes the pod's permanent neighbor at ADD, and without one the kernel resolves
 * the pod by ARP (one round); so routes, sysctls and iptables — what makes a pod usable and
 * allowed — are not held up by `ip neigh`'s dump of every link (~50–100 ms at 10,000).
 */
export class Dataplane {
  private routes: Map<string, KernelRoute> | undefined;
  private stagedRoutes: StagedRoutes | undefined;
  private neighbors: Map<string, DesiredNeighbor> | undefined;
  private tunnelsKey: string | undefined;
  /** `generation` of the last desired state fully applied (routes, sysctls), for deltas. */
  private appliedGeneration: number | undefined;
  /** Keys of routes left out last time (device missing, operator conflict): retried each apply. */
  private routeRetry = new Set<string>();
  /** Neighbor work recorded by `apply` for `applyNeighbors`. */
  private neighborWork: { desired: Map<string, DesiredNeighbor>; keys: Set<string> | 'all' } | undefined;
  /** Neighbor keys left out last time (device missing): retried each neighbor apply. */
  private neighborRetry = new Set<string>();
  readonly sysctls = new SysctlDriver();
  readonly ipsets: IpsetDriver;
  readonly iptables: IptablesDriver;
  /** The IPv6 tables, unless `ipv6Support` is false (the agent sets that when ip6tables is unusable). */
  readonly ip6tables: IptablesDriver | undefined;

  constructor(
    readonly settings: FelixSettings,
    readonly backend: Backend,
  ) {
    this.ipsets = new IpsetDriver(settings.chainPrefix);
    this.iptables = new IptablesDriver(backend, settings.chainPrefix, 4);
    if (settings.ipv6Support !== false) this.ip6tables = new IptablesDriver(backend, settings.chainPrefix, 6);
  }

  /** Both families' drivers. */
  get iptablesDrivers(): IptablesDriver[] {
    return this.ip6tables ? [this.iptables, this.ip6tables] : [this.iptables];
  }

  invalidateRoutes(): void {
    this.routes = undefined;
    this.stagedRoutes = undefined;
    this.neighbors = undefined;
    this.tunnelsKey = undefined;
    if (this.neighborWork) this.neighborWork.keys = 'all';
  }

  invalidateSysctls(): void {
    this.sysctls.invalidate();
  }

  /**
   * The route refresh timer's re-read, beside the applies (`ip -json route` of 10,000
   * routes is ~0.1–0.4 s): resolves when the routes are read; the next apply then diffs
   * every route against them, except those that applies wrote while the read ran (the model
   * is newer for those). Neighbors are re-read by their own lane.
   */
  async refreshRoutes(): Promise<void> {
    this.neighbors = undefined;
    this.tunnelsKey = undefined; // the tunnel device and its FDB are checked again too
    if (this.neighborWork) this.neighborWork.keys = 'all';
    if (!this.routes || this.stagedRoutes) return;
    const staged: StagedRoutes = { written: new Set() };
    this.stagedRoutes = staged;
    try {
      staged.routes = routeMap(await readRoutes());
    } catch {
      if (this.stagedRoutes === staged) this.invalidateRoutes();
    }
  }

  /** Re-reads every sysctl felix set, off the critical path; drifted ones are rewritten by the next apply. */
  refreshSysctls(): Promise<number> {
    return this.sysctls.verify();
  }

  invalidateIptables(): void {
    for (const d of this.iptablesDrivers) d.invalidate();
    this.ipsets.invalidate();
  }

  /**
   * The iptables refresh: re-reads both families in the background (see
   * `IptablesDriver.refresh`) and the ipsets at the next apply; resolves when the next
   * apply can diff everything against the fresh read.
   */
  async refreshIptables(): Promise<void> {
    await Promise.all(this.iptablesDrivers.map((d) => d.refresh()));
    this.ipsets.invalidate();
  }

  invalidateAll(): void {
    this.invalidateRoutes();
    this.invalidateSysctls();
    this.invalidateIptables();
    this.appliedGeneration = undefined;
  }

  /** Whether `applyNeighbors` has work (changes recorded by `apply`, or a re-read due). */
  get neighborsPending(): boolean {
    return this.neighborWork !== undefined;
  }

  /**
   * The critical path of a change: sysctls, tunnels, routes and ipsets+iptables (the last
   * two concurrently). Neighbor changes are only recorded; `applyNeighbors` writes them.
   */
  async apply(d: DesiredState): Promise<ApplyReport> {
    const s = this.settings;
    const timings: Record<string, number> = {};
    const t = (name: string, t0: number) => {
      timings[name] = (timings[name] ?? 0) + performance.now() - t0;
    };
    const delta = d.changes && d.changes.since === this.appliedGeneration ? d.changes : undefined;
    this.appliedGeneration = undefined; // until this apply succeeds
    let t0 = performance.now();
    const sys = this.sysctls.apply(d.sysctls, delta?.sysctls);
    t('sysctls', t0);

    t0 = performance.now();
    const tunnelsKey = JSON.stringify([d.vxlan, d.ipip]);
    let ipipUnsupported = false;
    if (tunnelsKey !== this.tunnelsKey) {
      await applyVxlan(d.vxlan, s.vxlanDevice);
      ipipUnsupported = !(await applyIpip(d.ipip, d.vxlan?.device.localIP));
      this.tunnelsKey = tunnelsKey;
      this.neighbors = undefined; // a recreated device loses its neighbors
    }
    t('tunnels', t0);
    this.recordNeighbors(d);

    // Routes and iptables are independent kernel state: program them concurrently, so
    // one change costs the slower of the two, not their sum.
    t0 = performance.now();
    let incremental = delta !== undefined;
    if (this.routes && this.stagedRoutes?.routes) {
      const fresh = this.stagedRoutes.routes;
      keepWritten(fresh, this.routes, this.stagedRoutes.written);
      this.routes = fresh;
      this.stagedRoutes = undefined;
      incremental = false;
    }
    if (!this.routes) {
      this.stagedRoutes = undefined;
      this.routes = routeMap(await readRoutes());
      incremental = false;
    }
    // Local reference: a netlink event may invalidate the model while we wait for `ip`.
    const routes = this.routes;
    const rd = diffRoutes(
      d.routes,
      routes,
      s.interfacePrefix,
      linkExists,
      incremental && delta ? [...delta.routes, ...this.routeRetry] : undefined,
    );
    this.routeRetry = new Set(
      [...rd.waiting, ...rd.conflicts].map((dst) => routeKey({ family: dst.includes(':') ? 6 : 4, dst })),
    );
    t('diff', t0);
    const firewall = async () => {
      let t1 = performance.now();
      const ips = await this.ipsets.apply(d.ipsets);
      t('ipsets', t1);
      t1 = performance.now();
      // The two families are separate kernel tables: restored concurrently.
      // No IPv6 tables wanted (no IPv6 pool, with 'auto'): an empty state removes ours.
      const [ipt, ip6t] = await Promise.all([
        this.iptables.apply(d.iptables, delta?.iptables),
        this.ip6tables?.apply(d.ip6tables ?? EMPTY_TABLES, d.ip6tables ? delta?.ip6tables : undefined),
      ]);
      t('iptables', t1);
      return { ips, ipt, ip6t };
    };
    const [rr, fr] = await Promise.allSettled([
      ipBatch('routes', rd.commands, t).then(() => {
        // The kernel now holds what we wrote: bring the model along (only the entries the
        // batch touched) without re-reading; the refresh timer re-reads everything.
        for (const k of rd.deleted) routes.delete(k);
        for (const [k, r] of rd.replaced) routes.set(k, { ...r, protocol: String(FELIX_RT_PROTO) });
        const staged = this.stagedRoutes;
        if (staged)
          for (const k of [...rd.deleted, ...rd.replaced.map(([key]) => key)]) staged.written.add(k);
      }),
      firewall(),
    ]);
    if (rr.status === 'rejected') this.invalidateRoutes();
    for (const r of [rr, fr]) if (r.status === 'rejected') throw r.reason;
    const { ips, ipt, ip6t } = (fr as PromiseFulfilledResult<Awaited<ReturnType<typeof firewall>>>).value;
    if (ips.stale.length) await this.ipsets.destroy(ips.stale);
    this.appliedGeneration = d.generation;

    const rules: ApplyReport['rules'] = {};
    const chains: ApplyReport['chains'] = {};
    for (const [v, st] of [
      ['4', d.iptables],
      ['6', this.ip6tables ? (d.ip6tables ?? EMPTY_TABLES) : undefined],
    ] as const) {
      if (!st) continue;
      rules[v] = countRules(st);
      chains[v] = {};
      for (const tb of TABLES) chains[v][tb] = st[tb].chains.size;
    }
    return {
      routeCommands: rd.commands.length,
      waitingRoutes: rd.waiting.length + sys.missing,
      conflicts: rd.conflicts,
      sysctlsWritten: sys.written,
      iptablesChanged: [ipt, ip6t].reduce(
        (n, x) => n + (x ? x.changedChains + x.deletedChains + x.hookChanges : 0),
        0,
      ),
      ipsetsChanged: ips.changed,
      ipipUnsupported,
      incremental,
      timings,
      rules,
      chains,
    };
  }

  /** Generation of the last desired state whose neighbor changes were recorded. */
  private neighborGeneration: number | undefined;

  /** Adds `d`'s neighbor changes to the neighbor lane's work (everything if the chain of deltas broke). */
  private recordNeighbors(d: DesiredState): void {
    const chained = d.changes !== undefined && d.changes.since === this.neighborGeneration;
    this.neighborGeneration = d.generation;
    this.neighborWork ??= { desired: d.neighbors, keys: new Set() };
    const w = this.neighborWork;
    w.desired = d.neighbors;
    if (!chained || !d.changes) w.keys = 'all';
    else if (w.keys !== 'all') for (const k of d.changes.neighbors) w.keys.add(k);
  }

  /**
   * The neighbor lane: writes the neighbor changes recorded by every `apply` since the
   * last call, in one `ip -batch` (a full diff after an invalidation or without deltas).
   */
  async applyNeighbors(): Promise<NeighborReport> {
    const timings: Record<string, number> = {};
    const t = (name: string, t0: number) => {
      timings[name] = (timings[name] ?? 0) + performance.now() - t0;
    };
    const w = this.neighborWork;
    if (!w) return { commands: 0, incremental: true, timings };
    this.neighborWork = undefined;
    const t0 = performance.now();
    let keys = w.keys;
    if (!this.neighbors) {
      this.neighbors = neighborMap(await readNeighbors());
      keys = 'all';
    }
    const neighbors = this.neighbors;
    const nd = diffNeighbors(
      w.desired,
      neighbors,
      this.settings.interfacePrefix,
      [this.settings.vxlanDevice],
      linkExists,
      keys === 'all' ? undefined : [...keys, ...this.neighborRetry],
    );
    this.neighborRetry = new Set(nd.waiting);
    t('neighborDiff', t0);
    try {
      await ipBatch('neighbors', nd.commands, t);
    } catch (e) {
      this.neighbors = undefined;
      this.neighborWork ??= { desired: w.desired, keys: 'all' };
      this.neighborWork.keys = 'all';
      throw e;
    }
    for (const k of nd.deleted) neighbors.delete(k);
    for (const [k, n] of nd.replaced) neighbors.set(k, n);
    return { commands: nd.commands.length, incremental: keys !== 'all', timings };
  }
}

const EMPTY_TABLES: IptablesState = {
  raw: { chains: new Map(), hooks: [], ruleCount: 0 },
  mangle: { chains: new Map(), hooks: [], ruleCount: 0 },
  nat: { chains: new Map(), hooks: [], ruleCount: 0 },
  filter: { chains: new Map(), hooks: [], ruleCount: 0 },
};

async function ipBatch(phase: string, lines: string[], t: (name: string, t0: number) => void): Promise<void> {
  if (!lines.length) return;
  const t1 = performance.now();
  const r = await cmd('ip', ['-force', '-batch', '-'], { input: `${lines.join('\n')}\n`, allowFail: true });
  t(phase, t1);
  if (r.code !== 0) throw new Error(`ip -batch (${phase}) failed: ${r.stderr.trim().slice(0, 500)}`);
}
