import { u16 } from '../writer.js';
import type { CapSpec } from './types.js';

/** Multiprotocol Extensions (code 1, RFC 4760). */
export interface MultiprotocolCapability {
  kind: 'multiprotocol';
  afi: number;
  safi: number;
  /** The reserved octet, kept for exact re-encoding. */
  reserved: number;
}

export const multiprotocolCap: CapSpec<MultiprotocolCapability> = {
  code: 1,
  kind: 'multiprotocol',
  decode(v) {
    if (v.length !== 4) return `multiprotocol capability length ${v.length}`;
    return { kind: 'multiprotocol', afi: u16(v, 0), reserved: v[2]!, safi: v[3]! };
  },
  encode(c) {
    return new Uint8Array([c.afi >> 8, c.afi, c.reserved, c.safi]);
  },
};
