import type { EndpointPort, Labels } from '@tricolor/datastore';
import { canonicalMember, type IpsetMeta, memberKey } from '../../dataplane/items.js';
import type { KernelState } from '../../dataplane/kernel-state.js';
import { LabelIndex } from './label-index.js';
import { ipsetName, ipsetType, type SetRef, setId } from './names.js';

/** What the sets need of an endpoint: its addresses per family (no prefix length) and named ports. */
export interface EndpointData {
  v4: readonly string[];
  v6: readonly string[];
  ports: readonly EndpointPort[];
}

interface LogicalSet {
  id: string;
  ref: SetRef;
  refs: number;
  /** Members per family with the number of endpoints contributing each (two may share an address). */
  members: { 4: Map<string, number>; 6: Map<string, number> };
}

interface SelectorUse {
  /** Sets fed by this selector: its own address set, and its named-port sets. */
  sets: Set<LogicalSet>;
}

const sameData = (a: EndpointData, b: EndpointData) =>
  a.v4.join() === b.v4.join() &&
  a.v6.join() === b.v6.join() &&
  a.ports.length === b.ports.length &&
  a.ports.every((p, i) => {
    const q = b.ports[i]!;
    return p.name === q.name && p.protocol === q.protocol && p.port === q.port;
  });

/** The members an endpoint gives a set in one family. */
function membersOf(set: SetRef, e: EndpointData, family: 4 | 6): string[] {
  const addrs = family === 4 ? e.v4 : e.v6;
  if (set.kind === 'selector') return [...addrs];
  if (set.kind !== 'namedPort') return [];
  const out: string[] = [];
  for (const p of e.ports)
    if (p.name === set.port) for (const a of addrs) out.push(`${a},${p.protocol.toLowerCase()}:${p.port}`);
  return out;
}

/**
 * The ipsets policy rules match on, reference-counted by the rules that use them, with
 * their members kept per member: every endpoint of the cluster (local and remote) is an
 * item of one label index whose selectors are the selectors of the sets in use; a match
 * starting or stopping adds or deletes that endpoint's addresses (or address,port pairs)
 * in the sets the selector feeds. A remote pod relabelled is a few member lines, never a
 * set rewritten. IPv6 sets are wanted only while felix programs IPv6.
 */
export class PolicyIpsets {
  readonly index: LabelIndex;
  private readonly endpoints = new Map<string, EndpointData>();
  private readonly sets = new Map<string, LogicalSet>();
  private readonly selectors = new Map<string, SelectorUse>();
  private v6 = false;

  constructor(
    private readonly state: KernelState,
    private readonly chainPrefix: string,
  ) {
    this.index = new LabelIndex({
      started: (selector, key) => this.contribute(selector, key, 1),
      stopped: (selector, key) => this.contribute(selector, key, -1),
    });
  }

  /** Sets in use. */
  get count(): number {
    return this.sets.size;
  }

  /** Distinct selectors the sets follow. */
  get selectorCount(): number {
    return this.selectors.size;
  }

  /** The kernel name of a set in one family. */
  name(ref: SetRef, family: 4 | 6): string {
    return ipsetName(this.chainPrefix, setId(ref), family);
  }

  /** An endpoint (any node's) came, changed or went. */
  setEndpoint(key: string, data: EndpointData | undefined, labels: Labels | undefined): void {
    const old = this.endpoints.get(key);
    if (!data || !labels) {
      this.index.deleteItem(key);
      this.endpoints.delete(key);
      return;
    }
    if (old && !sameData(old, data)) this.index.deleteItem(key); // members of the old addresses/ports go
    this.endpoints.set(key, data);
    this.index.setItem(key, labels);
  }

  acquire(ref: SetRef): void {
    const id = setId(ref);
    let s = this.sets.get(id);
    if (s) {
      s.refs++;
      return;
    }
    s = { id, ref, refs: 1, members: { 4: new Map(), 6: new Map() } };
    this.sets.set(id, s);
    for (const f of this.families(ref)) this.wantSet(s, f);
    if (ref.kind === 'nets') {
      for (const n of ref.nets) this.addMember(s, ref.family, canonicalMember(n), 1);
      return;
    }
    const use = this.selectors.get(ref.selector);
    if (use) {
      use.sets.add(s);
      for (const key of this.index.matching(ref.selector)) this.contributeTo(s, key, 1);
    } else {
      this.selectors.set(ref.selector, { sets: new Set([s]) });
      this.index.setSelector(ref.selector, ref.selector);
    }
  }

  release(ref: SetRef): void {
    const id = setId(ref);
    const s = this.sets.get(id);
    if (!s || --s.refs > 0) return;
    this.sets.delete(id);
    for (const f of [4, 6] as const) {
      const name = ipsetName(this.chainPrefix, id, f);
      if (f === 4 || this.v6)
        for (const m of s.members[f].keys()) this.state.ipsetMembers.deleteDesired(memberKey(name, m));
      this.state.ipsets.deleteDesired(name);
    }
    if (ref.kind === 'nets') return;
    const use = this.selectors.get(ref.selector)!;
    use.sets.delete(s);
    if (use.sets.size === 0) {
      this.selectors.delete(ref.selector);
      this.index.deleteSelector(ref.selector);
    }
  }

  /** IPv6 sets on or off (felix programs IPv6 while an IPv6 pool exists, or as configured). */
  setV6(on: boolean): void {
    if (on === this.v6) return;
    this.v6 = on;
    for (const s of this.sets.values()) {
      if (!this.families(s.ref).includes(6)) continue;
      const name = ipsetName(this.chainPrefix, s.id, 6);
      if (on) {
        this.wantSet(s, 6);
        for (const m of s.members[6].keys()) this.state.ipsetMembers.setDesired(memberKey(name, m), true);
      } else {
        for (const m of s.members[6].keys()) this.state.ipsetMembers.deleteDesired(memberKey(name, m));
        this.state.ipsets.deleteDesired(name);
      }
    }
  }

  private families(ref: SetRef): (4 | 6)[] {
    return ref.kind === 'nets' ? [ref.family] : [4, 6];
  }

  private wantSet(s: LogicalSet, family: 4 | 6): void {
    if (family === 6 && !this.v6) return;
    const meta: IpsetMeta = { type: ipsetType(s.ref), family: family === 4 ? 'inet' : 'inet6' };
    this.state.ipsets.setDesired(ipsetName(this.chainPrefix, s.id, family), meta);
  }

  private contribute(selector: string, key: string, sign: 1 | -1): void {
    const use = this.selectors.get(selector);
    if (!use) return;
    for (const s of use.sets) this.contributeTo(s, key, sign);
  }

  private contributeTo(s: LogicalSet, key: string, sign: 1 | -1): void {
    const e = this.endpoints.get(key);
    if (!e) return;
    for (const f of [4, 6] as const) for (const m of membersOf(s.ref, e, f)) this.addMember(s, f, m, sign);
  }

  private addMember(s: LogicalSet, family: 4 | 6, member: string, sign: 1 | -1): void {
    const counts = s.members[family];
    const n = (counts.get(member) ?? 0) + sign;
    const emit = family === 4 || this.v6;
    const key = emit ? memberKey(ipsetName(this.chainPrefix, s.id, family), member) : '';
    if (n <= 0) {
      counts.delete(member);
      if (emit) this.state.ipsetMembers.deleteDesired(key);
    } else {
      counts.set(member, n);
      if (n === 1 && emit) this.state.ipsetMembers.setDesired(key, true);
    }
  }
}
