import type { CapSpec } from './types.js';

/** FQDN / hostname (code 73, draft-walton-bgp-hostname-capability). */
export interface FqdnCapability {
  kind: 'fqdn';
  hostname: string;
  domain: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const enc = new TextEncoder();

export const fqdnCap: CapSpec<FqdnCapability> = {
  code: 73,
  kind: 'fqdn',
  decode(v) {
    if (v.length < 1) return 'fqdn capability is empty';
    const hl = v[0]!;
    if (1 + hl + 1 > v.length) return 'fqdn hostname overruns';
    const dl = v[1 + hl]!;
    if (2 + hl + dl !== v.length) return 'fqdn domain length mismatch';
    try {
      return {
        kind: 'fqdn',
        hostname: utf8.decode(v.subarray(1, 1 + hl)),
        domain: utf8.decode(v.subarray(2 + hl, 2 + hl + dl)),
      };
    } catch {
      return 'fqdn names are not UTF-8';
    }
  },
  encode(c) {
    const h = enc.encode(c.hostname);
    const d = enc.encode(c.domain);
    if (h.length > 255 || d.length > 255) throw new RangeError('fqdn names are at most 255 octets');
    const out = new Uint8Array(2 + h.length + d.length);
    out[0] = h.length;
    out.set(h, 1);
    out[1 + h.length] = d.length;
    out.set(d, 2 + h.length);
    return out;
  },
};
