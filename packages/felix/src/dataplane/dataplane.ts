import type { DesiredNeighbor, DesiredState } from '../calc/desired-state.js';
import { FELIX_RT_PROTO } from '../calc/desired-state.js';
import { countRules, TABLES } from '../calc/iptables/rules.js';
import type { FelixSettings } from '../config-types.js';
import { cmd } from './exec.js';
import { IpsetDriver } from './ipsets.js';
import { type Backend, IptablesDriver } from './iptables.js';
import { diffNeighbors, neighborMap, readNeighbors } from './neighbors.js';
import { diffRoutes, type KernelRoute, linkExists, readRoutes, routeMap } from './routes.js';
import { SysctlDriver } from './sysctl.js';
import { applyIpip, applyVxlan } from './vxlan.js';

export interface ApplyReport {
  routeCommands: number;
  waitingRoutes: number;
  conflicts: string[];
  sysctlsWritten: number;
  iptablesChanged: number;
  ipsetsChanged: boolean;
  ipipUnsupported: boolean;
  /** Per-phase milliseconds. */
  timings: Record<string, number>;
  rules: Record<string, number>;
  chains: Record<string, number>;
}

/**
 * All kernel drivers behind one `apply(desired)`. Each driver keeps a model of the
 * kernel that it trusts until invalidated (refresh timer, netlink event, error), so a
 * steady-state apply costs no process at all and a one-endpoint change costs one
 * `ip -batch` and one `iptables-restore`.
 */
export class Dataplane {
  private routes: Map<string, KernelRoute> | undefined;
  private neighbors: Map<string, DesiredNeighbor> | undefined;
  private tunnelsKey: string | undefined;
  readonly sysctls = new SysctlDriver();
  readonly ipsets: IpsetDriver;
  readonly iptables: IptablesDriver;

  constructor(
    readonly settings: FelixSettings,
    readonly backend: Backend,
  ) {
    this.ipsets = new IpsetDriver(settings.chainPrefix);
    this.iptables = new IptablesDriver(backend, settings.chainPrefix);
  }

  invalidateRoutes(): void {
    this.routes = undefined;
    this.neighbors = undefined;
    this.tunnelsKey = undefined;
  }

  invalidateSysctls(): void {
    this.sysctls.invalidate();
  }

  invalidateIptables(): void {
    this.iptables.invalidate();
    this.ipsets.invalidate();
  }

  invalidateAll(): void {
    this.invalidateRoutes();
    this.invalidateSysctls();
    this.invalidateIptables();
  }

  async apply(d: DesiredState): Promise<ApplyReport> {
    const s = this.settings;
    const timings: Record<string, number> = {};
    const t = (name: string, t0: number) => {
      timings[name] = (timings[name] ?? 0) + performance.now() - t0;
    };
    let t0 = performance.now();
    const sys = this.sysctls.apply(d.sysctls);
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

    // Routes, neighbors and iptables are independent kernel state: program them
    // concurrently, so one change costs the slowest of the three, not their sum. (`ip neigh`
    // dumps every link before its first command, ~50 ms with 10,000 veths, while
    // `ip route` looks up one link: they run as two `ip -batch` processes.)
    t0 = performance.now();
    const tunnels = [s.vxlanDevice];
    if (!this.routes || !this.neighbors) {
      const [r, n] = await Promise.all([readRoutes(), readNeighbors()]);
      this.routes = routeMap(r);
      this.neighbors = neighborMap(n);
    }
    // Local references: a netlink event may invalidate the models while we wait for `ip`.
    const routes = this.routes;
    const neighbors = this.neighbors;
    const rd = diffRoutes(d.routes, routes, s.interfacePrefix, linkExists);
    const nd = diffNeighbors(d.neighbors, neighbors, s.interfacePrefix, tunnels, linkExists);
    t('diff', t0);
    const batch = async (phase: string, lines: string[], done: () => void): Promise<void> => {
      if (!lines.length) return;
      const t1 = performance.now();
      const r = await cmd('ip', ['-force', '-batch', '-'], {
        input: `${lines.join('\n')}\n`,
        allowFail: true,
      });
      t(phase, t1);
      if (r.code !== 0) throw new Error(`ip -batch (${phase}) failed: ${r.stderr.trim().slice(0, 500)}`);
      // The kernel now holds what we wrote: bring the model along (only the entries the
      // batch touched) without re-reading; the refresh timer re-reads everything.
      done();
    };
    const firewall = async () => {
      let t1 = performance.now();
      const ips = await this.ipsets.apply(d.ipsets);
      t('ipsets', t1);
      t1 = performance.now();
      const ipt = await this.iptables.apply(d.iptables);
      t('iptables', t1);
      return { ips, ipt };
    };
    const [rr, nr, fr] = await Promise.allSettled([
      batch('routes', rd.commands, () => {
        for (const k of rd.deleted) routes.delete(k);
        for (const [k, r] of rd.replaced) routes.set(k, { ...r, protocol: String(FELIX_RT_PROTO) });
      }),
      batch('neighbors', nd.commands, () => {
        for (const k of nd.deleted) neighbors.delete(k);
        for (const [k, n] of nd.replaced) neighbors.set(k, n);
      }),
      firewall(),
    ]);
    if (rr.status === 'rejected' || nr.status === 'rejected') this.invalidateRoutes();
    for (const r of [rr, nr, fr]) if (r.status === 'rejected') throw r.reason;
    const { ips, ipt } = (fr as PromiseFulfilledResult<Awaited<ReturnType<typeof firewall>>>).value;
    const lines = [...nd.commands, ...rd.commands];
    if (ips.stale.length) await this.ipsets.destroy(ips.stale);

    const rules: Record<string, number> = countRules(d.iptables);
    const chains: Record<string, number> = {};
    for (const tb of TABLES) chains[tb] = d.iptables[tb].chains.length;
    return {
      routeCommands: lines.length,
      waitingRoutes: rd.waiting.length + sys.missing,
      conflicts: rd.conflicts,
      sysctlsWritten: sys.written,
      iptablesChanged: ipt.changedChains + ipt.deletedChains + ipt.hookChanges,
      ipsetsChanged: ips.changed,
      ipipUnsupported,
      timings,
      rules,
      chains,
    };
  }
}
