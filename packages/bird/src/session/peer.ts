/**
 * One BGP neighbour: the FSM (fsm.ts) driven by its connection(s) and timers, capability
 * negotiation, connection collisions (collision.ts) and message dispatch. Routes are not
 * handled here: Established sessions emit 'update' frames and 'refresh' requests, and the
 * speaker sends UPDATEs through `send`.
 *
 * A connection the peer opens while a session is already under way (OpenSent, OpenConfirm,
 * Established) is kept aside as the candidate: we send our OPEN on it and decide on its
 * OPEN which of the two the session keeps. Messages that arrive on the candidate are held
 * and replayed in order when it wins, so nothing read together with its OPEN is lost.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import {
  BgpDecodeError,
  decodeMessageAt,
  encodeKeepalive,
  encodeNotification,
  encodeOpen,
  errorName,
  type OpenMessage,
  openCapabilities,
  updateErrorToJson,
} from 'bgp-parser-ts';
import { buildOpen, type Family, type LocalOpenConfig, type Negotiated, negotiate } from './capabilities.js';
import { collisionChoice } from './collision.js';
import { Connection } from './connection.js';
import {
  DEFAULT_FSM_CONFIG,
  type DownReason,
  type FsmAction,
  type FsmConfig,
  type FsmEvent,
  type FsmState,
  INITIAL_STATE,
  step,
  type TimerName,
} from './fsm.js';
import { Timers } from './timers.js';

export interface PeerConfig {
  /** Display name (BIRD-style protocol name). */
  name: string;
  address: string;
  port: number;
  /** Expected AS; undefined accepts any (then eBGP/iBGP follows the OPEN). */
  remoteAs?: number | undefined;
  passive: boolean;
  localAddress?: string | undefined;
  /** TCP MD5 password (RFC 2385): every segment of the session is signed with it. */
  password?: string | undefined;
  holdTime: number;
  keepaliveTime?: number | undefined;
  connectRetry: number;
  /** Seconds (at most) before the first connect, and the share taken off at random; see FsmConfig. */
  connectDelay: number;
  connectDelaySpread: number;
  gracefulRestart: boolean;
  /** We reflect routes to this peer as a route-reflector client (RFC 4456). */
  rrClient: boolean;
  families: Family[];
}

export const MESSAGE_TYPES = ['open', 'update', 'notification', 'keepalive', 'refresh'] as const;
export type MessageCounts = Record<(typeof MESSAGE_TYPES)[number], number>;

export interface PeerStats {
  /** Messages received, by type (BIRD's `show protocols all` statistics). */
  rx: MessageCounts;
  /** Messages sent, by type. */
  tx: MessageCounts;
  establishedTotal: number;
  lastError: string;
  lastStateChange: number;
  /** Connection collisions resolved (RFC 4271 §6.8), either way. */
  collisions: number;
}

/** How long an Established session's old connection gets to show it is dead (probe KEEPALIVE → reset). */
export const PROBE_MS = 1000;

/**
 * A first connect whose delay timer fires this late waits another delay, up to
 * MAX_POSTPONE times: a late timer means a busy event loop, and connections of peers that
 * already reached us are likely still waiting to be read — a connect of ours now would
 * collide with them.
 */
const LATE_MS = 250;
const MAX_POSTPONE = 6;

const TYPE_NAMES: Record<number, keyof MessageCounts> = {
  1: 'open',
  2: 'update',
  3: 'notification',
  4: 'keepalive',
  5: 'refresh',
};

interface Candidate {
  conn: Connection;
  /** Everything received on it so far, its OPEN first. */
  frames: Uint8Array[];
  open: OpenMessage | undefined;
  probeSurvived: boolean;
  timer: NodeJS.Timeout | undefined;
}

export interface Peer {
  on(ev: 'state', fn: (state: string, old: string) => void): this;
  on(ev: 'established', fn: (n: Negotiated) => void): this;
  on(ev: 'down', fn: (reason: DownReason, n: Negotiated | undefined) => void): this;
  on(ev: 'update', fn: (frame: Uint8Array, n: Negotiated) => void): this;
  on(ev: 'refresh', fn: (afi: number, safi: number) => void): this;
  /** The socket accepts writes again after `send` returned false. */
  on(ev: 'drain', fn: () => void): this;
  on(ev: 'log', fn: (level: 'info' | 'warn' | 'debug', msg: string, extra?: object) => void): this;
}

const counts = (): MessageCounts => ({ open: 0, update: 0, notification: 0, keepalive: 0, refresh: 0 });

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: typed event overloads for EventEmitter
export class Peer extends EventEmitter {
  private fsm: FsmState = INITIAL_STATE;
  private readonly fsmCfg: FsmConfig;
  private readonly timers: Timers<TimerName>;
  private conn: Connection | undefined;
  private candidate: Candidate | undefined;
  private myOpen: OpenMessage;
  /** The first connect is still being delayed (see LATE_MS), and how often it was postponed. */
  private firstDelay = false;
  private postponed = 0;
  negotiated: Negotiated | undefined;
  /** The peer's last OPEN (capabilities for `show protocols all`). */
  remoteOpen: OpenMessage | undefined;
  readonly stats: PeerStats = {
    rx: counts(),
    tx: counts(),
    establishedTotal: 0,
    lastError: '',
    lastStateChange: Date.now(),
    collisions: 0,
  };

  constructor(
    readonly cfg: PeerConfig,
    private readonly local: LocalOpenConfig,
    fsm: Partial<FsmConfig> = {},
  ) {
    super();
    this.fsmCfg = {
      ...DEFAULT_FSM_CONFIG,
      ...fsm,
      passive: cfg.passive,
      connectRetrySeconds: cfg.connectRetry,
      connectDelaySeconds: cfg.connectDelay,
      connectDelaySpread: cfg.connectDelaySpread,
      holdTimeSeconds: cfg.holdTime,
    };
    this.timers = new Timers((name, late) => this.onTimer(name, late));
    this.myOpen = this.makeOpen();
  }

  get state(): string {
    return this.fsm.name;
  }

  get established(): boolean {
    return this.fsm.name === 'Established';
  }

  get localAddress(): string | undefined {
    return this.conn?.localAddress;
  }

  /** Addresses and ports of the current connection, when there is one. */
  get endpoints(): { local: string; localPort: number; remotePort: number; outgoing: boolean } | undefined {
    const c = this.conn;
    if (!c || c.isClosed) return undefined;
    return {
      local: c.localAddress,
      localPort: c.socket.localPort ?? 0,
      remotePort: c.socket.remotePort ?? 0,
      outgoing: c.outgoing,
    };
  }

  /** Timers as configured and negotiated (seconds), and flaps behind the current backoff. */
  get timing() {
    return {
      holdTime: this.fsm.holdTime,
      keepaliveTime: this.fsm.keepaliveTime,
      connectRetry: this.fsmCfg.connectRetrySeconds,
      flaps: this.fsm.flaps,
      establishedAt: this.fsm.name === 'Established' ? this.fsm.establishedAt : undefined,
    };
  }

  /** Bytes queued in the socket and not yet taken by the kernel. */
  get writeQueue(): number {
    return this.conn?.socket.writableLength ?? 0;
  }

  /** Our OPEN (capabilities for `show protocols all`). */
  get localOpen(): OpenMessage {
    return this.myOpen;
  }

  /** Restarting flag for the next OPENs (graceful restart, RFC 4724). */
  setRestarting(restarting: boolean): void {
    if (this.local.gracefulRestart) this.local.gracefulRestart.restarting = restarting;
    this.myOpen = this.makeOpen();
  }

  private makeOpen(): OpenMessage {
    return buildOpen({
      ...this.local,
      holdTime: this.cfg.holdTime,
      families: this.cfg.families,
      gracefulRestart: this.cfg.gracefulRestart ? this.local.gracefulRestart : undefined,
    });
  }

  start(): void {
    this.myOpen = this.makeOpen();
    this.firstDelay = !this.cfg.passive && this.cfg.connectDelay > 0;
    this.postponed = 0;
    this.dispatch({ type: 'ManualStart' });
  }

  stop(): void {
    this.dispatch({ type: 'ManualStop' });
    this.dropCandidate();
    this.timers.stopAll();
  }

  /**
   * Drops the session without a NOTIFICATION (a graceful-restart shutdown: peers keep our
   * routes as stale until we are back, RFC 4724).
   */
  abort(): void {
    this.timers.stopAll();
    this.fsm = { ...this.fsm, name: 'Idle', enabled: false };
    const k = this.candidate;
    this.candidate = undefined;
    if (k) clearTimeout(k.timer);
    k?.conn.socket.destroy();
    const c = this.conn;
    this.conn = undefined;
    c?.socket.destroy();
  }

  /** Sends an UPDATE (or any encoded message) on an Established session; false when the socket is full. */
  send(bytes: Uint8Array, messages = 1): boolean {
    if (!this.conn || this.fsm.name !== 'Established') return false;
    this.stats.tx.update += messages;
    return this.conn.write(bytes);
  }

  /** An incoming TCP connection from this peer's address. */
  acceptIncoming(socket: Socket): void {
    const c = new Connection(socket, false);
    const st = this.fsm.name;
    if (!this.fsm.enabled || (st === 'Idle' && this.fsm.flaps >= 4)) {
      this.emit('log', 'info', 'refusing connection (stopped or backing off after errors)');
      c.write(encodeNotification({ code: 6, subcode: 5, data: new Uint8Array(0) }));
      c.close();
      return;
    }
    if ((st === 'Idle' || st === 'Connect' || st === 'Active') && !this.conn) {
      // Nothing under way that a collision could concern.
      this.adopt(c);
      this.dispatch({ type: 'TcpConnectionConfirmed' });
      return;
    }
    // An attempt of ours still connecting, or OpenSent / OpenConfirm / Established: decided
    // on this connection's OPEN. The attempt is not given up at the accept: it may already be
    // up in the kernel, its connect not yet reported, and the peer may be keeping it while
    // giving up this one — two speakers starting together would each close the connection
    // the other kept. If the OPEN comes first, the attempt is given up then (as BIRD does).
    this.dropCandidate();
    const k: Candidate = { conn: c, frames: [], open: undefined, probeSurvived: false, timer: undefined };
    this.candidate = k;
    this.emit('log', 'debug', `second connection while ${st}: waiting for its OPEN`);
    c.handlers = {
      frames: (frames) => {
        k.frames.push(...frames);
        this.checkCandidate();
      },
      decodeError: (e) => this.refuseCandidate(k, e.code, e.subcode, e.message),
      closed: () => {
        if (this.candidate !== k) return;
        clearTimeout(k.timer);
        this.candidate = undefined;
      },
      connected: () => undefined,
    };
    c.write(encodeOpen(this.myOpen));
    this.stats.tx.open++;
    if (st === 'Established' && this.conn) {
      // A restarted peer's kernel answers this on the old connection with a reset.
      this.conn.write(encodeKeepalive());
      this.stats.tx.keepalive++;
    }
    k.timer = setTimeout(() => {
      if (this.candidate === k) this.refuseCandidate(k, 4, 0, 'no OPEN on the second connection');
    }, this.fsmCfg.openHoldSeconds * 1000);
    k.timer.unref();
  }

  private dropCandidate(): void {
    const k = this.candidate;
    if (!k) return;
    this.candidate = undefined;
    clearTimeout(k.timer);
    k.conn.close();
  }

  private refuseCandidate(k: Candidate, code: number, subcode: number, why: string): void {
    if (this.candidate !== k) return;
    this.emit('log', 'info', `second connection closed: ${why}`);
    k.conn.write(encodeNotification({ code, subcode, data: new Uint8Array(0) }));
    this.stats.tx.notification++;
    this.dropCandidate();
  }

  /** Decides the candidate once its OPEN is in (and, when Established, once the probe had time). */
  private checkCandidate(): void {
    const k = this.candidate;
    if (!k || k.frames.length === 0) return;
    if (!k.open) {
      const f = k.frames[0]!;
      if (f[18] !== 1) {
        this.refuseCandidate(k, 5, 1, 'first message is not an OPEN');
        return;
      }
      let open: OpenMessage;
      try {
        open = decodeMessageAt(f, 0).message as OpenMessage;
      } catch (e) {
        if (!(e instanceof BgpDecodeError)) throw e;
        this.refuseCandidate(k, e.code, e.subcode, `bad OPEN: ${e.message}`);
        return;
      }
      const n = negotiate(this.myOpen, open, {
        peerAs: this.cfg.remoteAs,
        keepaliveTime: this.cfg.keepaliveTime,
      });
      if ('code' in n) {
        this.refuseCandidate(k, n.code, n.subcode, `OPEN rejected: ${n.message}`);
        return;
      }
      k.open = open;
    }
    const gr = openCapabilities(k.open).find((c) => c.kind === 'graceful-restart');
    const choice = collisionChoice({
      state: this.fsm.name,
      existingOutgoing: this.conn?.outgoing,
      localId: this.local.routerId,
      remoteId: k.open.bgpId,
      restarting: gr?.kind === 'graceful-restart' && (gr.restartFlags & 8) !== 0,
      probeSurvived: k.probeSurvived,
    });
    if (choice === 'wait') {
      clearTimeout(k.timer);
      k.timer = setTimeout(() => {
        k.probeSurvived = true;
        this.checkCandidate();
      }, PROBE_MS);
      k.timer.unref();
      return;
    }
    this.stats.collisions++;
    if (choice === 'keep-existing') {
      this.refuseCandidate(k, 6, 7, `connection collision: keeping the ${this.fsm.name} session`);
      return;
    }
    this.switchTo(k);
  }

  /** The candidate wins: the session continues on it in OpenSent, its messages replayed in order. */
  private switchTo(k: Candidate): void {
    this.candidate = undefined;
    clearTimeout(k.timer);
    const was = this.fsm.name;
    this.emit('log', 'info', `continuing on the peer's new connection (was ${was})`);
    this.dispatch({ type: 'CollisionSwitch' });
    if (k.conn.isClosed) return;
    this.adopt(k.conn);
    this.onFrames(k.conn, k.frames);
  }

  private adopt(c: Connection): void {
    this.conn = c;
    c.handlers = {
      frames: (frames) => this.onFrames(c, frames),
      decodeError: (e) => {
        if (this.conn === c) this.messageError(e);
      },
      closed: (err?: Error) => {
        if (this.conn !== c) return;
        if (err) this.stats.lastError = err.message;
        this.conn = undefined;
        this.dispatch({ type: 'TcpConnectionFails' });
      },
      connected: () => {
        if (this.conn === c) this.dispatch({ type: 'TcpConnectionSucceeds' });
      },
    };
    c.socket.on('drain', () => {
      if (this.conn === c) this.emit('drain');
    });
  }

  private messageError(e: BgpDecodeError): void {
    this.emit('log', 'warn', `message error: ${e.message}`, {
      code: e.code,
      subcode: e.subcode,
      rule: e.rule,
      ...(e.errors.length ? { errors: e.errors.map(updateErrorToJson) } : {}),
    });
    this.dispatch({ type: 'MessageError', code: e.code, subcode: e.subcode, data: e.data });
  }

  private onFrames(c: Connection, frames: Uint8Array[]): void {
    for (const f of frames) {
      if (this.conn !== c) return;
      const type = f[18]!;
      const name = TYPE_NAMES[type];
      if (name) this.stats.rx[name]++;
      try {
        if (type === 2) {
          if (this.fsm.name !== 'Established' || !this.negotiated) {
            this.dispatch({ type: 'UpdateMsg' });
            continue;
          }
          this.dispatch({ type: 'UpdateMsg' });
          this.emit('update', f, this.negotiated);
          continue;
        }
        if (type === 4 && f.length === 19) {
          this.dispatch({ type: 'KeepAliveMsg' });
          continue;
        }
        const m = decodeMessageAt(f, 0, c.decoder.context).message;
        switch (m.type) {
          case 'OPEN': {
            if (this.fsm.name !== 'OpenSent') {
              this.dispatch({
                type: 'MessageError',
                code: 5,
                subcode: this.fsm.name === 'OpenConfirm' ? 2 : 3,
              });
              return;
            }
            const n = negotiate(this.myOpen, m, {
              peerAs: this.cfg.remoteAs,
              keepaliveTime: this.cfg.keepaliveTime,
            });
            if ('code' in n) {
              this.emit('log', 'warn', `OPEN rejected: ${n.message}`);
              this.stats.lastError = n.message;
              const ev: FsmEvent = { type: 'MessageError', code: n.code, subcode: n.subcode };
              if (n.data) ev.data = n.data;
              this.dispatch(ev);
              return;
            }
            this.negotiated = n;
            this.remoteOpen = m;
            c.setContext(n.ctx);
            this.dispatch({ type: 'BGPOpen', holdTime: n.holdTime, keepaliveTime: n.keepaliveTime });
            break;
          }
          case 'KEEPALIVE':
            this.dispatch({ type: 'KeepAliveMsg' });
            break;
          case 'NOTIFICATION':
            this.stats.lastError = `received ${errorName(m.code, m.subcode)}`;
            this.emit('log', 'warn', `NOTIFICATION received: ${errorName(m.code, m.subcode)}`);
            this.dispatch({ type: 'NotifMsg', code: m.code, subcode: m.subcode });
            return;
          case 'ROUTE-REFRESH':
            this.dispatch({ type: 'RouteRefreshMsg' });
            if (this.fsm.name === 'Established') this.emit('refresh', m.afi, m.safi);
            break;
          default:
            break;
        }
      } catch (e) {
        if (e instanceof BgpDecodeError) {
          this.messageError(e);
          return;
        }
        throw e;
      }
    }
  }

  private onTimer(name: TimerName, lateMs: number): void {
    if (name === 'connectRetry' && this.firstDelay && this.fsm.name === 'Active') {
      if (lateMs > LATE_MS && this.postponed < MAX_POSTPONE) {
        this.postponed++;
        this.timers.start('connectRetry', this.cfg.connectDelay, this.cfg.connectDelaySpread);
        return;
      }
      this.firstDelay = false;
    }
    const ev: Record<TimerName, FsmEvent> = {
      connectRetry: { type: 'ConnectRetryTimerExpires' },
      hold: { type: 'HoldTimerExpires' },
      keepalive: { type: 'KeepaliveTimerExpires' },
      idleHold: { type: 'IdleHoldTimerExpires' },
    };
    this.dispatch(ev[name]);
  }

  private dispatch(ev: FsmEvent): void {
    const old = this.fsm.name;
    const r = step(this.fsmCfg, this.fsm, ev, Date.now());
    this.fsm = r.state;
    for (const a of r.actions) this.perform(a);
    if (r.state.name !== old) {
      this.stats.lastStateChange = Date.now();
      this.emit('state', r.state.name, old);
    }
    // The session lost its connection while the peer's other one waits: continue there.
    const k = this.candidate;
    if (k && !this.conn && this.fsm.enabled && ev.type !== 'CollisionSwitch') this.switchTo(k);
  }

  private perform(a: FsmAction): void {
    switch (a.type) {
      case 'connect':
        this.conn?.close();
        this.conn = undefined;
        // Connections already waiting in our accept queue go first (the poll phase runs
        // before immediates): when the peer's is among them, we never open a second one.
        setImmediate(() => {
          if (this.fsm.name !== 'Connect' || this.conn) return;
          this.adopt(
            Connection.connect(this.cfg.address, this.cfg.port, this.cfg.localAddress, this.cfg.password),
          );
        });
        break;
      case 'sendOpen':
        this.conn?.write(encodeOpen(this.myOpen));
        this.stats.tx.open++;
        break;
      case 'sendKeepalive':
        this.conn?.write(encodeKeepalive());
        this.stats.tx.keepalive++;
        break;
      case 'sendNotification': {
        const text = errorName(a.code, a.subcode);
        this.stats.lastError = `sent ${text}`;
        this.emit('log', 'warn', `NOTIFICATION sent: ${text}`);
        this.conn?.write(
          encodeNotification({ code: a.code, subcode: a.subcode, data: a.data ?? new Uint8Array(0) }),
        );
        this.stats.tx.notification++;
        break;
      }
      case 'closeConnection':
        if (this.conn) {
          const c = this.conn;
          this.conn = undefined;
          c.close();
        }
        break;
      case 'startTimer':
        this.timers.start(
          a.timer,
          a.seconds,
          a.spread ?? (a.timer === 'keepalive' || a.timer === 'connectRetry' ? 0.25 : 0),
        );
        break;
      case 'stopTimer':
        this.timers.stop(a.timer);
        break;
      case 'established':
        this.stats.establishedTotal++;
        this.emit('established', this.negotiated!);
        break;
      case 'sessionDown':
        this.emit('down', a.reason, this.negotiated);
        break;
    }
  }
}
