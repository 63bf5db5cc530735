import type { DeltaTracker } from '../tracker/delta-tracker.js';
import { canonicalMember, type IpsetMeta, memberKey, splitMemberKey } from './items.js';
import type { KernelIO } from './kernel-io.js';
import { type DataplaneObserver, NO_OBSERVER } from './observer.js';

/**
 * felix's ipsets, member by member: one `ipset restore` creates the new sets and adds and
 * deletes the pending members (a one-pod change is one line, never a rewrite of the set);
 * a set whose type or family changed is rebuilt in a temporary set and swapped in, so a
 * packet never sees it half filled. Sets nobody wants are destroyed after iptables has
 * stopped using them (`destroyStale`, run by the dataplane after the iptables restore).
 */
export class IpsetDriver {
  /** Sets of others (not felix's prefix) at the last read: part of `felix_ipsets_total`. */
  foreignSets = 0;

  constructor(
    private readonly sets: DeltaTracker<string, IpsetMeta>,
    private readonly members: DeltaTracker<string, true>,
    private readonly io: KernelIO,
    private readonly prefix: string,
    private readonly observer: DataplaneObserver = NO_OBSERVER,
  ) {}

  /** One `ipset restore` of `lines`, reported to the observer. */
  private async restore(lines: string[]): Promise<void> {
    try {
      await this.io.ipsetRestore(lines);
    } catch (e) {
      this.observer.ipset(lines.length, false);
      throw e;
    }
    this.observer.ipset(lines.length, true);
  }

  read(): Promise<void> {
    const read = this.io.readIpsets();
    read.then(
      () => this.observer.ipset(0, true),
      () => this.observer.ipset(0, false), // and thrown by the trackers' reads below
    );
    return Promise.all([
      this.sets.resync(async () => {
        const out: [string, IpsetMeta][] = [];
        let foreign = 0;
        for (const s of (await read).values()) if (!s.name.startsWith(this.prefix)) foreign++;
        this.foreignSets = foreign;
        for (const s of (await read).values())
          if (s.name.startsWith(this.prefix))
            out.push([
              s.name,
              { type: s.type as IpsetMeta['type'], family: s.family as IpsetMeta['family'] },
            ]);
        return out;
      }),
      this.members.resync(async () => {
        const out: [string, true][] = [];
        for (const s of (await read).values())
          if (s.name.startsWith(this.prefix))
            for (const m of s.members) out.push([memberKey(s.name, canonicalMember(m)), true]);
        return out;
      }),
    ]).then(() => undefined);
  }

  /** Creates sets and writes pending members. Returns whether anything was written. */
  async apply(): Promise<boolean> {
    if (!this.sets.synced || !this.members.synced) await this.read();
    const lines: string[] = [];
    const create = (name: string, m: IpsetMeta) => `create ${name} ${m.type} family ${m.family}`;
    const created: [string, IpsetMeta][] = [];
    const rebuilt = new Set<string>();
    for (const [name, meta] of this.sets.pendingSets()) {
      created.push([name, meta]);
      if (!this.sets.dataplane.has(name)) {
        lines.push(create(name, meta));
        continue;
      }
      const tmp = `${name.slice(0, 27)}-tmp`;
      if (this.sets.dataplane.has(tmp)) lines.push(`destroy ${tmp}`);
      lines.push(create(tmp, meta));
      for (const k of this.members.desired.keys()) {
        const [set, m] = splitMemberKey(k);
        if (set === name) lines.push(`add ${tmp} ${m}`);
      }
      lines.push(`swap ${tmp} ${name}`, `destroy ${tmp}`);
      rebuilt.add(name);
    }
    const added: string[] = [];
    const dropped: string[] = [];
    for (const [k] of this.members.pendingSets()) {
      const [set, m] = splitMemberKey(k);
      if (rebuilt.has(set) || !this.sets.desired.has(set)) continue;
      lines.push(`add ${set} ${m}`);
      added.push(k);
    }
    for (const [k] of this.members.pendingDeletes()) {
      const [set, m] = splitMemberKey(k);
      if (rebuilt.has(set) || !this.sets.desired.has(set)) continue; // rebuilt whole, or destroyed later
      lines.push(`del ${set} ${m}`);
      dropped.push(k);
    }
    if (!lines.length) return false;
    try {
      await this.restore(lines);
    } catch (e) {
      this.sets.invalidate();
      this.members.invalidate();
      throw e;
    }
    for (const [name, meta] of created) this.sets.wrote(name, meta);
    if (rebuilt.size) {
      this.members.forgetDataplane((k) => rebuilt.has(splitMemberKey(k)[0]));
      for (const k of this.members.desired.keys())
        if (rebuilt.has(splitMemberKey(k)[0])) this.members.wrote(k, true);
    }
    for (const k of added) this.members.wrote(k, true);
    for (const k of dropped) this.members.removed(k);
    return true;
  }

  /** Every ipset on the host as last known: others' at the last read, felix's now. */
  get totalSets(): number {
    return this.foreignSets + this.sets.dataplane.size;
  }

  /** Destroys felix's sets nobody wants any more (after iptables stopped naming them). */
  async destroyStale(): Promise<number> {
    let n = 0;
    for (const [name] of this.sets.pendingDeletes()) {
      try {
        await this.restore([`destroy ${name}`]);
      } catch {
        continue; // still referenced by someone else's rule: tried again next time
      }
      n++;
      this.sets.removed(name);
      this.members.forgetDataplane((k) => splitMemberKey(k)[0] === name);
    }
    return n;
  }
}
