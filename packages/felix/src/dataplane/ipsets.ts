import type { IpsetSpec } from '../calc/nat-outgoing.js';
import { cmd } from './exec.js';

export interface KernelIpset {
  name: string;
  type: string;
  members: string[];
}

/** Reads every ipset (names and members); the read-back for tests and the driver. */
export async function readIpsets(): Promise<Map<string, KernelIpset>> {
  const { stdout } = await cmd('ipset', ['save'], { allowFail: true });
  const out = new Map<string, KernelIpset>();
  for (const line of stdout.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts[0] === 'create' && parts[1])
      out.set(parts[1], { name: parts[1], type: parts[2] ?? '', members: [] });
    else if (parts[0] === 'add' && parts[1] && parts[2]) out.get(parts[1])?.members.push(parts[2]);
  }
  for (const s of out.values()) s.members.sort();
  return out;
}

/**
 * The `ipset restore` script: new sets are created and filled; changed sets are rebuilt
 * in a temporary set and swapped in, so a packet never sees a half-filled set.
 */
export function ipsetScript(desired: IpsetSpec[], kernel: Map<string, KernelIpset>): string[] {
  const lines: string[] = [];
  for (const s of desired) {
    const cur = kernel.get(s.name);
    const want = [...s.members].sort();
    if (cur && cur.type === s.type && cur.members.join(',') === want.join(',')) continue;
    const create = (name: string) => `create ${name} ${s.type} family ${s.family}`;
    if (!cur) {
      lines.push(create(s.name));
      for (const m of want) lines.push(`add ${s.name} ${m}`);
      continue;
    }
    const tmp = `${s.name.slice(0, 27)}-tmp`;
    if (kernel.has(tmp)) lines.push(`destroy ${tmp}`);
    lines.push(create(tmp));
    for (const m of want) lines.push(`add ${tmp} ${m}`);
    lines.push(`swap ${tmp} ${s.name}`, `destroy ${tmp}`);
  }
  return lines;
}

export class IpsetDriver {
  private kernel: Map<string, KernelIpset> | undefined;
  calls = 0;

  constructor(private readonly prefix: string) {}

  invalidate(): void {
    this.kernel = undefined;
  }

  /** Creates/updates desired sets. Returns the stale sets of ours to destroy after iptables stops using them. */
  async apply(desired: IpsetSpec[]): Promise<{ changed: boolean; stale: string[] }> {
    this.kernel ??= await readIpsets();
    const lines = ipsetScript(desired, this.kernel);
    if (lines.length) {
      this.calls++;
      try {
        await cmd('ipset', ['restore'], { input: `${lines.join('\n')}\n` });
      } finally {
        this.kernel = undefined;
      }
      this.kernel = await readIpsets();
    }
    const want = new Set(desired.map((d) => d.name));
    const stale = [...this.kernel.keys()].filter((n) => n.startsWith(this.prefix) && !want.has(n));
    return { changed: lines.length > 0, stale };
  }

  async destroy(names: string[]): Promise<void> {
    for (const n of names) {
      this.calls++;
      await cmd('ipset', ['destroy', n], { allowFail: true });
      this.kernel?.delete(n);
    }
  }
}
