import {
  HEADER_LENGTH,
  MARKER_LENGTH,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageType,
} from './constants.js';
import type { DecodeContext } from './context.js';
import { BgpDecodeError } from './errors.js';
import type { Writer } from './writer.js';

export interface Header {
  length: number;
  type: number;
}

const MIN_LENGTH: Record<number, number> = { 1: 29, 2: 23, 3: 21, 4: 19, 5: 19 };

/** Largest message length allowed for a type under the context (RFC 8654 excludes OPEN/KEEPALIVE). */
export function maxLength(type: number, ctx: DecodeContext): number {
  return ctx.extendedMessage && type !== MessageType.OPEN && type !== MessageType.KEEPALIVE
    ? MAX_EXTENDED_MESSAGE_LENGTH
    : MAX_MESSAGE_LENGTH;
}

/**
 * Validates the 19-octet header at buf[off..] (RFC 4271 §6.1): marker (1/1), length
 * (1/2, data = the length field), type (1/3, data = the type octet). `available` is the
 * number of octets at off; the header itself must be complete.
 */
export function decodeHeader(buf: Uint8Array, off: number, ctx: DecodeContext): Header {
  if (buf.length - off < HEADER_LENGTH) {
    throw new BgpDecodeError(1, 2, new Uint8Array(0), 'message shorter than the 19-octet header');
  }
  if (ctx.checkMarker) {
    for (let i = 0; i < MARKER_LENGTH; i++) {
      if (buf[off + i] !== 0xff) throw new BgpDecodeError(1, 1, new Uint8Array(0), 'marker is not all ones');
    }
  }
  const length = (buf[off + 16]! << 8) | buf[off + 17]!;
  const type = buf[off + 18]!;
  if (length < HEADER_LENGTH || length > MAX_EXTENDED_MESSAGE_LENGTH) {
    throw new BgpDecodeError(1, 2, buf.slice(off + 16, off + 18), `length ${length}`);
  }
  const min = MIN_LENGTH[type];
  if (min === undefined) throw new BgpDecodeError(1, 3, buf.slice(off + 18, off + 19), `type ${type}`);
  if (length < min || length > maxLength(type, ctx) || (type === MessageType.KEEPALIVE && length !== 19)) {
    throw new BgpDecodeError(1, 2, buf.slice(off + 16, off + 18), `length ${length} for type ${type}`);
  }
  return { length, type };
}

/** Writes marker, a length placeholder and the type; returns the offset of the message start. */
export function writeHeader(w: Writer, type: number): number {
  const start = w.pos;
  w.ensure(HEADER_LENGTH);
  w.buf.fill(0xff, w.pos, w.pos + MARKER_LENGTH);
  w.pos += MARKER_LENGTH;
  w.u16(0);
  w.u8(type);
  return start;
}

/** Patches the length field once the body is written; throws RangeError when too long. */
export function finishHeader(w: Writer, start: number, ctx: DecodeContext, type: number): void {
  const length = w.pos - start;
  if (length > maxLength(type, ctx)) {
    throw new RangeError(`message of ${length} octets exceeds the ${maxLength(type, ctx)}-octet limit`);
  }
  w.setU16(start + 16, length);
}
