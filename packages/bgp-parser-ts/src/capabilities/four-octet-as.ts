import { u32 } from '../writer.js';
import type { CapSpec } from './types.js';

/** Support for 4-octet AS numbers (code 65, RFC 6793): the speaker's real AS. */
export interface FourOctetAsCapability {
  kind: 'four-octet-as';
  as: number;
}

export const fourOctetAsCap: CapSpec<FourOctetAsCapability> = {
  code: 65,
  kind: 'four-octet-as',
  decode(v) {
    return v.length === 4
      ? { kind: 'four-octet-as', as: u32(v, 0) }
      : `4-octet AS capability length ${v.length}`;
  },
  encode(c) {
    return new Uint8Array([c.as >>> 24, c.as >>> 16, c.as >>> 8, c.as]);
  },
};
