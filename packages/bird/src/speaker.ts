/**
 * The speaker: sessions (session/) feed their Adj-RIBs-In into the Loc-RIB (rib/); the
 * decision process feeds every channel (channels/) — one Adj-RIB-Out per Established
 * session and the kernel exporter — the prefixes whose best paths changed; the speaker
 * wires them together with graceful restart, origination, control socket, health and
 * metrics. Views for tricolor-birdc are in views.ts.
 */
import { createServer, type Server } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { EVENT_LOOP_SAMPLE_MS } from '@tricolor/contract';
import { BgpDecodeError, ipv4FromString, parsePrefix, updateErrorToJson } from 'bgp-parser-ts';
import pino, { type Logger } from 'pino';
import type { Channel } from './channels/channel.js';
import { KernelChannel } from './channels/kernel-channel.js';
import { Exporter } from './channels/outbound.js';
import { PeerChannel } from './channels/peer-channel.js';
import { endOfRib } from './channels/update-builder.js';
import { BirdConfigError, type PeerSpec, type SpeakerConfig } from './config/types.js';
import { query } from './control/client.js';
import { startControl } from './control/server.js';
import { startHealth } from './health.js';
import { type KernelIo, LinuxKernel } from './kernel/io.js';
import { type FamilyChanges, Metrics, STATE_NUMBER, UPDATE_ERROR_ACTIONS } from './metrics.js';
import { localAttributes } from './policy/export.js';
import { type ImportPolicy, makeImportPolicy } from './policy/import.js';
import { AttrStore } from './rib/attrs.js';
import { addressSortKey } from './rib/decision.js';
import { LocRib, type RibPeer } from './rib/loc-rib.js';
import { v4String } from './rib/prefix-table.js';
import { canonical, u32 } from './rib/prefix-text.js';
import { applyUpdate, type ImportContext } from './rib/update-in.js';
import type { Family, LocalOpenConfig, Negotiated } from './session/capabilities.js';
import { normalizeAddress } from './session/connection.js';
import type { DownReason } from './session/fsm.js';
import { Peer } from './session/peer.js';
import { linuxTcpMd5, type TcpMd5 } from './session/tcp-md5.js';
import { type CommandHandler, commandHandler, peerFigures, protocols, routes, status } from './views.js';

export { query };

/** One configured neighbour: its session, its Adj-RIB-In, and its Adj-RIB-Out while Established. */
export interface PeerEntry {
  spec: PeerSpec;
  key: string;
  session: Peer;
  rib: RibPeer;
  /** The Adj-RIB-Out: exists while the session is Established. */
  channel: PeerChannel | undefined;
  /** Families for which the peer's End-of-RIB arrived since the session came up. */
  eor: Set<number>;
  grTimer: NodeJS.Timeout | undefined;
  /** Prefixes announced, filtered and withdrawn each way, per family, across sessions (metrics). */
  changes: Record<Family, FamilyChanges>;
}

const noChanges = (): FamilyChanges => ({
  importUpdates: 0,
  importFiltered: 0,
  importWithdraws: 0,
  exportUpdates: 0,
  exportWithdraws: 0,
});

const LOCAL_ATTR_KEY = '\u0000local';

export interface SpeakerOptions {
  logger?: Logger;
  restarting?: boolean;
  /** The kernel; the Linux adapter's (`LinuxKernel`) when omitted. */
  kernelIo?: KernelIo;
  /** TCP MD5 signatures for peers with a password; Linux's TCP_MD5SIG when omitted. */
  tcpMd5?: TcpMd5;
}

export class Speaker {
  readonly store = new AttrStore();
  readonly rib = new LocRib(this.store);
  /** Instruments that do nothing until start() finds metrics are to be served. */
  metrics = Metrics.none();
  readonly log: Logger;
  readonly kernel: KernelChannel | undefined;
  readonly exporter: Exporter;
  readonly local: RibPeer;
  readonly peers = new Map<string, PeerEntry>();
  private readonly byAddress = new Map<string, PeerEntry>();
  private server: Server | undefined;
  private control: Server | undefined;
  private http: { close(): Promise<unknown> }[] = [];
  private exports = new Set<string>();
  private importPolicy: ImportPolicy;
  private importCtx: ImportContext;
  private flushScheduled = false;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  readonly startedAt = Date.now();
  private readonly openCfg: LocalOpenConfig;
  readonly routerIdNum: number;
  private readonly clusterIdNum: number | undefined;
  restarting = false;
  /** Every peer has been Established at the same time since start: readiness then asks for one. */
  private meshedOnce = false;
  private stopped = false;
  private poolsKnown = false;
  private readonly commands: CommandHandler;
  /** How long the event loop was held up (timers late by), for `show status`. */
  readonly loopDelay = monitorEventLoopDelay({ resolution: EVENT_LOOP_SAMPLE_MS });
  private readonly tcpMd5: TcpMd5;

  constructor(
    readonly cfg: SpeakerConfig,
    opts: SpeakerOptions = {},
  ) {
    this.log = opts.logger ?? pino({ level: cfg.logLevel, base: { name: 'tricolor-bird' } });
    this.routerIdNum = ipv4FromString(cfg.routerId);
    this.clusterIdNum = cfg.clusterId ? ipv4FromString(cfg.clusterId) : undefined;
    this.restarting = opts.restarting ?? false;
    this.tcpMd5 = opts.tcpMd5 ?? linuxTcpMd5;
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
    this.exporter = new Exporter(this.rib, {
      localAs: cfg.localAs,
      routerId: this.routerIdNum,
      clusterId: this.clusterIdNum,
    });
    this.importPolicy = makeImportPolicy({ allow: cfg.importAllow });
    this.importCtx = this.makeImportCtx();
    this.rib.onDirty = () => this.scheduleFlush();
    if (cfg.kernel)
      this.kernel = new KernelChannel({
        rib: this.rib,
        io: opts.kernelIo ?? new LinuxKernel(),
        log: this.log.child({ channel: 'kernel' }),
        onWrite: (seconds, _writes, installed) => {
          this.metrics.kernelWriteSeconds.observe(seconds);
          this.metrics.routesInstalled.set(installed);
        },
        onRepair: (prefixes) => {
          this.metrics.kernelRepairs.inc(prefixes.length);
          this.log.warn(
            { prefixes: prefixes.slice(0, 10), count: prefixes.length },
            'kernel route changed by someone else: repaired',
          );
        },
      });
    this.commands = commandHandler(this);
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

  /** Replaces the import policy (etcd mode: from the IP pools). Re-evaluation applies to new UPDATEs. */
  setImportPolicy(policy: ImportPolicy, fromPools: boolean): void {
    this.importPolicy = policy;
    this.poolsKnown = fromPools;
    this.importCtx = this.makeImportCtx();
    if (this.kernel) {
      // Kernel devices (tunl0 for IPIP pools) may have changed: every route is looked at again.
      this.kernel.setOverride(policy);
      this.refeed(this.kernel);
    }
  }

  async start(): Promise<void> {
    // A configured password is never dropped: without TCP MD5 here, the speaker does not start.
    const signed = this.cfg.peers.findIndex((p) => p.password !== undefined);
    const noMd5 = signed >= 0 ? this.tcpMd5.unavailable() : undefined;
    if (noMd5)
      throw new BirdConfigError(
        `peers[${signed}].password`,
        `peer ${this.cfg.peers[signed]!.address} asks for TCP MD5 (RFC 2385), which is not available here: ${noMd5}`,
      );
    this.loopDelay.enable();
    if (this.cfg.metrics) this.metrics = await Metrics.load(() => peerFigures(this));
    const k = this.kernel;
    if (k && this.cfg.gracefulRestart.enabled && !this.restarting) {
      // Routes of ours still in the kernel mean we restarted: keep them (forwarding state
      // preserved) and tell peers with the R bit, until they sent End-of-RIB.
      this.restarting = await k.anyInKernel().catch(() => false);
    }
    if (this.openCfg.gracefulRestart) this.openCfg.gracefulRestart.restarting = this.restarting;
    if (k) {
      k.sweepAllowed = !this.restarting;
      if (this.restarting)
        this.restartTimer = setTimeout(
          () => this.finishRestart('restart time elapsed'),
          this.cfg.gracefulRestart.restartTime * 1000,
        );
      // Repairs from the kernel's change announcements; the periodic read-back is the backstop.
      k.watch();
      this.reconcileTimer = setInterval(() => void this.reconcile(), this.cfg.kernelReconcileSeconds * 1000);
      this.reconcileTimer.unref();
    }
    if (this.cfg.listen) await this.listen(this.cfg.listen.host, this.cfg.listen.port);
    // Peers known before the first accept can run: a peer connecting while the control and
    // health endpoints start must not be refused as unknown (it would wait out its connect-retry).
    this.setExports(this.cfg.exports);
    this.setPeers(this.cfg.peers);
    if (this.cfg.controlPath)
      this.control = await startControl(this.cfg.controlPath, (cmd, args) => this.command(cmd, args));
    this.http = await startHealth(
      { live: () => !this.stopped, ready: () => this.readiness() },
      this.metrics.registry,
      this.cfg.health,
      this.cfg.metrics,
    );
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
      const entry = this.byAddress.get(addr);
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
      server.listen({ port, host, backlog: 4096 }, () => {
        // Peers configured before the listener existed.
        for (const e of this.peers.values())
          if (e.spec.password !== undefined) this.keyListener(e, e.spec.password);
        resolve();
      });
    });
  }

  async stop(opts: { graceful?: boolean } = {}): Promise<void> {
    this.stopped = true;
    this.loopDelay.disable();
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
    this.kernel?.close();
    this.log.info({ graceful }, 'speaker stopped');
  }

  // ------------------------------------------------------------------ peers

  /** Adds, updates and removes peers to match the list (keyed by address and port). */
  setPeers(specs: readonly PeerSpec[]): void {
    const want = new Map(specs.map((s) => [`${s.address}|${s.port ?? 179}`, s]));
    for (const [k, e] of this.peers) {
      const s = want.get(k);
      if (!s || JSON.stringify(s) !== JSON.stringify(e.spec)) this.removePeer(e);
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
        password: spec.password,
        holdTime: spec.holdTime ?? this.cfg.holdTime,
        keepaliveTime: spec.keepaliveTime ?? this.cfg.keepaliveTime,
        connectRetry: this.cfg.connectRetry,
        ...this.connectDelay(),
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
      channel: undefined,
      eor: new Set(),
      grTimer: undefined,
      changes: { ipv4: noChanges(), ipv6: noChanges() },
    };
    this.peers.set(key, e);
    this.byAddress.set(spec.address, e);
    const log = this.log.child({ peer: spec.address, name });
    session.on('log', (level, msg, extra) => log[level](extra ?? {}, msg));
    session.on('state', (st, old) => {
      log.info({ state: st, from: old }, 'session state');
      this.metrics.sessionState.set({ peer: spec.address }, STATE_NUMBER[st] ?? 0);
    });
    session.on('established', (n) => this.onEstablished(e, n));
    session.on('down', (reason, n) => this.onDown(e, reason, n));
    session.on('update', (frame, n) => this.onUpdate(e, frame, n));
    session.on('drain', () => e.channel?.drained());
    session.on('refresh', (afi) => {
      log.info({ afi }, 'route refresh requested');
      if (!e.channel) return;
      e.channel.reset();
      this.refeed(e.channel);
    });
    this.metrics.sessionState.set({ peer: spec.address }, 1);
    // Zero until the first malformed UPDATE, so a rate shows 0 rather than nothing.
    for (const action of UPDATE_ERROR_ACTIONS)
      this.metrics.updateErrors.inc({ peer: spec.address, action }, 0);
    if (spec.password !== undefined && !this.keyListener(e, spec.password)) return;
    session.start();
  }

  /**
   * Makes the listener expect `password` (undefined: no key) on segments from the peer's
   * address. false, with the error logged and shown as the peer's last error, when the
   * session cannot be signed: it is then never started (never unsigned).
   */
  private keyListener(e: PeerEntry, password: string | undefined): boolean {
    try {
      const why = password === undefined ? undefined : this.tcpMd5.unavailable();
      if (why) throw new Error(`TCP MD5 (RFC 2385) is not available here: ${why}`);
      if (this.server?.listening) this.tcpMd5.setListenerPassword(this.server, e.spec.address, password);
      return true;
    } catch (err) {
      if (password === undefined) return true; // no key left to remove
      const name = e.session.cfg.name;
      const msg = `peer ${e.spec.address} (${name}) has a password but its session cannot be signed: ${(err as Error).message}; not started`;
      e.session.stats.lastError = msg;
      this.log.error({ peer: e.spec.address, name }, msg);
      return false;
    }
  }

  /**
   * A speaker that has just started gives its peers a connect delay's time (4–5 s by
   * default, as BIRD's) to reach it first, so a restarted route reflector does not race
   * hundreds of clients that are already connecting; a peer configured later (a node that
   * joins) is reached within a second.
   */
  private connectDelay(): { connectDelay: number; connectDelaySpread: number } {
    const d = this.cfg.connectDelay;
    if (Date.now() - this.startedAt < d * 1000) return { connectDelay: d, connectDelaySpread: 0.2 };
    return { connectDelay: Math.min(1, d), connectDelaySpread: 0.8 };
  }

  private removePeer(e: PeerEntry): void {
    e.session.stop();
    if (e.spec.password !== undefined) this.keyListener(e, undefined);
    clearTimeout(e.grTimer);
    e.channel?.reset();
    e.channel = undefined;
    this.rib.removePeer(e.rib);
    this.peers.delete(e.key);
    if (this.byAddress.get(e.spec.address) === e) this.byAddress.delete(e.spec.address);
    this.metrics.sessionState.remove({ peer: e.spec.address });
    for (const action of UPDATE_ERROR_ACTIONS)
      this.metrics.updateErrors.remove({ peer: e.spec.address, action });
  }

  private onEstablished(e: PeerEntry, n: Negotiated): void {
    e.rib.ebgp = n.peerAs !== this.cfg.localAs;
    e.rib.routerId = n.peerId;
    e.eor.clear();
    if (!this.meshedOnce) this.meshedOnce = [...this.peers.values()].every((x) => x.session.established);
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
    const la = e.session.localAddress ?? '';
    const channel = new PeerChannel({
      name: e.session.cfg.name,
      rib: this.rib,
      exporter: this.exporter,
      target: {
        peerIdx: e.rib.idx,
        ebgp: e.rib.ebgp,
        rrClient: e.rib.rrClient,
        fourOctetAs: n.ctx.fourOctetAs,
      },
      families: n.families,
      selfV4: la && !la.includes(':') ? la : (this.cfg.nextHopV4 ?? this.cfg.routerId),
      selfV6: la.includes(':') && !la.startsWith('fe80') ? la : (this.cfg.nextHopV6 ?? ''),
      write: (bytes, messages) => e.session.send(bytes, messages),
      sentChanges: e.changes,
    });
    e.channel?.reset();
    e.channel = channel;
    this.refeed(channel);
    // End-of-RIB (RFC 4724) once the initial export has left.
    channel.whenSent(() => {
      for (const f of n.families) e.session.send(endOfRib(f === 'ipv4' ? 1 : 2, n.ctx));
    });
  }

  private onDown(e: PeerEntry, reason: DownReason, n: Negotiated | undefined): void {
    e.channel?.reset();
    e.channel = undefined;
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
    const r = applyUpdate(frame, n.ctx, e.rib, this.rib, this.importCtx);
    const { ipv4, ipv6 } = e.changes;
    ipv4.importUpdates += r.announced + r.filtered - r.v6.announced - r.v6.filtered;
    ipv4.importFiltered += r.filtered - r.v6.filtered;
    ipv4.importWithdraws += r.withdrawn - r.v6.withdrawn;
    ipv6.importUpdates += r.v6.announced + r.v6.filtered;
    ipv6.importFiltered += r.v6.filtered;
    ipv6.importWithdraws += r.v6.withdrawn;
    if (r.errors.length) {
      for (const err of r.errors) this.metrics.updateErrors.inc({ peer: e.spec.address, action: err.action });
      // Each error with its action, NOTIFICATION code/subcode, attribute and the rule that says so.
      this.log.warn(
        { peer: e.spec.address, errors: r.errors.map(updateErrorToJson) },
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

  /** The channels fed now: every Established session's Adj-RIB-Out and the kernel. */
  private channels(): Channel[] {
    const out: Channel[] = [];
    for (const e of this.peers.values()) if (e.channel) out.push(e.channel);
    if (this.kernel) out.push(this.kernel);
    return out;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Feeds the prefixes whose best paths changed to every channel, then lets each write. */
  private flush(): void {
    const channels = this.channels();
    const rib = this.rib;
    rib.drainDirty(
      (a, l, id) => {
        if (channels.length === 0) return;
        const paths = rib.pathsV4(a, l);
        for (const c of channels) c.updateV4(a, l, paths, id);
      },
      (p) => {
        const paths = rib.paths(p);
        for (const c of channels) c.updateOther(p, paths);
      },
    );
    for (const c of channels) c.flush();
    this.metrics.locRibPrefixes.set(rib.size);
  }

  /** Feeds a channel the whole Loc-RIB (a new session, a route refresh, new kernel devices). */
  refeed(c: Channel): void {
    this.rib.forEachV4((a, l, paths, id) => c.updateV4(a, l, paths, id));
    for (const [p, paths] of this.rib.other) c.updateOther(p, paths);
    c.flush();
  }

  async reconcile(): Promise<void> {
    if (!this.kernel) return;
    this.flush(); // changes the Loc-RIB has not handed to the channels yet are part of the desired state
    try {
      const n = await this.kernel.reconcile();
      if (n) {
        this.metrics.kernelRepairs.inc(n);
        this.log.warn({ routes: n }, 'kernel drift repaired');
      }
      this.metrics.routesInstalled.set(this.kernel.installed);
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'kernel read-back failed');
    }
  }

  // ------------------------------------------------------------------ status

  /**
   * What the readiness probe asks (Calico's rule): while the node starts — until every peer
   * has been Established at the same time once, or for `readinessStrictSeconds` after start
   * — every peer Established and no graceful restart pending, so a rolling update waits
   * until BGP is back; afterwards at least one Established peer, so one dead node does not
   * make every other node NotReady (and block DaemonSet rollouts).
   */
  readiness(): { ready: boolean; reasons: string[]; established: number; peers: number } {
    const down: string[] = [];
    let established = 0;
    for (const e of this.peers.values()) {
      if (e.session.established) established++;
      else down.push(`peer ${e.spec.address} is ${e.session.state}`);
    }
    const reasons: string[] = [];
    const starting = Date.now() - this.startedAt < this.cfg.readinessStrictSeconds * 1000;
    if (!this.meshedOnce && (starting || established === 0)) {
      reasons.push(...down);
      for (const e of this.peers.values())
        if (e.grTimer) reasons.push(`peer ${e.spec.address}: graceful restart pending`);
      if (this.restarting) reasons.push('graceful restart of this speaker pending');
    } else if (established === 0 && this.peers.size > 0) reasons.push('no peer Established', ...down);
    return { ready: reasons.length === 0, reasons, established, peers: this.peers.size };
  }

  /** The peer named like BIRD's protocol (or by its address). */
  peer(name: string): PeerEntry | undefined {
    for (const e of this.peers.values()) if (e.session.cfg.name === name || e.spec.address === name) return e;
    return undefined;
  }

  command(cmd: string, args: string[]): unknown {
    return this.commands(cmd, args);
  }

  /** `show status`, `show protocols`, `show route [PREFIX]` as data (views.ts). */
  status() {
    return status(this);
  }

  protocols() {
    return protocols(this);
  }

  routes(prefix?: string) {
    return routes(this, prefix);
  }
}

export type { Family };
export { BgpDecodeError, canonical };
