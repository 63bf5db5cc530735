/**
 * One BGP neighbour: the FSM (fsm.ts) driven by its connection(s) and timers, capability
 * negotiation, connection-collision resolution (RFC 4271 §6.8) and message dispatch.
 * Routes are not handled here: Established sessions emit 'update' frames and 'refresh'
 * requests, and the speaker sends UPDATEs through `send`.
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
} from 'bgp-parser-ts';
import { buildOpen, type Family, type LocalOpenConfig, type Negotiated, negotiate } from './capabilities.js';
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
  holdTime: number;
  keepaliveTime?: number | undefined;
  connectRetry: number;
  gracefulRestart: boolean;
  /** We reflect routes to this peer as a route-reflector client (RFC 4456). */
  rrClient: boolean;
  families: Family[];
}

export interface PeerStats {
  updatesIn: number;
  updatesOut: number;
  establishedTotal: number;
  lastError: string;
  lastStateChange: number;
}

export interface Peer {
  on(ev: 'state', fn: (state: string, old: string) => void): this;
  on(ev: 'established', fn: (n: Negotiated) => void): this;
  on(ev: 'down', fn: (reason: DownReason, n: Negotiated | undefined) => void): this;
  on(ev: 'update', fn: (frame: Uint8Array, n: Negotiated) => void): this;
  on(ev: 'refresh', fn: (afi: number, safi: number) => void): this;
  on(ev: 'log', fn: (level: 'info' | 'warn', msg: string, extra?: object) => void): this;
}

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: typed event overloads for EventEmitter
export class Peer extends EventEmitter {
  private fsm: FsmState = INITIAL_STATE;
  private readonly fsmCfg: FsmConfig;
  private readonly timers: Timers<TimerName>;
  private conn: Connection | undefined;
  private second: Connection | undefined;
  private myOpen: OpenMessage;
  negotiated: Negotiated | undefined;
  readonly stats: PeerStats = {
    updatesIn: 0,
    updatesOut: 0,
    establishedTotal: 0,
    lastError: '',
    lastStateChange: Date.now(),
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
      holdTimeSeconds: cfg.holdTime,
    };
    this.timers = new Timers((name) => this.onTimer(name));
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
    this.dispatch({ type: 'ManualStart' });
  }

  stop(): void {
    this.dispatch({ type: 'ManualStop' });
    this.second?.close();
    this.second = undefined;
    this.timers.stopAll();
  }

  /**
   * Drops the session without a NOTIFICATION (a graceful-restart shutdown: peers keep our
   * routes as stale until we are back, RFC 4724).
   */
  abort(): void {
    this.timers.stopAll();
    this.fsm = { ...this.fsm, name: 'Idle', enabled: false };
    this.second?.socket.destroy();
    this.second = undefined;
    const c = this.conn;
    this.conn = undefined;
    c?.socket.destroy();
  }

  /** Sends an UPDATE (or any encoded message) on an Established session. */
  send(bytes: Uint8Array): boolean {
    if (!this.conn || this.fsm.name !== 'Established') return false;
    this.stats.updatesOut++;
    return this.conn.write(bytes);
  }

  /** An incoming TCP connection from this peer's address. */
  acceptIncoming(socket: Socket): void {
    const c = new Connection(socket, false);
    const st = this.fsm.name;
    if (!this.fsm.enabled || (st === 'Idle' && this.fsm.flaps >= 4)) {
      this.emit('log', 'info', 'refusing connection (stopped or backing off)');
      c.close();
      return;
    }
    if (st === 'Idle' || st === 'Connect' || st === 'Active') {
      if (this.conn) this.conn.close();
      this.adopt(c);
      this.dispatch({ type: 'TcpConnectionConfirmed' });
      return;
    }
    if (st === 'Established') {
      // The peer opened a new session: the old one is dead on its side (e.g. it restarted).
      this.emit('log', 'info', 'new connection while Established: peer restarted, dropping the old session');
      this.dispatch({ type: 'TcpConnectionFails' });
      this.adopt(c);
      this.dispatch({ type: 'TcpConnectionConfirmed' });
      return;
    }
    // OpenSent / OpenConfirm: connection collision, resolved once this connection's OPEN arrives.
    if (this.second) {
      c.close();
      return;
    }
    this.second = c;
    c.write(encodeOpen(this.myOpen));
    c.on('frames', (frames: Uint8Array[]) => {
      if (this.second !== c) return;
      for (const f of frames) {
        if (f[18] !== 1) continue;
        let open: OpenMessage;
        try {
          open = decodeMessageAt(f, 0).message as OpenMessage;
        } catch {
          c.close();
          this.second = undefined;
          return;
        }
        this.resolveCollision(c, open, f);
        return;
      }
    });
    c.on('closed', () => {
      if (this.second === c) this.second = undefined;
    });
  }

  private resolveCollision(c: Connection, open: OpenMessage, frame: Uint8Array): void {
    this.second = undefined;
    const keepOutgoing = this.local.routerId >>> 0 > open.bgpId >>> 0;
    const existing = this.conn;
    if (!existing || existing.outgoing === keepOutgoing) {
      this.emit('log', 'info', 'connection collision: keeping the existing connection');
      c.write(encodeNotification({ code: 6, subcode: 7, data: new Uint8Array(0) }));
      c.close();
      return;
    }
    this.emit('log', 'info', 'connection collision: switching to the new connection');
    existing.write(encodeNotification({ code: 6, subcode: 7, data: new Uint8Array(0) }));
    existing.close();
    this.conn = undefined;
    this.timers.stop('keepalive');
    this.fsm = { ...this.fsm, name: 'OpenSent' };
    this.adopt(c);
    this.onFrames(c, [frame]);
  }

  private adopt(c: Connection): void {
    this.conn = c;
    c.removeAllListeners('frames');
    c.removeAllListeners('closed');
    c.on('frames', (frames: Uint8Array[]) => this.onFrames(c, frames));
    c.on('decodeError', (e: BgpDecodeError) => {
      if (this.conn === c) this.messageError(e);
    });
    c.on('closed', (err?: Error) => {
      if (this.conn !== c) return;
      if (err) this.stats.lastError = err.message;
      this.conn = undefined;
      this.dispatch({ type: 'TcpConnectionFails' });
    });
  }

  private messageError(e: BgpDecodeError): void {
    this.emit('log', 'warn', `message error: ${e.message}`, { code: e.code, subcode: e.subcode });
    this.dispatch({ type: 'MessageError', code: e.code, subcode: e.subcode, data: e.data });
  }

  private onFrames(c: Connection, frames: Uint8Array[]): void {
    for (const f of frames) {
      if (this.conn !== c) return;
      const type = f[18]!;
      try {
        if (type === 2) {
          if (this.fsm.name !== 'Established' || !this.negotiated) {
            this.dispatch({ type: 'UpdateMsg' });
            continue;
          }
          this.stats.updatesIn++;
          this.dispatch({ type: 'UpdateMsg' });
          this.emit('update', f, this.negotiated);
          continue;
        }
        const ctx = c.decoder.context;
        const m = decodeMessageAt(f, 0, ctx).message;
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
            this.dispatch({ type: 'NotifMsg' });
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

  private onTimer(name: TimerName): void {
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
  }

  private perform(a: FsmAction): void {
    switch (a.type) {
      case 'connect': {
        const c = Connection.connect(this.cfg.address, this.cfg.port, this.cfg.localAddress);
        this.adopt(c);
        c.once('connected', () => {
          if (this.conn === c) this.dispatch({ type: 'TcpConnectionSucceeds' });
        });
        break;
      }
      case 'sendOpen':
        this.conn?.write(encodeOpen(this.myOpen));
        break;
      case 'sendKeepalive':
        this.conn?.write(encodeKeepalive());
        break;
      case 'sendNotification': {
        const text = errorName(a.code, a.subcode);
        this.stats.lastError = `sent ${text}`;
        this.emit('log', 'warn', `NOTIFICATION sent: ${text}`);
        this.conn?.write(
          encodeNotification({ code: a.code, subcode: a.subcode, data: a.data ?? new Uint8Array(0) }),
        );
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
        this.timers.start(a.timer, a.seconds, a.timer === 'keepalive' || a.timer === 'connectRetry');
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
