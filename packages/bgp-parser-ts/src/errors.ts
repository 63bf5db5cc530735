import { errorName } from './constants.js';
import type { UpdateMessage } from './messages/update.js';

/**
 * RFC 7606 §2 error-handling approaches, weakest first: 'attribute-discard' drops one
 * attribute, 'treat-as-withdraw' handles every route the UPDATE announces as withdrawn,
 * 'afi-safi-disable' (RFC 4760 §7) drops the routes of one address family and ignores it for
 * the rest of the session, 'session-reset' closes the session with a NOTIFICATION.
 */
export type UpdateErrorAction =
  | 'attribute-discard'
  | 'treat-as-withdraw'
  | 'afi-safi-disable'
  | 'session-reset';

/** What a message requires as a whole: its strongest error's action, or 'none'. */
export type MessageAction = UpdateErrorAction | 'none';

/** Rank of each action (RFC 7606 §2 lists them from the strongest to the weakest). */
export const ACTION_SEVERITY: Readonly<Record<MessageAction, number>> = {
  none: 0,
  'attribute-discard': 1,
  'treat-as-withdraw': 2,
  'afi-safi-disable': 3,
  'session-reset': 4,
};

const EMPTY = new Uint8Array(0);

/** A non-fatal UPDATE error (RFC 7606): recorded on the decoded UPDATE instead of thrown. */
export interface UpdateError {
  action: UpdateErrorAction;
  code: number;
  subcode: number;
  /** The NOTIFICATION data RFC 4271 §6.3 prescribes for the subcode (the attribute, a type code, or nothing). */
  data: Uint8Array;
  /** Attribute type code, when the error is about one attribute. */
  typeCode?: number;
  /** Address family of an MP_REACH_NLRI/MP_UNREACH_NLRI error (the family AFI/SAFI disable would drop). */
  afi?: number;
  safi?: number;
  /** The rule that prescribes the action, e.g. "RFC 7606 §7.1". */
  rule?: string;
  message: string;
}

/**
 * The only exception type the decoders throw. It carries the NOTIFICATION error code,
 * subcode and data that RFC 4271 §6 prescribes for the failure, so a speaker can send
 * `new NotificationMessage(err.code, err.subcode, err.data)` back verbatim.
 */
export class BgpDecodeError extends Error {
  override readonly name = 'BgpDecodeError';
  readonly code: number;
  readonly subcode: number;
  readonly data: Uint8Array;
  /** What was wrong, without the code's name (the message is "<code name>: <detail>"). */
  readonly detail: string | undefined;
  /** Always 'session-reset' when thrown: the session must be closed with a NOTIFICATION. */
  readonly action: UpdateErrorAction = 'session-reset';
  /** The rule that requires the reset, when known (e.g. "RFC 7606 §5.2"). */
  rule?: string;
  /**
   * For an UPDATE: every error found in it, in wire order (the one that resets the session
   * included), so the whole malformed message can be logged as RFC 7606 §6 asks.
   */
  errors: UpdateError[] = [];
  /**
   * The UPDATE as far as it could be decoded, when its fields could all be located (the
   * errors were found after framing): to log the NLRI involved (RFC 7606 §6). Its withdrawn
   * routes and NLRI are empty when those fields are the ones that could not be parsed.
   */
  update?: UpdateMessage;

  constructor(code: number, subcode: number, data: Uint8Array = EMPTY, detail?: string) {
    super(detail ? `${errorName(code, subcode)}: ${detail}` : errorName(code, subcode));
    this.code = code;
    this.subcode = subcode;
    this.data = data;
    this.detail = detail;
  }
}

/**
 * UPDATE Message Error subcodes that carry NOTIFICATION data (RFC 4271 §6.3): the attribute
 * (2, 4, 5, 6, 8, 9) or the missing attribute's type code (3).
 */
const SUBCODES_WITH_DATA = new Set([2, 3, 4, 5, 6, 8, 9]);

/**
 * An UPDATE error (code 3). `data` is what RFC 4271 §6.3 puts in the NOTIFICATION for the
 * subcode — the whole offending attribute (flags, type, length, value), or the missing
 * attribute's type code; it is dropped for the subcodes that carry none (0, 1, 10, 11).
 */
export function updateError(
  action: UpdateErrorAction,
  subcode: number,
  data: Uint8Array,
  detail: string,
  typeCode?: number,
  rule?: string,
): UpdateError {
  const e: UpdateError = {
    action,
    code: 3,
    subcode,
    data: SUBCODES_WITH_DATA.has(subcode) ? data : EMPTY,
    message: `${errorName(3, subcode)}: ${detail}`,
  };
  if (typeCode !== undefined) e.typeCode = typeCode;
  if (rule !== undefined) e.rule = rule;
  return e;
}

/** The exception for an UPDATE error that resets the session, carrying all the message's errors. */
export function sessionResetError(fatal: UpdateError, errors: UpdateError[]): BgpDecodeError {
  const e = new BgpDecodeError(fatal.code, fatal.subcode, fatal.data);
  e.message = fatal.rule ? `${fatal.message} (${fatal.rule})` : fatal.message;
  if (fatal.rule) e.rule = fatal.rule;
  e.errors = errors;
  return e;
}

/** The strongest action among a list of errors, or undefined when there are none (RFC 7606 §3.h). */
export function worstAction(errors: readonly UpdateError[]): UpdateErrorAction | undefined {
  let worst: UpdateErrorAction | undefined;
  for (const e of errors) {
    if (worst === undefined || ACTION_SEVERITY[e.action] > ACTION_SEVERITY[worst]) worst = e.action;
  }
  return worst;
}

/** True for the decoders' typed error. */
export function isBgpDecodeError(e: unknown): e is BgpDecodeError {
  return e instanceof BgpDecodeError;
}
