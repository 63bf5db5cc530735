import { MessageType } from '../constants.js';
import { DEFAULT_CONTEXT, type DecodeContext } from '../context.js';
import { BgpDecodeError } from '../errors.js';
import { finishHeader, writeHeader } from '../header.js';
import { u16, Writer } from '../writer.js';

/** ROUTE-REFRESH (RFC 2918); subtype 0 normal, 1 BoRR, 2 EoRR (RFC 7313). */
export interface RouteRefreshMessage {
  type: 'ROUTE-REFRESH';
  afi: number;
  subtype: number;
  safi: number;
}

/** Decodes a ROUTE-REFRESH; a length other than 23 is error 7/1 carrying the whole message (RFC 7313 §5). */
export function decodeRouteRefresh(buf: Uint8Array, start: number, end: number): RouteRefreshMessage {
  if (end - start !== 23)
    throw new BgpDecodeError(7, 1, buf.slice(start, end), `ROUTE-REFRESH length ${end - start}`);
  const b = start + 19;
  return { type: 'ROUTE-REFRESH', afi: u16(buf, b), subtype: buf[b + 2]!, safi: buf[b + 3]! };
}

export function encodeRouteRefresh(
  r: Omit<RouteRefreshMessage, 'type'>,
  ctx: DecodeContext = DEFAULT_CONTEXT,
): Uint8Array {
  const w = new Writer(23);
  const start = writeHeader(w, MessageType.ROUTE_REFRESH);
  w.u16(r.afi);
  w.u8(r.subtype);
  w.u8(r.safi);
  finishHeader(w, start, ctx, MessageType.ROUTE_REFRESH);
  return w.finish();
}
