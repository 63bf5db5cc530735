import type { Datastore } from '@tricolor/datastore';
import { follow } from '@tricolor/linux';
import type { Logger } from 'pino';
import { Calculation } from './calc/calculation.js';
import type { Update } from './calc/graph.js';
import { resolveSettings, type StaticConfig } from './config.js';
import { DEFAULT_SETTINGS, type FelixSettings } from './config-types.js';
import { Dataplane } from './dataplane/dataplane.js';
import { KernelState } from './dataplane/kernel-state.js';
import { type Backend, binaries, detectBackend, ip6tablesUsable, linuxKernel } from './dataplane/linux-io.js';
import { poolUsage, readBlockUsage } from './ipam-usage.js';
import { type FelixMetrics, RESYNC_STATE } from './metrics.js';
import { classifyMonitorLines, kernelRemovals } from './monitor.js';
import {
  autodetectIPv4,
  setBgpAddress,
  setFelixReady,
  statusReportDue,
  updateNode,
  writeStatusReport,
  writeUntilDone,
} from './node-status.js';
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
 * Runs felix: the syncer's updates are batched (debounce) and fed through the calculation
 * graph into the trackers, then the dataplane writes what is pending (single-flight,
 * retried with backoff); timers re-read the kernel beside the applies so drift is
 * repaired; readiness turns on after the first complete converge.
 */
export class Agent {
  readonly syncer: Syncer;
  private calc: Calculation | undefined;
  private dataplane: Dataplane | undefined;
  /** Datastore updates not yet fed to the calculation. */
  private queue: Update[] = [];
  private debounce: NodeJS.Timeout | undefined;
  private applying: Promise<void> | undefined;
  private pending = false;
  private stopped = false;
  private failures = 0;
  private timers: NodeJS.Timeout[] = [];
  private monitor: { stop(): void } | undefined;
  private iptablesMonitor: { stop(): void } | undefined;
  private lastStatusAt = 0;
  /** The readiness last written on the Node (undefined: not written by this run yet). */
  private readyOnNode: boolean | undefined;
  private tunnelAllocating = false;
  private neighborRun: Promise<boolean> | undefined;
  private pinnedWarned = false;
  /** When the oldest datastore change not yet applied arrived (performance.now()). */
  private changedSince: number | undefined;
  /** This node's blocks when the ipam_* gauges were last computed. */
  private ipamBlocksKey: string | undefined;
  /** When the first apply began (performance.now()): felix_int_dataplane_initial_resync_time_seconds. */
  private firstApplyAt: number | undefined;
  /** Each tracker's desired changes already counted in felix_int_dataplane_messages. */
  private readonly messagesCounted = new Map<object, number>();
  nodeIP: string | undefined;
  /** Every datastore change at or below this revision is programmed (see `status`). */
  private programmedRevision = 0n;
  ready = false;
  lastConvergedAt: Date | undefined;
  /** Aborted by `stop`: ends the start's datastore retries. */
  private readonly stopping = new AbortController();

  constructor(private readonly o: AgentOptions) {
    this.syncer = new Syncer(o.ds);
    this.syncer.on('update', (u) => {
      this.queue.push(u);
      this.changedSince ??= performance.now();
      this.schedule();
    });
    o.metrics.resyncState.set(RESYNC_STATE[this.syncer.status]);
    this.syncer.on('status', (st) => o.metrics.resyncState.set(RESYNC_STATE[st]));
    this.syncer.on('resync', (i) => {
      o.metrics.resyncsStarted.inc();
      o.log.warn({ reason: i.reason }, 'datastore resync started (dataplane kept; only differences applied)');
    });
    this.syncer.on('warning', (e) => o.log.debug({ err: e.message }, 'datastore watch error'));
  }

  /** The iptables backend in use (after start). */
  backend: Backend | undefined;

  /** Starts syncing and converges once; resolves when the node is ready. */
  async start(): Promise<void> {
    const { log, config } = this.o;
    await this.syncer.start();
    log.info('datastore in sync');
    const settings = resolveSettings(
      this.o.overrides,
      [...this.syncer.configs.cache.values()].map((v) => v.value),
      config.nodeName,
    );
    const backend = settings.iptablesBackend === 'auto' ? await detectBackend() : settings.iptablesBackend;
    this.backend = backend;
    log.info({ backend }, 'iptables backend');
    let ipv6 = settings.ipv6Support;
    if (ipv6 !== false && !(await ip6tablesUsable(backend))) {
      const msg = 'ip6tables does not work on this host: IPv6 tables are not programmed';
      if (ipv6 === true) log.error({ tool: binaries(backend, 6).save }, msg);
      else log.warn({ tool: binaries(backend, 6).save }, msg);
      ipv6 = false;
    }
    const state = new KernelState({
      chainPrefix: settings.chainPrefix,
      interfacePrefix: settings.interfacePrefix,
      vxlanDevice: settings.vxlanDevice,
    });
    this.calc = new Calculation(state, {
      nodeName: config.nodeName,
      overrides: this.o.overrides,
      pinned: {
        chainPrefix: settings.chainPrefix,
        interfacePrefix: settings.interfacePrefix,
        ipv6Support: ipv6,
      },
    });
    this.dataplane = new Dataplane(state, linuxKernel(backend, settings.chainPrefix), {
      ipv6: ipv6 !== false,
      observer: this.o.metrics,
    });
    // Node identity first: VXLAN needs this node's underlay address.
    const ip =
      config.ip === 'autodetect'
        ? await autodetectIPv4([settings.interfacePrefix, 'vxlan', 'tunl', 'lo'])
        : config.ip;
    if (ip) {
      this.nodeIP = ip;
      // Applies may already run (the syncer's updates schedule them): this write must not
      // end felix when etcd is slow, only delay the rest of the start.
      await writeUntilDone(
        'the node address',
        () => updateNode(this.o.ds, config.nodeName, (n) => setBgpAddress(n, ip)),
        {
          log,
          signal: this.stopping.signal,
        },
      );
    } else {
      log.warn('no IPv4 address found for this node (set IP); VXLAN is off');
    }
    await this.dataplane.io.ready();
    await this.converge();
    this.startTimers(settings);
    if (this.o.monitor !== false) {
      this.startMonitor(settings);
      // nft: a chain changed by someone else is re-read and repaired at once.
      this.iptablesMonitor = this.dataplane.io.watchIptables?.(() => {
        this.o.log.info('iptables: felix chains changed by another process, re-reading');
        this.refreshIptables();
      });
    }
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
    const { log, metrics } = this.o;
    const dp = this.dataplane!;
    const calc = this.calc!;
    // The oldest datastore change this apply takes in (later ones wait for the next apply).
    const changedSince = this.changedSince;
    this.changedSince = undefined;
    const batch = this.queue;
    this.queue = [];
    // Every update at or below this revision is in this batch or an earlier one (a
    // reflector advances its revision after emitting the events it covers).
    const upTo = BigInt(this.syncer.revision());
    if (batch.length) {
      const endCalc = metrics.calcGraphUpdateTime.startTimer();
      calc.apply(batch);
      endCalc();
      for (const u of batch) metrics.calcGraphUpdatesProcessed.inc({ type: u.kind });
    } else calc.apply(batch);
    this.countMessages();
    this.warnPinned();
    this.maybeAllocateTunnel();
    // Calico's apply time is per incremental update; the first converge is the initial resync.
    const incremental = this.ready;
    this.firstApplyAt ??= performance.now();
    const t0 = performance.now();
    const applied = () => {
      if (!incremental) return;
      const s = (performance.now() - t0) / 1000;
      metrics.applyTime.observe(s);
      metrics.applyDuration.observe(s);
    };
    let ended = false;
    try {
      const rep = await dp.apply();
      applied();
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
      if (upTo > this.programmedRevision) this.programmedRevision = upTo;
      const st = calc.state;
      metrics.activeLocalEndpoints.set(calc.endpoints.count);
      const v6Routes = st.routes.desiredWeight;
      metrics.routeTableNumRoutes.set(
        { table: 'IPv4:254', ip_version: '4' },
        st.routes.desired.size - v6Routes,
      );
      metrics.routeTableNumRoutes.set({ table: 'IPv6:254', ip_version: '6' }, v6Routes);
      metrics.clusterNumHosts.set(this.syncer.nodes.cache.size);
      metrics.clusterNumWorkloadEndpoints.set(this.syncer.endpoints.cache.size);
      for (const [v, tables] of Object.entries(rep.rules))
        for (const [t, n] of Object.entries(tables))
          metrics.iptablesRules.set({ ip_version: v, table: t }, n);
      for (const [v, tables] of Object.entries(rep.chains))
        for (const [t, n] of Object.entries(tables))
          metrics.iptablesChains.set({ ip_version: v, table: t }, n);
      const sets = { inet: 0, inet6: 0 };
      for (const m of st.ipsets.desired.values()) sets[m.family]++;
      for (const [family, n] of Object.entries(sets)) metrics.ipsetsCalico.set({ ip_version: family }, n);
      const policy = calc.policy;
      metrics.policy.set({
        activePolicies: policy.activePolicies,
        activeSelectors: policy.activeSelectors,
        clusterPolicies: policy.clusterPolicies,
        clusterProfiles: policy.clusterProfiles,
        ipsets: dp.ipsets.totalSets,
      });
      if (rep.conflicts.length)
        log.warn({ routes: rep.conflicts }, 'routes left alone: an operator route has the same destination');
      if (rep.ipipUnsupported) log.error('IPIP pool present but this kernel cannot create tunl0');
      log.debug({ ...rep, timings: rep.timings }, 'dataplane applied');
      this.lastConvergedAt = new Date();
      if (!this.ready) {
        this.ready = true;
        metrics.initialResyncTime.set((performance.now() - this.firstApplyAt) / 1000);
        log.info(
          {
            endpoints: calc.endpoints.count,
            ms: Math.round(Object.values(rep.timings).reduce((a, b) => a + b, 0)),
          },
          'first converge complete: ready',
        );
      }
      void this.runNeighbors();
      void this.reportStatus();
      // IPAM gauges: at once when this node's blocks change, else on their 30 s timer.
      const blocksKey = calc.blocks.ownedBlocks.join(',');
      if (blocksKey !== this.ipamBlocksKey) {
        this.ipamBlocksKey = blocksKey;
        void this.reportIpam();
      }
    } catch (e) {
      if (!ended) applied();
      if (changedSince !== undefined)
        this.changedSince = Math.min(this.changedSince ?? changedSince, changedSince);
      this.failures++;
      metrics.dataplaneFailures.inc();
      dp.invalidateAll();
      log.error({ err: (e as Error).message }, 'dataplane apply failed; retrying');
      if (this.ready) {
        const delay = Math.min(200 * 2 ** this.failures, 5000);
        setTimeout(() => this.schedule(0), delay).unref();
      }
    }
  }

  /**
   * What felix has programmed, for `GET /status`: `revision` — every datastore change at
   * or below it is in the kernel (policies, endpoints, labels, pools, …); while nothing is
   * queued or being applied that is everything the syncer has read. A client that wrote at
   * revision R waits for `revision >= R` on every node (the conformance runner does).
   */
  status(): { ready: boolean; inSync: boolean; revision: string } {
    const idle =
      this.ready &&
      this.queue.length === 0 &&
      !this.applying &&
      !this.pending &&
      this.debounce === undefined &&
      this.failures === 0;
    let rev = this.programmedRevision;
    if (idle) {
      const read = BigInt(this.syncer.revision());
      if (read > rev) rev = read;
    }
    return { ready: this.ready, inSync: idle, revision: String(rev) };
  }

  /** chainPrefix/interfacePrefix/ipv6Support are fixed at start: say so once when FelixConfiguration changes them. */
  private warnPinned(): void {
    const calc = this.calc!;
    const want = calc.settings.configured();
    const have = calc.settings.current;
    const changed =
      want.chainPrefix !== have.chainPrefix ||
      want.interfacePrefix !== have.interfacePrefix ||
      (want.ipv6Support !== have.ipv6Support && have.ipv6Support !== false);
    if (changed && !this.pinnedWarned)
      this.o.log.warn(
        'chainPrefix/interfacePrefix/ipv6Support changed in FelixConfiguration: restart felix to apply',
      );
    this.pinnedWarned = changed;
  }

  /**
   * The neighbor lane: writes the static neighbors pending since its last run (one
   * `ip neigh` batch for all of them), and again while applies add more. Single-flight;
   * resolves false when it failed (then it retries by itself after a delay).
   */
  private runNeighbors(): Promise<boolean> {
    this.neighborsAgain = true;
    if (this.neighborRun) return this.neighborRun;
    const { log, metrics } = this.o;
    const dp = this.dataplane!;
    this.neighborRun = (async () => {
      while (this.neighborsAgain && !this.stopped) {
        this.neighborsAgain = false;
        // What waits for its device stays pending until an apply brings a reason to try again.
        if (!dp.neighborsPending) continue;
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

  /** Set when the neighbor lane is asked to run: it runs once more after its current pass. */
  private neighborsAgain = false;

  /** felix_int_dataplane_messages: the desired items the calculation set or removed, by kind. */
  private countMessages(): void {
    for (const [type, t] of this.calc!.state.byKind()) {
      const before = this.messagesCounted.get(t) ?? 0;
      if (t.desiredChanges === before) continue;
      this.o.metrics.dataplaneMessages.inc({ type }, t.desiredChanges - before);
      this.messagesCounted.set(t, t.desiredChanges);
    }
  }

  /** VXLAN needs this node's tunnel address: allocated from IPAM once, then written to the Node. */
  private maybeAllocateTunnel(): void {
    if (this.tunnelAllocating || !this.nodeIP || !this.calc!.vxlan.needsTunnelAddress) return;
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
    const calc = this.calc;
    if (!calc || !this.ready || this.stopped) return;
    try {
      const usage = poolUsage(calc.pools.all, await readBlockUsage(this.o.ds, calc.blocks.ownedBlocks));
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

  /**
   * Readiness on the Node (`status.felix.ready`) when it changes, and after a converge at most
   * every `reportingInterval` the status report at its own key (`felixStatusKey`): a Node write
   * is decoded by every felix and bird of the cluster, the report key by nobody.
   */
  private async reportStatus(): Promise<void> {
    const { ds, config, log } = this.o;
    if (this.readyOnNode !== this.ready) {
      const ready = this.ready;
      try {
        await updateNode(ds, config.nodeName, (n) => setFelixReady(n, ready));
        this.readyOnNode = ready;
      } catch (e) {
        log.warn({ err: (e as Error).message }, 'cannot write readiness on the Node');
      }
    }
    const now = Date.now();
    const interval = this.calc?.settings.current.reportingIntervalMs ?? DEFAULT_SETTINGS.reportingIntervalMs;
    if (!statusReportDue(this.lastStatusAt, now, interval)) return;
    this.lastStatusAt = now;
    try {
      await writeStatusReport(ds, config.nodeName, {
        time: new Date(now).toISOString(),
        uptimeSeconds: Math.round(process.uptime()),
        ready: this.ready,
        lastConvergedAt: this.lastConvergedAt?.toISOString(),
      });
    } catch (e) {
      this.lastStatusAt = 0;
      log.warn({ err: (e as Error).message }, 'cannot write the status report');
    }
  }

  private startTimers(s: FelixSettings): void {
    const dp = this.dataplane!;
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      this.timers.push(t);
    };
    const log = (what: string) => (e: Error) =>
      this.o.log.warn({ err: e.message }, `${what} refresh read failed`);
    every(s.routeRefreshIntervalMs, () => {
      // Routes, neighbors, tunnels and sysctls are re-read beside the applies; whatever
      // drifted is pending afterwards and written by the apply scheduled here.
      this.o.metrics.routeRefreshes.inc();
      void Promise.all([dp.refreshRoutes(), dp.refreshSysctls()])
        .catch(log('route'))
        .then(() => this.schedule(0));
    });
    every(30_000, () => void this.reportIpam());
    every(s.iptablesRefreshIntervalMs, () => this.refreshIptables());
  }

  private iptablesRead: Promise<void> | undefined;
  private iptablesReadAgain = false;

  /**
   * Reads the tables in the background (applies keep going while iptables-save runs: seconds
   * at 10,000 endpoints); drifted chains are pending afterwards. Asked again during a read:
   * one more read after it, since the change may have come after the read saw the chain.
   */
  private refreshIptables(): void {
    if (this.iptablesRead) {
      this.iptablesReadAgain = true;
      return;
    }
    this.iptablesRead = this.dataplane!.refreshIptables()
      .catch((e: Error) => this.o.log.warn({ err: e.message }, 'iptables refresh read failed'))
      .then(() => {
        this.iptablesRead = undefined;
        this.schedule(0);
        if (this.iptablesReadAgain && !this.stopped) {
          this.iptablesReadAgain = false;
          this.refreshIptables();
        }
      });
  }

  /**
   * `ip monitor link route`: a workload interface appearing triggers an apply (what waited
   * for it is pending); a device going makes what lived on it pending again; one of our
   * routes deleted by someone else makes felix read the routes again.
   */
  private startMonitor(s: FelixSettings): void {
    this.monitor = follow(
      'ip',
      ['monitor', 'link', 'route'],
      (lines) => {
        const { relevant, stale } = classifyMonitorLines(lines, s.interfacePrefix, s.vxlanDevice);
        if (stale) {
          // A device took its routes, neighbors and sysctls with it: exactly those become
          // pending (if still wanted). A route of ours deleted by someone: read them again.
          const gone = kernelRemovals(lines, s.interfacePrefix, s.vxlanDevice);
          for (const dev of gone.devices) this.dataplane?.deviceGone(dev);
          if (gone.routes) this.dataplane?.invalidateRoutes();
        }
        if (relevant) this.schedule();
      },
      () => {
        if (!this.stopped) setTimeout(() => this.startMonitor(s), 1000).unref();
      },
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    for (const t of this.timers) clearInterval(t);
    if (this.debounce) clearTimeout(this.debounce);
    this.monitor?.stop();
    this.iptablesMonitor?.stop();
    await this.applying?.catch(() => undefined);
    await this.neighborRun;
    this.dataplane?.close();
    await this.syncer.stop();
  }
}
