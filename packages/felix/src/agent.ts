import { type ChildProcess, spawn } from 'node:child_process';
import type { Datastore, Node } from '@tricolor/datastore';
import type { Logger } from 'pino';
import { CalcCache, computeDesiredState, type DesiredState } from './calc/desired-state.js';
import { resolveSettings, type StaticConfig } from './config.js';
import type { FelixSettings } from './config-types.js';
import { Dataplane } from './dataplane/dataplane.js';
import { type Backend, binaries, detectBackend, ip6tablesUsable } from './dataplane/iptables.js';
import { poolUsage, readBlockUsage } from './ipam-usage.js';
import type { FelixMetrics } from './metrics.js';
import { classifyMonitorLines } from './monitor.js';
import { autodetectIPv4, setBgpAddress, setFelixStatus, updateNode } from './node-status.js';
import { Syncer } from './syncer.js';
import { allocateTunnelAddress } from './tunnel-address.js';

export interface AgentOptions {
  ds: Datastore;
  config: StaticConfig;
  overrides: Partial<FelixSettings>;
  log: Logger;
  metrics: FelixMetrics;
  /** Watch netlink (`ip monitor`) for interface and route changes (default true). */
  monitor?: boolean;
}

/**
 * Orchestrates felix: the syncer feeds the calculation, changes are batched (debounce),
 * the dataplane applies the result, timers re-read the kernel so drift is repaired,
 * and readiness turns on after the first complete converge.
 */
export class Agent {
  readonly syncer: Syncer;
  private dataplane: Dataplane | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private applying: Promise<void> | undefined;
  private pending = false;
  private stopped = false;
  private failures = 0;
  private timers: NodeJS.Timeout[] = [];
  private monitor: ChildProcess | undefined;
  private lastStatusAt = 0;
  private tunnelAllocating = false;
  /** Per-endpoint results kept between calculations (a change recomputes only itself). */
  private readonly calcCache = new CalcCache();
  private neighborRun: Promise<boolean> | undefined;
  /** `ipv6Support` as configured at start (the dataplane's may be off: no ip6tables here). */
  private ipv6Configured: FelixSettings['ipv6Support'] = 'auto';
  /** When the oldest datastore change not yet applied arrived (performance.now()). */
  private changedSince: number | undefined;
  /** This node's blocks when the ipam_* gauges were last computed. */
  private ipamBlocksKey: string | undefined;
  nodeIP: string | undefined;
  ready = false;
  lastDesired: DesiredState | undefined;
  lastConvergedAt: Date | undefined;

  constructor(private readonly o: AgentOptions) {
    this.syncer = new Syncer(o.ds, o.config.nodeName);
    this.syncer.on('change', () => {
      this.changedSince ??= performance.now();
      this.schedule();
    });
    this.syncer.on('resync', (i: { reason: string }) => {
      o.metrics.resyncsStarted.inc();
      this.calcCache.full();
      o.log.warn({ reason: i.reason }, 'datastore resync started (dataplane kept; only differences applied)');
    });
    this.syncer.on('warning', (e: Error) => o.log.debug({ err: e.message }, 'datastore watch error'));
  }

  get backend(): Backend | undefined {
    return this.dataplane?.backend;
  }

  /** Starts syncing and converges once; resolves when the node is ready. */
  async start(): Promise<void> {
    const { log, config } = this.o;
    await this.syncer.start();
    log.info('datastore in sync');
    const settings = this.currentSettings();
    const backend = settings.iptablesBackend === 'auto' ? await detectBackend() : settings.iptablesBackend;
    log.info({ backend }, 'iptables backend');
    this.ipv6Configured = settings.ipv6Support;
    if (settings.ipv6Support !== false && !(await ip6tablesUsable(backend))) {
      const msg = 'ip6tables does not work on this host: IPv6 tables are not programmed';
      if (settings.ipv6Support === true) log.error({ tool: binaries(backend, 6).save }, msg);
      else log.warn({ tool: binaries(backend, 6).save }, msg);
      settings.ipv6Support = false;
    }
    this.dataplane = new Dataplane(settings, backend);
    // Node identity first: VXLAN needs this node's underlay address.
    const ip =
      config.ip === 'autodetect'
        ? await autodetectIPv4([settings.interfacePrefix, 'vxlan', 'tunl', 'lo'])
        : config.ip;
    if (ip) {
      this.nodeIP = ip;
      await updateNode(this.o.ds, config.nodeName, (n) => setBgpAddress(n, ip));
    } else {
      log.warn('no IPv4 address found for this node (set IP); VXLAN is off');
    }
    await this.converge();
    this.startTimers(settings);
    if (this.o.monitor !== false) this.startMonitor(settings);
  }

  private currentSettings(): FelixSettings {
    return resolveSettings(this.o.overrides, this.syncer.snapshot().felixConfigs, this.o.config.nodeName);
  }

  /** Applies until one full apply succeeds. */
  private async converge(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      this.pending = true;
      await this.runApply();
      if (this.failures === 0 && this.ready) return;
      await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** this.failures, 5000)));
    }
  }

  schedule(delayMs = this.o.config.debounceMs): void {
    if (this.stopped || !this.dataplane) return;
    this.pending = true;
    if (this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.runApply();
    }, delayMs);
  }

  /** Single-flight: an apply requested while one runs happens right after it. */
  private async runApply(): Promise<void> {
    if (this.applying) return this.applying;
    this.applying = (async () => {
      while (this.pending && !this.stopped) {
        this.pending = false;
        await this.applyOnce();
      }
    })();
    try {
      await this.applying;
    } finally {
      this.applying = undefined;
    }
  }

  private async applyOnce(): Promise<void> {
    const { log, metrics, config } = this.o;
    const dp = this.dataplane!;
    // The oldest datastore change this apply takes in (later ones wait for the next apply).
    const changedSince = this.changedSince;
    this.changedSince = undefined;
    const settings = this.currentSettings();
    if (
      settings.chainPrefix !== dp.settings.chainPrefix ||
      settings.interfacePrefix !== dp.settings.interfacePrefix ||
      settings.ipv6Support !== this.ipv6Configured
    )
      log.warn(
        'chainPrefix/interfacePrefix/ipv6Support changed in FelixConfiguration: restart felix to apply',
      );
    Object.assign(dp.settings, settings, {
      chainPrefix: dp.settings.chainPrefix,
      interfacePrefix: dp.settings.interfacePrefix,
      ipv6Support: dp.settings.ipv6Support,
    });
    const snap = this.syncer.snapshot();
    const desired = computeDesiredState(
      {
        nodeName: config.nodeName,
        settings: dp.settings,
        endpoints: snap.endpoints,
        pools: snap.pools,
        affinities: snap.affinities,
        nodes: snap.nodes,
      },
      this.calcCache,
    );
    this.maybeAllocateTunnel(
      snap.nodes,
      snap.pools.some((p) => !p.spec.disabled && p.spec.vxlanMode !== 'Never'),
    );
    const end = metrics.applyTime.startTimer();
    let ended = false;
    try {
      const rep = await dp.apply(desired);
      end();
      ended = true;
      if (changedSince !== undefined)
        metrics.datastoreConvergence.observe((performance.now() - changedSince) / 1000);
      // Static neighbors follow in their own lane (`runNeighbors`, below), off the critical
      // path; the first converge writes them here, so readiness still means "all programmed".
      if (!this.ready) {
        const endNeighbors = metrics.neighborApplyTime.startTimer();
        try {
          await dp.applyNeighbors();
        } finally {
          endNeighbors();
        }
      }
      this.failures = 0;
      this.lastDesired = desired;
      metrics.activeLocalEndpoints.set(desired.localEndpoints);
      metrics.routeTableNumRoutes.set(desired.routes.size);
      metrics.clusterNumHosts.set([...snap.nodes].length);
      metrics.clusterNumWorkloadEndpoints.set(this.syncer.endpoints.cache.size);
      for (const [v, tables] of Object.entries(rep.rules))
        for (const [t, n] of Object.entries(tables))
          metrics.iptablesRules.set({ ip_version: v, table: t }, n);
      for (const [v, tables] of Object.entries(rep.chains))
        for (const [t, n] of Object.entries(tables))
          metrics.iptablesChains.set({ ip_version: v, table: t }, n);
      metrics.ipsetsTotal.set(desired.ipsets.length);
      this.syncCounters();
      if (rep.conflicts.length)
        log.warn({ routes: rep.conflicts }, 'routes left alone: an operator route has the same destination');
      if (rep.ipipUnsupported) log.error('IPIP pool present but this kernel cannot create tunl0');
      log.debug({ ...rep, timings: rep.timings }, 'dataplane applied');
      this.lastConvergedAt = new Date();
      if (!this.ready) {
        this.ready = true;
        log.info(
          {
            endpoints: desired.localEndpoints,
            ms: Math.round(Object.values(rep.timings).reduce((a, b) => a + b, 0)),
          },
          'first converge complete: ready',
        );
      }
      void this.runNeighbors();
      void this.reportStatus();
      // IPAM gauges: at once when this node's blocks change, else on their 30 s timer.
      const blocksKey = desired.ownedBlocks.join(',');
      if (blocksKey !== this.ipamBlocksKey) {
        this.ipamBlocksKey = blocksKey;
        void this.reportIpam();
      }
    } catch (e) {
      if (!ended) end();
      if (changedSince !== undefined)
        this.changedSince = Math.min(this.changedSince ?? changedSince, changedSince);
      this.failures++;
      metrics.dataplaneFailures.inc();
      this.syncCounters();
      this.dataplane!.invalidateAll();
      log.error({ err: (e as Error).message }, 'dataplane apply failed; retrying');
      if (this.ready) {
        const delay = Math.min(200 * 2 ** this.failures, 5000);
        setTimeout(() => this.schedule(0), delay).unref();
      }
    }
  }

  /**
   * The neighbor lane: writes the static neighbors recorded by the applies so far (one
   * `ip neigh` batch for all of them), and again while applies record more. Single-flight;
   * resolves false when it failed (then it retries by itself after a delay).
   */
  private runNeighbors(): Promise<boolean> {
    if (this.neighborRun) return this.neighborRun;
    const { log, metrics } = this.o;
    const dp = this.dataplane!;
    this.neighborRun = (async () => {
      while (dp.neighborsPending && !this.stopped) {
        const end = metrics.neighborApplyTime.startTimer();
        try {
          const rep = await dp.applyNeighbors();
          end();
          if (rep.commands) log.debug(rep, 'neighbors applied');
        } catch (e) {
          end();
          metrics.dataplaneFailures.inc();
          log.error({ err: (e as Error).message }, 'neighbor apply failed; retrying');
          setTimeout(() => void this.runNeighbors(), 1000).unref();
          return false;
        }
      }
      return true;
    })().finally(() => {
      this.neighborRun = undefined;
    });
    return this.neighborRun;
  }

  private counted = { restore: 0, restoreErr: 0, save: 0, ipset: 0 };
  private syncCounters(): void {
    const dp = this.dataplane!;
    const m = this.o.metrics;
    const c = this.counted;
    const sum = (f: (d: Dataplane['iptables']) => number) => dp.iptablesDrivers.reduce((n, d) => n + f(d), 0);
    const now = {
      restore: sum((d) => d.restoreCalls),
      restoreErr: sum((d) => d.restoreErrors),
      save: sum((d) => d.saveCalls),
      ipset: dp.ipsets.calls,
    };
    m.iptablesRestoreCalls.inc(now.restore - c.restore);
    m.iptablesRestoreErrors.inc(now.restoreErr - c.restoreErr);
    m.iptablesSaveCalls.inc(now.save - c.save);
    m.ipsetsCalls.inc(now.ipset - c.ipset);
    this.counted = now;
  }

  private maybeAllocateTunnel(nodes: Iterable<Node>, vxlanOn: boolean): void {
    if (!vxlanOn || this.tunnelAllocating || !this.nodeIP) return;
    const me = [...nodes].find((n) => n.metadata.name === this.o.config.nodeName);
    if (!me || me.spec.vxlanTunnelAddress) return;
    this.tunnelAllocating = true;
    void (async () => {
      try {
        const addr = await allocateTunnelAddress(this.o.ds, this.o.config.nodeName);
        if (!addr) throw new Error('IPAM returned no address');
        await updateNode(this.o.ds, this.o.config.nodeName, (n) => {
          if (n.spec.vxlanTunnelAddress) return false;
          n.spec.vxlanTunnelAddress = addr;
          return true;
        });
        this.o.log.info({ addr }, 'VXLAN tunnel address allocated');
        void this.reportIpam();
      } catch (e) {
        this.o.log.error({ err: (e as Error).message }, 'cannot allocate the VXLAN tunnel address');
        setTimeout(() => this.schedule(), 5000).unref();
      } finally {
        this.tunnelAllocating = false;
      }
    })();
  }

  /** The ipam_* gauges from this node's blocks: after the first converge, then every 30 s. */
  private async reportIpam(): Promise<void> {
    const blocks = this.lastDesired?.ownedBlocks;
    if (!blocks || this.stopped) return;
    try {
      const usage = poolUsage(this.syncer.snapshot().pools, await readBlockUsage(this.o.ds, blocks));
      const m = this.o.metrics;
      m.ipamBlocks.reset();
      m.ipamAllocationsInUse.reset();
      const node = this.o.config.nodeName;
      for (const u of usage) {
        m.ipamBlocks.set({ ippool: u.ippool, node }, u.blocks);
        m.ipamAllocationsInUse.set({ ippool: u.ippool, node }, u.inUse);
      }
    } catch (e) {
      this.o.log.debug({ err: (e as Error).message }, 'cannot read IPAM blocks for metrics');
    }
  }

  /** status.felix on the Node: after the first converge, then at most every 10 s. */
  private async reportStatus(force = false): Promise<void> {
    const now = Date.now();
    if (!force && this.lastStatusAt && now - this.lastStatusAt < 10_000) return;
    this.lastStatusAt = now;
    try {
      await updateNode(this.o.ds, this.o.config.nodeName, (n) =>
        setFelixStatus(n, this.ready, this.lastConvergedAt ?? new Date()),
      );
    } catch (e) {
      this.lastStatusAt = 0;
      this.o.log.warn({ err: (e as Error).message }, 'cannot write node status');
    }
  }

  private startTimers(s: FelixSettings): void {
    const dp = this.dataplane!;
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      this.timers.push(t);
    };
    every(s.routeRefreshIntervalMs, () => {
      // Routes and sysctls are re-read beside the applies, then the next apply diffs all
      // routes against the fresh read and rewrites drifted sysctls. The calculation is not
      // redone (its incremental result equals a full one, property-tested; resyncs redo it).
      this.o.metrics.routeRefreshes.inc();
      void Promise.all([dp.refreshRoutes(), dp.refreshSysctls()]).then(() => this.schedule(0));
    });
    every(30_000, () => void this.reportIpam());
    every(s.iptablesRefreshIntervalMs, () => {
      // Read in the background: applies keep going while iptables-save runs (seconds at
      // 10,000 endpoints); the apply after it compares everything.
      void dp.refreshIptables().then(() => this.schedule(0));
    });
  }

  /**
   * `ip monitor link route`: a workload interface appearing or going, or one of our routes
   * deleted by someone else, triggers a re-read and an apply within the debounce delay.
   */
  private startMonitor(s: FelixSettings): void {
    const child = spawn('ip', ['monitor', 'link', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.monitor = child;
    let buf = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      const { relevant, stale } = classifyMonitorLines(lines, s.interfacePrefix, s.vxlanDevice);
      // A new device only needs an apply: what waited for it is retried by every apply.
      // Something deleted means the kernel dropped routes the model still lists: re-read.
      if (stale) this.dataplane?.invalidateRoutes();
      if (relevant) this.schedule();
    });
    child.on('exit', () => {
      if (!this.stopped) setTimeout(() => this.startMonitor(s), 1000).unref();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    if (this.debounce) clearTimeout(this.debounce);
    this.monitor?.kill('SIGTERM');
    await this.applying?.catch(() => undefined);
    await this.neighborRun;
    await this.syncer.stop();
  }
}
