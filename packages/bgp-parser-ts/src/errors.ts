import { errorName } from './constants.js';

/** RFC 7606 error-handling approaches, in increasing order of severity. */
export type UpdateErrorAction = 'attribute-discard' | 'treat-as-withdraw' | 'session-reset';

const EMPTY = new Uint8Array(0);

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
  /** Always 'session-reset' when thrown: the session must be closed with a NOTIFICATION. */
  readonly action: UpdateErrorAction = 'session-reset';

  constructor(code: number, subcode: number, data: Uint8Array = EMPTY, detail?: string) {
    super(detail ? `${errorName(code, subcode)}: ${detail}` : errorName(code, subcode));
    this.code = code;
    this.subcode = subcode;
    this.data = data;
  }
}

/** A non-fatal UPDATE error (RFC 7606): recorded on the decoded UPDATE instead of thrown. */
export interface UpdateError {
  action: UpdateErrorAction;
  code: number;
  subcode: number;
  /** The NOTIFICATION data RFC 4271 §6.3 would carry (usually the offending attribute). */
  data: Uint8Array;
  /** Attribute type code, when the error is about one attribute. */
  typeCode?: number;
  message: string;
}

export function updateError(
  action: UpdateErrorAction,
  subcode: number,
  data: Uint8Array,
  detail: string,
  typeCode?: number,
): UpdateError {
  const e: UpdateError = { action, code: 3, subcode, data, message: `${errorName(3, subcode)}: ${detail}` };
  if (typeCode !== undefined) e.typeCode = typeCode;
  return e;
}

/** The strongest action among a list of errors, or undefined when there are none. */
export function worstAction(errors: readonly UpdateError[]): UpdateErrorAction | undefined {
  let worst: UpdateErrorAction | undefined;
  for (const e of errors) {
    if (e.action === 'session-reset') return e.action;
    if (e.action === 'treat-as-withdraw') worst = e.action;
    else if (!worst) worst = e.action;
  }
  return worst;
}

/** True for the decoders' typed error. */
export function isBgpDecodeError(e: unknown): e is BgpDecodeError {
  return e instanceof BgpDecodeError;
}
