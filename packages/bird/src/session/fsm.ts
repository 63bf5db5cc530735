/**
 * The RFC 4271 §8 finite state machine, pure: step(state, event) → new state + actions.
 * No sockets and no clocks here; the session adapter (peer.ts) turns socket and timer
 * happenings into events and carries out the actions.
 *
 * Simplifications, all allowed by RFC 4271: DelayOpen and the optional session attributes
 * (AllowAutomaticStop, DampPeerOscillations as such) are replaced by one rule — every drop
 * to Idle arms the IdleHold timer with an exponential backoff (base · 2^flaps, capped); a
 * session that stayed Established for `stableSeconds` resets the flap count.
 *
 * Connection-level failures are not flaps (as in BIRD, whose error wait applies to session
 * errors only): a connection refused, reset or closed before the OPEN exchange, and a Cease
 * "connection rejected" (6/5) or "connection collision resolution" (6/7) on it, go back to
 * Active and retry on the connect-retry timer, so a peer that was not ready yet is reached
 * within seconds instead of after a backoff that grew while it started.
 */
export type FsmStateName = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

export type TimerName = 'connectRetry' | 'hold' | 'keepalive' | 'idleHold';

export type DownReason =
  | 'stop'
  | 'hold-expired'
  | 'tcp'
  | 'notification-received'
  | 'notification-sent'
  | 'fsm-error'
  /** A new connection from the peer replaced the session (RFC 4724: the peer restarted). */
  | 'peer-restarted';

export type FsmEvent =
  | { type: 'ManualStart' }
  | { type: 'ManualStop' }
  | { type: 'IdleHoldTimerExpires' }
  | { type: 'ConnectRetryTimerExpires' }
  | { type: 'HoldTimerExpires' }
  | { type: 'KeepaliveTimerExpires' }
  /** An incoming connection was accepted for this peer. */
  | { type: 'TcpConnectionConfirmed' }
  /** Our outgoing connection succeeded. */
  | { type: 'TcpConnectionSucceeds' }
  | { type: 'TcpConnectionFails' }
  /** A valid OPEN; holdTime is the negotiated one (0 = no keepalives). */
  | { type: 'BGPOpen'; holdTime: number; keepaliveTime: number }
  /** A message error (header, OPEN or UPDATE) that requires this NOTIFICATION. */
  | { type: 'MessageError'; code: number; subcode: number; data?: Uint8Array }
  | { type: 'NotifMsg'; code: number; subcode: number }
  | { type: 'KeepAliveMsg' }
  | { type: 'UpdateMsg' }
  | { type: 'RouteRefreshMsg' }
  /** Collision resolution chose the other connection. */
  | { type: 'OpenCollisionDump' }
  /**
   * Collision resolution (or a peer restart) chose a new connection on which our OPEN was
   * already sent: the current one is closed and the session continues there in OpenSent.
   */
  | { type: 'CollisionSwitch' };

export type FsmAction =
  | { type: 'connect' }
  | { type: 'sendOpen' }
  | { type: 'sendKeepalive' }
  | { type: 'sendNotification'; code: number; subcode: number; data?: Uint8Array }
  | { type: 'closeConnection' }
  /** `spread`: the share of `seconds` taken off at random (jitter); RFC 4271's 25 % when absent. */
  | { type: 'startTimer'; timer: TimerName; seconds: number; spread?: number }
  | { type: 'stopTimer'; timer: TimerName }
  | { type: 'established' }
  | { type: 'sessionDown'; reason: DownReason };

export interface FsmConfig {
  /** Never initiate connections; wait for the peer. */
  passive: boolean;
  connectRetrySeconds: number;
  /**
   * Wait before the first connect of a session (BIRD's "connect delay time"): a peer that
   * connects meanwhile is taken without a second connection. 0 connects at once.
   */
  connectDelaySeconds: number;
  /** The share of the connect delay taken off at random (0..1). */
  connectDelaySpread: number;
  /** Hold time proposed in our OPEN. */
  holdTimeSeconds: number;
  /** Hold time while waiting for the OPEN (RFC 4271 suggests 4 minutes). */
  openHoldSeconds: number;
  idleHoldSeconds: number;
  maxIdleHoldSeconds: number;
  stableSeconds: number;
}

export const DEFAULT_FSM_CONFIG: FsmConfig = {
  passive: false,
  connectRetrySeconds: 5,
  connectDelaySeconds: 0,
  connectDelaySpread: 0,
  holdTimeSeconds: 90,
  openHoldSeconds: 240,
  idleHoldSeconds: 1,
  maxIdleHoldSeconds: 60,
  stableSeconds: 60,
};

export interface FsmState {
  readonly name: FsmStateName;
  /** Consecutive sessions that went down without being stable: drives the Idle backoff. */
  readonly flaps: number;
  readonly holdTime: number;
  readonly keepaliveTime: number;
  /** ms timestamp when Established was entered. */
  readonly establishedAt: number;
  /** false after ManualStop: no automatic restart. */
  readonly enabled: boolean;
}

export const INITIAL_STATE: FsmState = {
  name: 'Idle',
  flaps: 0,
  holdTime: 0,
  keepaliveTime: 0,
  establishedAt: 0,
  enabled: false,
};

export interface Step {
  state: FsmState;
  actions: FsmAction[];
}

/** Seconds the Idle state waits before restarting, after `flaps` unstable sessions. */
export function idleHoldSeconds(cfg: FsmConfig, flaps: number): number {
  return Math.min(cfg.maxIdleHoldSeconds, cfg.idleHoldSeconds * 2 ** Math.min(flaps, 16));
}

const ALL_TIMERS: TimerName[] = ['connectRetry', 'hold', 'keepalive'];

/** Cease "connection rejected" (6/5) or "connection collision resolution" (6/7). */
function connectionLevel(ev: { code: number; subcode: number }): boolean {
  return ev.code === 6 && (ev.subcode === 5 || ev.subcode === 7);
}

export function step(cfg: FsmConfig, s: FsmState, ev: FsmEvent, now: number): Step {
  const actions: FsmAction[] = [];
  const to = (name: FsmStateName, extra: Partial<FsmState> = {}): Step => ({
    state: { ...s, ...extra, name },
    actions,
  });
  /** Any error path: tear the connection down and go to Idle with backoff. */
  const drop = (reason: DownReason, notify?: { code: number; subcode: number; data?: Uint8Array }): Step => {
    if (notify)
      actions.push({
        type: 'sendNotification',
        code: notify.code,
        subcode: notify.subcode,
        ...(notify.data ? { data: notify.data } : {}),
      });
    actions.push({ type: 'closeConnection' });
    for (const t of ALL_TIMERS) actions.push({ type: 'stopTimer', timer: t });
    const wasEstablished = s.name === 'Established';
    const stable = wasEstablished && now - s.establishedAt >= cfg.stableSeconds * 1000;
    if (wasEstablished) actions.push({ type: 'sessionDown', reason });
    const flaps = reason === 'stop' ? s.flaps : stable ? 0 : s.flaps + 1;
    if (s.enabled && reason !== 'stop')
      actions.push({
        type: 'startTimer',
        timer: 'idleHold',
        seconds: idleHoldSeconds(cfg, Math.max(0, flaps - 1)),
      });
    return to('Idle', { flaps, enabled: reason === 'stop' ? false : s.enabled });
  };
  const start = (): Step => {
    if (cfg.passive) return to('Active', { enabled: true });
    if (cfg.connectDelaySeconds > 0) {
      actions.push({
        type: 'startTimer',
        timer: 'connectRetry',
        seconds: cfg.connectDelaySeconds,
        spread: cfg.connectDelaySpread,
      });
      return to('Active', { enabled: true });
    }
    actions.push({ type: 'connect' });
    actions.push({ type: 'startTimer', timer: 'connectRetry', seconds: cfg.connectRetrySeconds });
    return to('Connect', { enabled: true });
  };
  const opened = (): Step => {
    actions.push({ type: 'stopTimer', timer: 'connectRetry' });
    actions.push({ type: 'sendOpen' });
    actions.push({ type: 'startTimer', timer: 'hold', seconds: cfg.openHoldSeconds });
    return to('OpenSent');
  };
  /** A connection-level failure: close, back to Active, retry on the connect-retry timer. */
  const retry = (timers: TimerName[]): Step => {
    actions.push({ type: 'closeConnection' });
    for (const t of timers) actions.push({ type: 'stopTimer', timer: t });
    if (!cfg.passive)
      actions.push({ type: 'startTimer', timer: 'connectRetry', seconds: cfg.connectRetrySeconds });
    return to('Active');
  };
  const adminStop = { code: 6, subcode: 2 };

  if (ev.type === 'CollisionSwitch') {
    if (!s.enabled) return to(s.name);
    if (s.name === 'OpenSent' || s.name === 'OpenConfirm')
      actions.push({ type: 'sendNotification', code: 6, subcode: 7 });
    actions.push({ type: 'closeConnection' });
    for (const t of ['connectRetry', 'keepalive', 'idleHold'] as const)
      actions.push({ type: 'stopTimer', timer: t });
    if (s.name === 'Established') actions.push({ type: 'sessionDown', reason: 'peer-restarted' });
    actions.push({ type: 'startTimer', timer: 'hold', seconds: cfg.openHoldSeconds });
    return to('OpenSent', { holdTime: 0, keepaliveTime: 0 });
  }
  const fsmError = (st: FsmStateName) => ({
    code: 5,
    subcode: st === 'OpenSent' ? 1 : st === 'OpenConfirm' ? 2 : 3,
  });

  switch (s.name) {
    case 'Idle':
      if (ev.type === 'ManualStart') {
        actions.push({ type: 'stopTimer', timer: 'idleHold' });
        return start();
      }
      if (ev.type === 'IdleHoldTimerExpires' && s.enabled) return start();
      if (ev.type === 'ManualStop') {
        actions.push({ type: 'stopTimer', timer: 'idleHold' });
        return to('Idle', { enabled: false });
      }
      // An incoming connection while backing off: accept it (the peer restarted).
      if (ev.type === 'TcpConnectionConfirmed' && s.enabled) {
        actions.push({ type: 'stopTimer', timer: 'idleHold' });
        return opened();
      }
      return to('Idle');
    case 'Connect':
    case 'Active':
      switch (ev.type) {
        case 'ManualStart':
          return to(s.name);
        case 'ManualStop':
          return drop('stop');
        case 'ConnectRetryTimerExpires':
          if (cfg.passive) return to(s.name);
          actions.push({ type: 'closeConnection' });
          actions.push({ type: 'connect' });
          actions.push({ type: 'startTimer', timer: 'connectRetry', seconds: cfg.connectRetrySeconds });
          return to('Connect');
        case 'TcpConnectionSucceeds':
        case 'TcpConnectionConfirmed':
          return opened();
        case 'TcpConnectionFails':
          actions.push({ type: 'closeConnection' });
          if (!cfg.passive)
            actions.push({ type: 'startTimer', timer: 'connectRetry', seconds: cfg.connectRetrySeconds });
          return to('Active');
        default:
          return drop('fsm-error');
      }
    case 'OpenSent':
      switch (ev.type) {
        case 'ManualStart':
          return to(s.name);
        case 'ManualStop':
          return drop('stop', adminStop);
        case 'BGPOpen':
          actions.push({ type: 'sendKeepalive' });
          if (ev.holdTime > 0) {
            actions.push({ type: 'startTimer', timer: 'hold', seconds: ev.holdTime });
            actions.push({ type: 'startTimer', timer: 'keepalive', seconds: ev.keepaliveTime });
          } else actions.push({ type: 'stopTimer', timer: 'hold' });
          return to('OpenConfirm', { holdTime: ev.holdTime, keepaliveTime: ev.keepaliveTime });
        case 'TcpConnectionFails':
          return retry(['hold']);
        case 'HoldTimerExpires':
          return drop('hold-expired', { code: 4, subcode: 0 });
        case 'MessageError':
          return drop('notification-sent', ev);
        case 'NotifMsg':
          if (connectionLevel(ev)) return retry(['hold']);
          return drop('notification-received');
        case 'OpenCollisionDump':
          return drop('notification-sent', { code: 6, subcode: 7 });
        case 'ConnectRetryTimerExpires':
        case 'KeepaliveTimerExpires':
        case 'IdleHoldTimerExpires':
        case 'TcpConnectionConfirmed':
        case 'TcpConnectionSucceeds':
          return to(s.name);
        default:
          return drop('fsm-error', fsmError(s.name));
      }
    case 'OpenConfirm':
    case 'Established':
      switch (ev.type) {
        case 'ManualStart':
          return to(s.name);
        case 'ManualStop':
          return drop('stop', adminStop);
        case 'KeepAliveMsg':
        case 'UpdateMsg':
        case 'RouteRefreshMsg':
          if (s.name === 'OpenConfirm' && ev.type !== 'KeepAliveMsg')
            return drop('fsm-error', fsmError(s.name));
          if (s.holdTime > 0) actions.push({ type: 'startTimer', timer: 'hold', seconds: s.holdTime });
          if (s.name === 'OpenConfirm') {
            actions.push({ type: 'established' });
            return to('Established', { establishedAt: now });
          }
          return to(s.name);
        case 'KeepaliveTimerExpires':
          actions.push({ type: 'sendKeepalive' });
          actions.push({ type: 'startTimer', timer: 'keepalive', seconds: s.keepaliveTime });
          return to(s.name);
        case 'HoldTimerExpires':
          return drop('hold-expired', { code: 4, subcode: 0 });
        case 'MessageError':
          return drop('notification-sent', ev);
        case 'NotifMsg':
          if (s.name === 'OpenConfirm' && connectionLevel(ev)) return retry(['hold', 'keepalive']);
          return drop('notification-received');
        case 'TcpConnectionFails':
          return drop('tcp');
        case 'OpenCollisionDump':
          return drop('notification-sent', { code: 6, subcode: 7 });
        case 'ConnectRetryTimerExpires':
        case 'IdleHoldTimerExpires':
        case 'TcpConnectionConfirmed':
        case 'TcpConnectionSucceeds':
          return to(s.name);
        default:
          return drop('fsm-error', fsmError(s.name));
      }
  }
}
