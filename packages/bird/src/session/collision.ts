/**
 * Which connection a session keeps when its peer opens another one (RFC 4271 §6.8,
 * RFC 4724 §4.2), pure. Decided on the new connection's OPEN, never on the bare accept:
 * - no session in progress (Idle, Connect, Active): the new connection;
 * - OpenSent/OpenConfirm: the connection initiated by the speaker with the higher BGP
 *   identifier survives; when both came from the peer, the newer one (it gave up the other);
 * - Established: kept (§6.8), unless the OPEN declares a restart (graceful restart R bit)
 *   or the old connection turns out dead — the session adapter probes it with a KEEPALIVE
 *   when the new connection arrives (a restarted peer's kernel answers with a reset), and
 *   `wait`s for that answer before it decides.
 */
import type { FsmStateName } from './fsm.js';

export type CollisionChoice = 'take-new' | 'keep-existing' | 'wait';

export interface CollisionInput {
  state: FsmStateName;
  /** Direction of the connection the session uses now; undefined when it has none. */
  existingOutgoing: boolean | undefined;
  localId: number;
  remoteId: number;
  /** The new OPEN has the graceful-restart capability with the Restart State bit. */
  restarting: boolean;
  /** The existing Established connection was probed and did not die within the probe window. */
  probeSurvived: boolean;
}

export function collisionChoice(x: CollisionInput): CollisionChoice {
  if (x.existingOutgoing === undefined || x.state === 'Idle' || x.state === 'Connect' || x.state === 'Active')
    return 'take-new';
  if (x.state === 'Established') {
    if (x.restarting) return 'take-new';
    return x.probeSurvived ? 'keep-existing' : 'wait';
  }
  if (!x.existingOutgoing) return 'take-new';
  // The existing one is ours: it survives when our identifier is the higher one.
  return x.localId >>> 0 > x.remoteId >>> 0 ? 'keep-existing' : 'take-new';
}
