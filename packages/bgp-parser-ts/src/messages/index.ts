import { MessageType } from '../constants.js';
import { DEFAULT_CONTEXT, type DecodeContext } from '../context.js';
import { BgpDecodeError } from '../errors.js';
import { decodeHeader } from '../header.js';
import { encodeKeepalive, type KeepaliveMessage } from './keepalive.js';
import { decodeNotificationBody, encodeNotification, type NotificationMessage } from './notification.js';
import { decodeOpenBody, encodeOpen, type OpenMessage } from './open.js';
import { decodeRouteRefresh, encodeRouteRefresh, type RouteRefreshMessage } from './route-refresh.js';
import { decodeUpdateBody, encodeUpdate, type UpdateFields, type UpdateMessage } from './update.js';

export * from './keepalive.js';
export * from './notification.js';
export * from './open.js';
export * from './route-refresh.js';
export * from './update.js';

export type BgpMessage =
  | OpenMessage
  | UpdateMessage
  | NotificationMessage
  | KeepaliveMessage
  | RouteRefreshMessage;

/** What encodeMessage accepts: a decoded message, or the same without decode-only fields. */
export type BgpMessageInput =
  | OpenMessage
  | ({ type: 'UPDATE' } & UpdateFields)
  | NotificationMessage
  | KeepaliveMessage
  | RouteRefreshMessage;

/**
 * Decodes the message at buf[off..]; the header's length must fit in the buffer. Returns
 * the message and its length. Throws only BgpDecodeError.
 */
export function decodeMessageAt(
  buf: Uint8Array,
  off: number,
  ctx: DecodeContext = DEFAULT_CONTEXT,
): { message: BgpMessage; length: number } {
  const { length, type } = decodeHeader(buf, off, ctx);
  const end = off + length;
  if (end > buf.length) {
    throw new BgpDecodeError(
      1,
      2,
      buf.slice(off + 16, off + 18),
      `length ${length} but only ${buf.length - off} octets`,
    );
  }
  const body = off + 19;
  let message: BgpMessage;
  switch (type) {
    case MessageType.OPEN:
      message = decodeOpenBody(buf, body, end);
      break;
    case MessageType.UPDATE:
      message = decodeUpdateBody(buf, body, end, ctx);
      break;
    case MessageType.NOTIFICATION:
      message = decodeNotificationBody(buf, body, end);
      break;
    case MessageType.KEEPALIVE:
      message = { type: 'KEEPALIVE' };
      break;
    default:
      message = decodeRouteRefresh(buf, off, end);
  }
  return { message, length };
}

/** Decodes exactly one message; trailing octets are a length error (1/2). */
export function decodeMessage(buf: Uint8Array, ctx: DecodeContext = DEFAULT_CONTEXT): BgpMessage {
  const { message, length } = decodeMessageAt(buf, 0, ctx);
  if (length !== buf.length) {
    throw new BgpDecodeError(
      1,
      2,
      buf.slice(16, 18),
      `length field ${length} but ${buf.length} octets given`,
    );
  }
  return message;
}

export function encodeMessage(m: BgpMessageInput, ctx: DecodeContext = DEFAULT_CONTEXT): Uint8Array {
  switch (m.type) {
    case 'OPEN':
      return encodeOpen(m, ctx);
    case 'UPDATE':
      return encodeUpdate(m, ctx);
    case 'NOTIFICATION':
      return encodeNotification(m, ctx);
    case 'KEEPALIVE':
      return encodeKeepalive();
    case 'ROUTE-REFRESH':
      return encodeRouteRefresh(m, ctx);
  }
}
