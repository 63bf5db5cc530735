import { MessageType } from '../constants.js';

export interface KeepaliveMessage {
  type: 'KEEPALIVE';
}

const KEEPALIVE = new Uint8Array([...new Array<number>(16).fill(0xff), 0, 19, MessageType.KEEPALIVE]);

/** The 19-octet KEEPALIVE (header only; the header check enforces length 19). */
export function encodeKeepalive(): Uint8Array {
  return KEEPALIVE.slice();
}
