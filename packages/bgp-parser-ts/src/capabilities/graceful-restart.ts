import { u16 } from '../writer.js';
import type { CapSpec } from './types.js';

/** Graceful Restart (code 64, RFC 4724). */
export interface GracefulRestartCapability {
  kind: 'graceful-restart';
  /** The 4 flag bits (R = 8, N = 4 per RFC 8538). */
  restartFlags: number;
  /** Restart time in seconds (12 bits). */
  restartTime: number;
  /** Families with their flags octet (0x80 = forwarding state preserved). */
  families: { afi: number; safi: number; flags: number }[];
}

export const gracefulRestartCap: CapSpec<GracefulRestartCapability> = {
  code: 64,
  kind: 'graceful-restart',
  decode(v) {
    if (v.length < 2 || (v.length - 2) % 4 !== 0) return `graceful restart capability length ${v.length}`;
    const families = [];
    for (let i = 2; i < v.length; i += 4)
      families.push({ afi: u16(v, i), safi: v[i + 2]!, flags: v[i + 3]! });
    return { kind: 'graceful-restart', restartFlags: v[0]! >> 4, restartTime: u16(v, 0) & 0xfff, families };
  },
  encode(c) {
    const out = new Uint8Array(2 + c.families.length * 4);
    out[0] = ((c.restartFlags & 0xf) << 4) | ((c.restartTime >> 8) & 0xf);
    out[1] = c.restartTime & 0xff;
    c.families.forEach((f, k) => {
      out.set([f.afi >> 8, f.afi, f.safi, f.flags], 2 + k * 4);
    });
    return out;
  },
};
