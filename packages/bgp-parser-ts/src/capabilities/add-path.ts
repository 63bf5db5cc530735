import { u16 } from '../writer.js';
import type { CapSpec } from './types.js';

/** ADD-PATH (code 69, RFC 7911): per family, 1 = receive, 2 = send, 3 = both. */
export interface AddPathCapability {
  kind: 'add-path';
  families: { afi: number; safi: number; mode: number }[];
}

export const addPathCap: CapSpec<AddPathCapability> = {
  code: 69,
  kind: 'add-path',
  decode(v) {
    if (v.length % 4 !== 0) return `add-path capability length ${v.length}`;
    const families = [];
    for (let i = 0; i < v.length; i += 4) families.push({ afi: u16(v, i), safi: v[i + 2]!, mode: v[i + 3]! });
    return { kind: 'add-path', families };
  },
  encode(c) {
    const out = new Uint8Array(c.families.length * 4);
    c.families.forEach((f, k) => {
      out.set([f.afi >> 8, f.afi, f.safi, f.mode], k * 4);
    });
    return out;
  },
};
