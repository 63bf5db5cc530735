import type { DecodeContext } from '../context.js';
import type { UpdateError, UpdateErrorAction } from '../errors.js';
import type { Writer } from '../writer.js';

/** A recoverable problem found while decoding one attribute's value. */
export interface AttrProblem {
  problem: true;
  subcode: number;
  detail: string;
}

export function problem(subcode: number, detail: string): AttrProblem {
  return { problem: true, subcode, detail };
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
  /** RFC 7606 handling when the attribute is malformed. */
  onError: UpdateErrorAction;
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
