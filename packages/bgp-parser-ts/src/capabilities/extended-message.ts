import type { CapSpec } from './types.js';

/** Extended Message (code 6, RFC 8654): no value. */
export interface ExtendedMessageCapability {
  kind: 'extended-message';
}

export const extendedMessageCap: CapSpec<ExtendedMessageCapability> = {
  code: 6,
  kind: 'extended-message',
  decode(v) {
    return v.length === 0 ? { kind: 'extended-message' } : `extended-message capability length ${v.length}`;
  },
  encode() {
    return new Uint8Array(0);
  },
};
