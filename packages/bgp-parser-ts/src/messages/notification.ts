import { MessageType } from '../constants.js';
import { DEFAULT_CONTEXT, type DecodeContext } from '../context.js';
import { finishHeader, writeHeader } from '../header.js';
import { Writer } from '../writer.js';

export interface NotificationFields {
  code: number;
  subcode: number;
  data: Uint8Array;
}

export interface NotificationMessage extends NotificationFields {
  type: 'NOTIFICATION';
  /** RFC 8203/9003 shutdown communication (Cease / Administrative Shutdown or Reset). */
  shutdownMessage?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a NOTIFICATION body (never fails: any code/subcode/data is representable). */
export function decodeNotificationBody(buf: Uint8Array, off: number, end: number): NotificationMessage {
  const msg: NotificationMessage = {
    type: 'NOTIFICATION',
    code: buf[off]!,
    subcode: buf[off + 1]!,
    data: buf.slice(off + 2, end),
  };
  const text = shutdownCommunication(msg);
  if (text !== undefined) msg.shutdownMessage = text;
  return msg;
}

/** The shutdown communication of a Cease 2/4 NOTIFICATION when its data is well-formed. */
export function shutdownCommunication(n: NotificationFields): string | undefined {
  if (n.code !== 6 || (n.subcode !== 2 && n.subcode !== 4) || n.data.length < 1) return undefined;
  const len = n.data[0]!;
  if (1 + len > n.data.length) return undefined;
  try {
    return utf8.decode(n.data.subarray(1, 1 + len));
  } catch {
    return undefined;
  }
}

/** Data for a Cease NOTIFICATION with a shutdown communication (RFC 9003: up to 255 octets). */
export function shutdownData(text: string): Uint8Array {
  let bytes = new TextEncoder().encode(text);
  if (bytes.length > 255) {
    let n = 255;
    while (n > 0 && (bytes[n]! & 0xc0) === 0x80) n--; // do not cut a UTF-8 sequence
    bytes = bytes.slice(0, n);
  }
  const out = new Uint8Array(1 + bytes.length);
  out[0] = bytes.length;
  out.set(bytes, 1);
  return out;
}

export function encodeNotification(n: NotificationFields, ctx: DecodeContext = DEFAULT_CONTEXT): Uint8Array {
  const w = new Writer(21 + n.data.length);
  const start = writeHeader(w, MessageType.NOTIFICATION);
  w.u8(n.code);
  w.u8(n.subcode);
  w.bytes(n.data);
  finishHeader(w, start, ctx, MessageType.NOTIFICATION);
  return w.finish();
}
