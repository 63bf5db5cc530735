import type { DecodeContext } from '../context.js';
import type { UpdateError, UpdateErrorAction } from '../errors.js';
import type { Writer } from '../writer.js';

/** A problem found while decoding one attribute's value (handled per the spec's `onError`). */
export interface AttrProblem {
  problem: true;
  subcode: number;
  detail: string;
  /** The rule that makes it an error, when it is not the spec's own (e.g. RFC 7607 for AS 0). */
  rule?: string;
}

export function problem(subcode: number, detail: string, rule?: string): AttrProblem {
  const p: AttrProblem = { problem: true, subcode, detail };
  if (rule !== undefined) p.rule = rule;
  return p;
}

export function isProblem(x: unknown): x is AttrProblem {
  return typeof x === 'object' && x !== null && (x as AttrProblem).problem === true;
}

/** How one attribute type is decoded, encoded and validated. */
export interface AttrSpec<A> {
  code: number;
  kind: string;
  /** Expected Optional and Transitive bits (0x80 / 0x40). */
  flags: number;
  /** RFC 7606 handling when the attribute is malformed, and the rule that prescribes it. */
  onError: UpdateErrorAction;
  rule: string;
  /**
   * Handling of Optional/Transitive bits that conflict with the type (RFC 7606 §3.c:
   * treat-as-withdraw unless the attribute's specification says otherwise), and its rule.
   */
  onFlagsError: { action: UpdateErrorAction; subcode: number; rule: string };
  /**
   * Why this session must drop the attribute whatever its content (RFC 7606 §7.5: LOCAL_PREF
   * from an external peer; RFC 6793 §4.1: AS4_PATH from a four-octet speaker), or undefined.
   */
  ignoredOn?(ctx: DecodeContext): { rule: string; detail: string } | undefined;
  decode(value: Uint8Array, flags: number, ctx: DecodeContext): A | AttrProblem;
  encode(a: A, w: Writer, ctx: DecodeContext): void;
}

/**
 * An attribute kept as bytes: an unknown type (passed on with its flags; the Partial bit
 * is set when an optional transitive one is propagated), or a known type that was
 * malformed (then `error` tells what RFC 7606 action applies).
 */
export interface UnknownAttribute {
  kind: 'unknown';
  code: number;
  flags: number;
  data: Uint8Array;
  error?: UpdateError;
}

/** Octets after an attribute whose length overran the path attribute field (RFC 7606 §4). */
export interface TrailingAttributeBytes {
  kind: 'trailing';
  data: Uint8Array;
  error?: UpdateError;
}

type FlagsHandling = AttrSpec<unknown>['onFlagsError'];

/** Flags conflicts on ORIGIN, AS_PATH, NEXT_HOP, MULTI_EXIT_DISC, LOCAL_PREF (RFC 7606 §3.e). */
export const FLAGS_WITHDRAW_3E: FlagsHandling = {
  action: 'treat-as-withdraw',
  subcode: 4,
  rule: 'RFC 7606 §3.e',
};
/** Flags conflicts on ATOMIC_AGGREGATE and AGGREGATOR (RFC 7606 §3.f). */
export const FLAGS_DISCARD_3F: FlagsHandling = {
  action: 'attribute-discard',
  subcode: 4,
  rule: 'RFC 7606 §3.f',
};
/** Flags conflicts on any other recognized attribute (RFC 7606 §3.c). */
export const FLAGS_WITHDRAW_3C: FlagsHandling = {
  action: 'treat-as-withdraw',
  subcode: 4,
  rule: 'RFC 7606 §3.c',
};

/**
 * MP_REACH_NLRI/MP_UNREACH_NLRI errors (RFC 7606 §5.3, §7.11): "session reset" or, where the
 * speaker chose it, "AFI/SAFI disable" (RFC 4760 §7), with NOTIFICATION 3/9.
 */
export const FLAGS_MP: FlagsHandling = { action: 'session-reset', subcode: 9, rule: 'RFC 7606 §5.3' };

/** Sessions that must ignore ORIGINATOR_ID and CLUSTER_LIST (RFC 7606 §7.9, §7.10). */
export function notInternal(ctx: DecodeContext, name: string, rule: string) {
  return ctx.peerType === 'external' || ctx.peerType === 'confederation'
    ? { rule, detail: `${name} from an external peer` }
    : undefined;
}
