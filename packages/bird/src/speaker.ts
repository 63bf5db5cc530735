/**
 * The speaker: peers (session/), RIBs (rib/), export/import policy (policy/), kernel
 * (kernel/), control socket, health and metrics, wired together.
 */
import { createServer, type Server } from 'node:net';
import { BgpDecodeError, ipv4FromString, ipv6ToString, parsePrefix } from 'bgp-parser-ts';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type { PeerSpec, SpeakerConfig } from './config/types.js';
import { query } from './control/client.js';
import { startControl } from './control/server.js';
import { startHealth } from './health.js';
import { KernelRoutes, type NextHop, routeSpec } from './kernel/routes.js';
import { Metrics, STATE_NUMBER } from './metrics.js';
import { localAttributes, outboundPath } from './policy/export.js';
import { type ImportPolicy, makeImportPolicy } from './policy/import.js';
import { AdjRibOut, endOfRib } from './rib/adj-rib-out.js';
import { AttrStore, originName } from './rib/attrs.js';
import { addressSortKey } from './rib/decision.js';
import { LocRib, type PathRef, type RibPeer } from './rib/loc-rib.js';
import { v4String } from './rib/prefix-table.js';
import { mayAdvertise } from './rib/reflection.js';
import { applyUpdate, type ImportContext } from './rib/update-in.js';
import type { Family, LocalOpenConfig, Negotiated } from './session/capabilities.js';
import { normalizeAddress } from './session/connection.js';
import type { DownReason } from './session/fsm.js';
import { Peer } from './session/peer.js';

export { query };

/** One prefix of `show route`: its paths, best first (also what tricolor-birdc prints). */
export interface RouteView {
  prefix: string;
  paths: {
    from: string;
    nextHop: string;
    asPath: string;
    localPref?: number;
    med?: number;
    origin: string;
    best: boolean;
    stale: boolean;
  }[];
}

interface PeerEntry {
  spec: PeerSpec;
  key: string;
  session: Peer;
  rib: RibPeer;
  out: AdjRibOut;
  /** Initial export sent (then End-of-RIB). */
  synced: boolean;
  /** Families for which the peer's End-of-RIB arrived since the session came up. */
  eor: Set<number>;
  grTimer: NodeJS.Timeout | undefined;
  established: number;
}

const LOCAL_ATTR_KEY = '\u0000local';

export class Speaker {
  readonly store = new AttrStore();
  readonly rib = new LocRib(this.store);
  readonly metrics = new Metrics();
  readonly log: Logger;
  readonly kernel: KernelRoutes | undefined;
  private readonly local: RibPeer;
  private readonly peers = new Map<string, PeerEntry>();
  private server: Server | undefined;
  private control: Server | undefined;
  private http: FastifyInstance[] = [];
  private exports = new Set<string>();
  private importPolicy: ImportPolicy;
  private importCtx: ImportContext;
  private flushScheduled = false;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  readonly startedAt = Date.now();
  private readonly openCfg: LocalOpenConfig;
  private readonly routerIdNum: number;
  private readonly clusterIdNum: number | undefined;
  restarting = false;
  private stopped = false;

  constructor(
    readonly cfg: SpeakerConfig,
    opts: { logger?: Logger; restarting?: boolean } = {},
  ) {
    this.log = opts.logger ?? pino({ level: cfg.logLevel, base: { name: 'tricolor-bird' } });
    this.routerIdNum = ipv4FromString(cfg.routerId);
    this.clusterIdNum = cfg.clusterId ? ipv4FromString(cfg.clusterId) : undefined;
    this.restarting = opts.restarting ?? false;
    this.openCfg = {
      localAs: cfg.localAs,
      routerId: this.routerIdNum,
      holdTime: cfg.holdTime,
      families: ['ipv4', 'ipv6'],
      gracefulRestart: cfg.gracefulRestart.enabled
        ? { restartTime: cfg.gracefulRestart.restartTime, restarting: this.restarting }
        : undefined,
      addPathReceive: true,
    };
    this.local = this.rib.addPeer({
      name: 'local',
      local: true,
      ebgp: false,
      routerId: this.routerIdNum,
      addressKey: '',
      rrClient: false,
    });
    this.importPolicy = makeImportPolicy({ allow: cfg.importAllow });
    this.importCtx = this.makeImportCtx();
    this.rib.onDirty = () => this.scheduleFlush();
    if (cfg.kernel)
      this.kernel = new KernelRoutes({
        onWrite: (s) => {
          this.metrics.kernelWriteSeconds.observe(s);
          this.metrics.routesInstalled.set(this.kernel?.desired.size ?? 0);
        },
        onError: (e) => this.log.warn({ err: e.message }, 'kernel write failed'),
      });
  }

  private makeImportCtx(): ImportContext {
    const trivial = this.cfg.importAllow.length === 0 && !this.poolsKnown;
    return {
      localAs: this.cfg.localAs,
      routerId: this.routerIdNum,
      clusterId: this.clusterIdNum,
      acceptV4: trivial ? undefined : (a, l) => this.importPolicy.accept(v4String(a, l)),
      acceptOther: trivial ? undefined : (p) => this.importPolicy.accept(p),
    };
  }

  private poolsKnown = false;

  /** Replaces the import policy (etcd mode: from the IP pools). Re-evaluation applies to new UPDATEs. */
  setImportPolicy(policy: ImportPolicy, fromPools: boolean): void {
    this.importPolicy = policy;
    this.poolsKnown = fromPools;
    this.importCtx = this.makeImportCtx();
    // Kernel devices (tunl0 for IPIP pools) may have changed: recompute every learned route.
    this.rib.forEachRoute((p) => this.kernelUpdate(p, this.rib.paths(p)));
    void this.kernel?.flush();
  }

  async start(): Promise<void> {
    if (this.kernel && this.cfg.gracefulRestart.enabled && !this.restarting) {
      // Routes of ours still in the kernel mean we restarted: keep them (forwarding state
      // preserved) and tell peers with the R bit, until they sent End-of-RIB.
      try {
        const out = await this.kernel.ip(['-json', 'route', 'show', 'table', 'main', 'proto', 'bird']);
        if (out.trim() && (JSON.parse(out) as unknown[]).length > 0) this.restarting = true;
      } catch {
        /* no ip command: not restarting */
      }
    }
    if (this.openCfg.gracefulRestart) this.openCfg.gracefulRestart.restarting = this.restarting;
    if (this.kernel) {
      this.kernel.sweepAllowed = !this.restarting;
      if (this.restarting)
        this.restartTimer = setTimeout(
          () => this.finishRestart('restart time elapsed'),
          this.cfg.gracefulRestart.restartTime * 1000,
        );
      this.reconcileTimer = setInterval(() => void this.reconcile(), this.cfg.kernelReconcileSeconds * 1000);
      this.reconcileTimer.unref();
    }
    if (this.cfg.listen) await this.listen(this.cfg.listen.host, this.cfg.listen.port);
    if (this.cfg.controlPath)
      this.control = await startControl(this.cfg.controlPath, (cmd, args) => this.command(cmd, args));
    this.http = await startHealth(
      { live: () => !this.stopped, ready: () => this.readiness() },
      this.metrics.registry,
      this.cfg.health,
      this.cfg.metrics,
    );
    this.setExports(this.cfg.exports);
    this.setPeers(this.cfg.peers);
    this.log.info(
      {
        routerId: this.cfg.routerId,
        as: this.cfg.localAs,
        listen: this.cfg.listen,
        peers: this.cfg.peers.length,
        restarting: this.restarting,
      },
      'speaker started',
    );
  }

  private listen(host: string, port: number): Promise<void> {
    const server = createServer((sock) => {
      const addr = normalizeAddress(sock.remoteAddress ?? '');
      const entry = [...this.peers.values()].find((p) => p.spec.address === addr);
      if (!entry) {
        this.log.info({ from: addr }, 'connection from an unknown address refused');
        sock.destroy();
        return;
      }
      entry.session.acceptIncoming(sock);
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          new Error(
            e.code === 'EADDRINUSE'
              ? `listen: ${host}:${port} is already in use (another BGP daemon?)`
              : e.code === 'EADDRNOTAVAIL'
                ? `listen: ${host} is not an address of this host`
                : `listen: ${e.message}`,
          ),
        ),
      );
      server.listen(port, host, () => resolve());
    });
  }

  async stop(opts: { graceful?: boolean } = {}): Promise<void> {
    this.stopped = true;
    const graceful = opts.graceful ?? this.cfg.gracefulRestart.enabled;
    clearInterval(this.reconcileTimer);
    clearTimeout(this.restartTimer);
    for (const e of this.peers.values()) {
      clearTimeout(e.grTimer);
      if (graceful) e.session.abort();
      else e.session.stop();
    }
    this.server?.close();
    this.control?.close();
    for (const a of this.http) await a.close();
    if (this.kernel && !graceful) await this.kernel.removeAll();
    this.log.info({ graceful }, 'speaker stopped');
  }

  // ------------------------------------------------------------------ peers

  /** Adds, updates and removes peers to match the list (keyed by address and port). */
  setPeers(specs: readonly PeerSpec[]): void {
    const want = new Map(specs.map((s) => [`${s.address}|${s.port ?? 179}`, s]));
    for (const [k, e] of this.peers) {
      const s = want.get(k);
      if (!s || JSON.stringify(s) !== JSON.stringify(e.spec)) {
        this.removePeer(e);
      }
    }
    for (const [k, s] of want) if (!this.peers.has(k)) this.addPeer(k, s);
  }

  private addPeer(key: string, spec: PeerSpec): void {
    const name = spec.name ?? `peer_${spec.address.replace(/[.:]/g, '_')}`;
    const session = new Peer(
      {
        name,
        address: spec.address,
        port: spec.port ?? 179,
        remoteAs: spec.as ?? this.cfg.localAs,
        passive: spec.passive ?? false,
        localAddress: spec.localAddress,
        holdTime: spec.holdTime ?? this.cfg.holdTime,
        keepaliveTime: spec.keepaliveTime ?? this.cfg.keepaliveTime,
        connectRetry: this.cfg.connectRetry,
        gracefulRestart: (spec.gracefulRestart ?? true) && this.cfg.gracefulRestart.enabled,
        rrClient: spec.rrClient ?? false,
        families: spec.families ?? ['ipv4', 'ipv6'],
      },
      this.openCfg,
    );
    const ebgp = (spec.as ?? this.cfg.localAs) !== this.cfg.localAs;
    const rib = this.rib.addPeer({
      name,
      local: false,
      ebgp,
      routerId: 0,
      addressKey: addressSortKey(spec.address),
      rrClient: spec.rrClient ?? false,
    });
    const e: PeerEntry = {
      spec,
      key,
      session,
      rib,
      out: new AdjRibOut(),
      synced: false,
      eor: new Set(),
      grTimer: undefined,
      established: 0,
    };
    this.peers.set(key, e);
    const log = this.log.child({ peer: spec.address, name });
    session.on('log', (level, msg, extra) => log[level](extra ?? {}, msg));
    session.on('state', (st, old) => {
      log.info({ state: st, from: old }, 'session state');
      this.metrics.sessionState.set({ peer: spec.address }, STATE_NUMBER[st] ?? 0);
    });
    session.on('established', (n) => this.onEstablished(e, n));
    session.on('down', (reason, n) => this.onDown(e, reason, n));
    session.on('update', (frame, n) => this.onUpdate(e, frame, n));
    session.on('refresh', (afi) => {
      log.info({ afi }, 'route refresh requested');
      e.out.reset();
      this.fullExport(e);
    });
    this.metrics.sessionState.set({ peer: spec.address }, 1);
    session.start();
  }

  private removePeer(e: PeerEntry): void {
    e.session.stop();
    clearTimeout(e.grTimer);
    this.rib.removePeer(e.rib);
    this.peers.delete(e.key);
    this.metrics.sessionState.remove({ peer: e.spec.address });
  }

  private onEstablished(e: PeerEntry, n: Negotiated): void {
    e.rib.ebgp = n.peerAs !== this.cfg.localAs;
    e.rib.routerId = n.peerId;
    e.established = Date.now();
    e.eor.clear();
    this.metrics.establishedTotal.inc({ peer: e.spec.address });
    this.log.info(
      {
        peer: e.spec.address,
        peerAs: n.peerAs,
        hold: n.holdTime,
        families: [...n.families],
        gr: !!n.gracefulRestart,
      },
      'session established',
    );
    // A restarting peer that no longer does graceful restart: drop its stale routes now.
    if (e.grTimer && !n.gracefulRestart) this.sweepStale(e, 0, 'peer came back without graceful restart');
    e.out.reset();
    this.fullExport(e);
    for (const f of n.families) e.session.send(endOfRib(f === 'ipv4' ? 1 : 2, n.ctx));
    e.synced = true;
  }

  private onDown(e: PeerEntry, reason: DownReason, n: Negotiated | undefined): void {
    e.synced = false;
    e.out.reset();
    const gr =
      n?.gracefulRestart &&
      (reason === 'tcp' || reason === 'hold-expired' || reason === 'peer-restarted') &&
      !this.stopped;
    this.log.warn({ peer: e.spec.address, reason, gracefulRestart: !!gr }, 'session down');
    if (gr && n?.gracefulRestart) {
      e.rib.adjIn.markStale();
      e.rib.adjIn.v4.forEach((a, l) => {
        this.rib.updateV4(a, l);
      });
      for (const p of [...e.rib.adjIn.other.keys()]) this.rib.updateOther(p);
      clearTimeout(e.grTimer);
      const secs = n.gracefulRestart.restartTime;
      e.grTimer = setTimeout(() => this.sweepStale(e, 0, 'restart time elapsed'), secs * 1000);
      e.grTimer.unref();
      return;
    }
    clearTimeout(e.grTimer);
    e.grTimer = undefined;
    this.rib.clearPeer(e.rib);
  }

  private sweepStale(e: PeerEntry, afi: 0 | 1 | 2, why: string): void {
    const n = e.rib.adjIn.sweepStale(
      afi,
      (a, l) => this.rib.updateV4(a, l),
      (p) => this.rib.updateOther(p),
    );
    if (afi === 0 || e.rib.adjIn.size === 0 || e.eor.size >= 2) {
      clearTimeout(e.grTimer);
      e.grTimer = undefined;
    }
    this.log.info({ peer: e.spec.address, afi, removed: n, why }, 'stale routes swept');
  }

  private onUpdate(e: PeerEntry, frame: Uint8Array, n: Negotiated): void {
    this.metrics.updatesReceived.inc({ peer: e.spec.address });
    const r = applyUpdate(frame, n.ctx, e.rib, this.rib, this.importCtx);
    if (r.errors.length) {
      for (const err of r.errors) this.metrics.updateErrors.inc({ peer: e.spec.address, action: err.action });
      this.log.warn(
        { peer: e.spec.address, errors: r.errors.map((x) => `${x.action}: ${x.message}`) },
        r.treatAsWithdraw
          ? 'malformed UPDATE treated as withdraw (RFC 7606)'
          : 'UPDATE attributes discarded (RFC 7606)',
      );
    }
    if (r.endOfRib) {
      e.eor.add(r.endOfRib);
      if (e.grTimer) this.sweepStale(e, r.endOfRib, 'End-of-RIB');
      if (this.restarting) this.checkRestartDone();
    }
  }

  private checkRestartDone(): void {
    for (const e of this.peers.values()) {
      const n = e.session.negotiated;
      if (!e.session.established || !n) return;
      for (const f of n.families) if (!e.eor.has(f === 'ipv4' ? 1 : 2)) return;
    }
    this.finishRestart('End-of-RIB from every peer');
  }

  private finishRestart(why: string): void {
    if (!this.restarting) return;
    this.restarting = false;
    clearTimeout(this.restartTimer);
    if (this.openCfg.gracefulRestart) this.openCfg.gracefulRestart.restarting = false;
    for (const e of this.peers.values()) e.session.setRestarting(false);
    if (this.kernel) this.kernel.sweepAllowed = true;
    this.log.info({ why }, 'graceful restart finished: stale kernel routes are swept');
    void this.reconcile();
  }

  // ------------------------------------------------------------------ exports

  /** Sets the prefixes this speaker originates. */
  setExports(prefixes: readonly string[]): void {
    const want = new Set(prefixes.map((p) => canonical(p)));
    const set = this.store.intern(LOCAL_ATTR_KEY, () => ({
      attributes: localAttributes(),
      nextHop: '',
      localPref: undefined,
      asPath: [],
      asPathLen: 0,
      neighborAs: 0,
      origin: 0,
      med: undefined,
      originatorId: undefined,
      clusterList: [],
    }));
    const adj = this.local.adjIn;
    for (const p of this.exports)
      if (!want.has(p)) {
        const pf = parsePrefix(p);
        if (pf.afi === 1) {
          const a = u32(pf.addr);
          if (adj.deleteV4(a, pf.len)) this.rib.updateV4(a, pf.len);
        } else if (adj.deleteOther(p, 0)) this.rib.updateOther(p);
      }
    this.store.ref(set.id); // keep the local set alive while we iterate
    for (const p of want)
      if (!this.exports.has(p)) {
        const pf = parsePrefix(p);
        if (pf.afi === 1) {
          const a = u32(pf.addr);
          if (adj.setV4(a, pf.len, set.id)) this.rib.updateV4(a, pf.len);
        } else if (adj.setOther(p, 0, set.id)) this.rib.updateOther(p);
      }
    this.store.unref(set.id);
    this.exports = want;
  }

  get exported(): string[] {
    return [...this.exports].sort();
  }

  // ------------------------------------------------------------------ propagation

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const targets = [...this.peers.values()].filter((e) => e.synced && e.session.established);
    const cache = new Map<
      string,
      { key: string; attributes: import('bgp-parser-ts').PathAttribute[]; nextHop: string } | undefined
    >();
    const kernel = this.kernel;
    this.rib.drainDirty(
      (a, l) => {
        if (!kernel && targets.length === 0) return;
        const paths = this.rib.pathsV4(a, l);
        if (targets.length === 0 && paths.length === 1 && this.rib.peers[paths[0]!.peer]?.local && !kernel)
          return;
        const p = v4String(a, l);
        if (kernel) this.kernelUpdate(p, paths);
        for (const t of targets) t.out.stage(p, this.outFor(t, paths, cache));
      },
      (p) => {
        const paths = this.rib.paths(p);
        if (kernel) this.kernelUpdate(p, paths);
        for (const t of targets) t.out.stage(p, this.outFor(t, paths, cache));
      },
    );
    for (const t of targets) this.sendQueued(t);
    if (kernel) void kernel.flush();
    this.metrics.locRibPrefixes.set(this.rib.size);
  }

  private outFor(
    t: PeerEntry,
    paths: readonly PathRef[],
    cache: Map<
      string,
      { key: string; attributes: import('bgp-parser-ts').PathAttribute[]; nextHop: string } | undefined
    >,
  ) {
    const best = paths[0];
    if (!best) return undefined;
    const ck = `${t.key}#${best.peer}#${best.attrId}`;
    if (cache.has(ck)) return cache.get(ck);
    const src = this.rib.peers[best.peer]!;
    const isReflector = this.clusterIdNum !== undefined;
    let out:
      | { key: string; attributes: import('bgp-parser-ts').PathAttribute[]; nextHop: string }
      | undefined;
    if (
      mayAdvertise(
        {
          peerIdx: src.idx,
          local: src.local,
          ebgp: src.ebgp,
          rrClient: src.rrClient,
          routerId: src.routerId,
        },
        { peerIdx: t.rib.idx, ebgp: t.rib.ebgp, rrClient: t.rib.rrClient },
        isReflector,
      )
    ) {
      const reflecting = !src.local && !src.ebgp && !t.rib.ebgp;
      const o = outboundPath(
        this.store.get(best.attrId),
        { local: src.local, ebgp: src.ebgp, routerId: src.routerId },
        { ebgp: t.rib.ebgp },
        reflecting,
        {
          localAs: this.cfg.localAs,
          routerId: this.routerIdNum,
          clusterId: this.clusterIdNum,
        },
      );
      out = {
        key: `${o.nextHop}|${JSON.stringify(o.attributes)}`,
        attributes: o.attributes,
        nextHop: o.nextHop,
      };
    }
    cache.set(ck, out);
    return out;
  }

  private selfNextHops(t: PeerEntry): { v4: string | undefined; v6: string | undefined } {
    const la = t.session.localAddress ?? '';
    return {
      v4: la && !la.includes(':') ? la : (this.cfg.nextHopV4 ?? this.cfg.routerId),
      v6: la.includes(':') && !la.startsWith('fe80') ? la : this.cfg.nextHopV6,
    };
  }

  private sendQueued(t: PeerEntry): void {
    if (!t.out.pending || !t.session.negotiated) return;
    const self = this.selfNextHops(t);
    for (const m of t.out.build(t.session.negotiated.ctx, self.v4, self.v6)) {
      t.session.send(m);
      this.metrics.updatesSent.inc({ peer: t.spec.address });
    }
  }

  private fullExport(e: PeerEntry): void {
    const cache = new Map();
    this.rib.forEachRoute((p, paths) => e.out.stage(p, this.outFor(e, paths, cache)));
    this.sendQueued(e);
  }

  // ------------------------------------------------------------------ kernel

  private kernelUpdate(prefix: string, paths: readonly PathRef[]): void {
    const k = this.kernel;
    if (!k) return;
    const best = paths[0];
    const src = best ? this.rib.peers[best.peer] : undefined;
    if (!best || !src || src.local || this.exports.has(prefix)) {
      k.set(prefix, undefined);
      return;
    }
    const forced = this.importPolicy.device(prefix);
    const hops: NextHop[] = [];
    for (const p of paths) {
      const nh = this.store.get(p.attrId).nextHop;
      if (!nh || hops.some((h) => h.via === nh)) continue;
      const dev = forced ?? this.devices.get(nh);
      if (dev === undefined) {
        this.resolveDevice(nh, prefix);
        continue;
      }
      if (dev) hops.push({ via: nh, dev });
    }
    k.set(prefix, hops.length ? routeSpec(hops) : undefined);
  }

  private readonly devices = new Map<string, string>();
  private readonly resolving = new Map<string, Set<string>>();

  private resolveDevice(nh: string, prefix: string): void {
    let waiting = this.resolving.get(nh);
    if (waiting) {
      waiting.add(prefix);
      return;
    }
    waiting = new Set([prefix]);
    this.resolving.set(nh, waiting);
    void this.kernel!.deviceFor(nh).then((dev) => {
      this.devices.set(nh, dev);
      const ps = this.resolving.get(nh)!;
      this.resolving.delete(nh);
      if (!dev)
        this.log.warn({ nextHop: nh }, 'next hop is not reachable through any device; route not installed');
      for (const p of ps) this.kernelUpdate(p, this.rib.paths(p));
      void this.kernel?.flush();
    });
  }

  async reconcile(): Promise<void> {
    if (!this.kernel) return;
    try {
      await this.kernel.flush();
      const n = await this.kernel.reconcile();
      if (n) {
        this.metrics.kernelRepairs.inc(n);
        this.log.warn({ lines: n }, 'kernel drift repaired');
      }
      this.metrics.routesInstalled.set(this.kernel.desired.size);
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'kernel read-back failed');
    }
  }

  // ------------------------------------------------------------------ status

  readiness(): { ready: boolean; reasons: string[] } {
    const reasons: string[] = [];
    for (const e of this.peers.values()) {
      if (!e.session.established) reasons.push(`peer ${e.spec.address} is ${e.session.state}`);
      if (e.grTimer) reasons.push(`peer ${e.spec.address}: graceful restart pending`);
    }
    if (this.restarting) reasons.push('graceful restart of this speaker pending');
    return { ready: reasons.length === 0, reasons };
  }

  protocols() {
    return [...this.peers.values()].map((e) => {
      const n = e.session.negotiated;
      for (const [k, v] of [[e.spec.address, e.rib.adjIn.size]] as const)
        this.metrics.prefixesReceived.set({ peer: k }, v);
      return {
        name: e.session.cfg.name,
        address: e.spec.address,
        port: e.spec.port ?? 179,
        as: e.session.established && n ? n.peerAs : (e.spec.as ?? this.cfg.localAs),
        type: e.rib.ebgp ? 'eBGP' : 'iBGP',
        passive: e.spec.passive ?? false,
        rrClient: e.spec.rrClient ?? false,
        state: e.session.state,
        since: new Date(e.session.stats.lastStateChange).toISOString(),
        routerId: e.session.established && n ? ipv4(n.peerId) : '',
        holdTime: e.session.established && n ? n.holdTime : undefined,
        families: e.session.established && n ? [...n.families] : [],
        gracefulRestart: { negotiated: !!n?.gracefulRestart, pending: !!e.grTimer },
        prefixesReceived: e.rib.adjIn.size,
        prefixesSent: e.out.size,
        updatesIn: e.session.stats.rx.update,
        updatesOut: e.session.stats.tx.update,
        establishedTotal: e.session.stats.establishedTotal,
        lastError: e.session.stats.lastError,
      };
    });
  }

  routes(prefix?: string) {
    const out: RouteView[] = [];
    const describe = (p: string, paths: readonly PathRef[]) => {
      out.push({
        prefix: p,
        paths: paths.map((r, i) => {
          const s = this.store.get(r.attrId);
          const src = this.rib.peers[r.peer];
          const o: RouteView['paths'][number] = {
            from: src?.local ? 'local' : (src?.name ?? '?'),
            nextHop: src?.local ? 'self' : s.nextHop,
            asPath: s.asPath
              .map((g) => (g.type === 1 ? `{${g.asns.join(' ')}}` : g.asns.join(' ')))
              .join(' '),
            origin: originName(s.origin),
            best: i === 0,
            stale: r.stale,
          };
          if (s.localPref !== undefined) o.localPref = s.localPref;
          if (s.med !== undefined) o.med = s.med;
          return o;
        }),
      });
    };
    if (prefix) describe(canonical(prefix), this.rib.paths(canonical(prefix)));
    else this.rib.forEachRoute(describe);
    return out.sort((a, b) => (a.prefix < b.prefix ? -1 : 1));
  }

  status() {
    return {
      routerId: this.cfg.routerId,
      as: this.cfg.localAs,
      clusterId: this.cfg.clusterId ?? null,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      restarting: this.restarting,
      peers: this.peers.size,
      established: [...this.peers.values()].filter((e) => e.session.established).length,
      locRibPrefixes: this.rib.size,
      attributeSets: this.store.size,
      exported: this.exported,
      kernelRoutes: this.kernel?.desired.size ?? null,
      ready: this.readiness(),
      rssBytes: process.memoryUsage.rss(),
    };
  }

  command(cmd: string, args: string[]): unknown {
    if (cmd === 'show protocols') return this.protocols();
    if (cmd === 'show route') return this.routes(args[0]);
    return this.status();
  }
}

function u32(b: Uint8Array): number {
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

function ipv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Canonical prefix text (host bits cleared, IPv6 compressed). */
export function canonical(p: string): string {
  const pf = parsePrefix(p.includes('/') ? p : `${p}/${p.includes(':') ? 128 : 32}`);
  return pf.afi === 1 ? v4String(u32(pf.addr), pf.len) : `${ipv6ToString(pf.addr)}/${pf.len}`;
}

export type { Family };
export { BgpDecodeError };
