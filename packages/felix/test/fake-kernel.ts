/**
 * A kernel in memory for the property tests: routes, neighbors, links, FDB, sysctls,
 * ipsets and both families' iptables, changed only through the input felix gives the real
 * tools (`ip -batch` lines, `bridge -batch` lines, `ip` argv, `ipset restore` lines,
 * iptables-restore scripts) and read back the way the real reads return them. Errors where
 * the kernel would refuse (a route onto a missing device, deleting what is not there, a
 * jump to a missing chain, destroying a set in use); iptables-restore is atomic per script.
 * Reads can be held (`holdReads`) so writes happen while a read is under way, as on a node.
 */
import type { KernelRoute } from '@tricolor/linux';
import { TABLES, type Table } from '../src/calc/iptables/rules.js';
import { type ParsedTable, saveParser } from '../src/dataplane/iptables-render.js';
import {
  canonicalMember,
  type FdbEntry,
  type LinkState,
  type Neighbor,
  routeKey,
} from '../src/dataplane/items.js';
import type { KernelIO, KernelIpset } from '../src/dataplane/kernel-io.js';

const BUILTINS: Record<Table, string[]> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
};

type Tables = Map<Table, Map<string, string[]>>;

function emptyTables(): Tables {
  return new Map(TABLES.map((t) => [t, new Map(BUILTINS[t].map((c) => [c, [] as string[]]))]));
}

const copyTables = (t: Tables): Tables =>
  new Map([...t].map(([k, v]) => [k, new Map([...v].map(([c, r]) => [c, [...r]]))]));

const DEVICE_SYSCTLS = (dev: string) => [
  `net/ipv4/conf/${dev}/proxy_arp`,
  `net/ipv4/neigh/${dev}/proxy_delay`,
  `net/ipv4/conf/${dev}/forwarding`,
  `net/ipv4/conf/${dev}/route_localnet`,
  `net/ipv6/conf/${dev}/proxy_ndp`,
  `net/ipv6/conf/${dev}/forwarding`,
  `net/ipv6/conf/${dev}/accept_ra`,
];

export class FakeKernel implements KernelIO {
  readonly routes = new Map<string, KernelRoute>();
  readonly neighbors = new Map<string, Neighbor>();
  readonly links = new Map<string, LinkState>();
  readonly fdb = new Map<string, FdbEntry>();
  readonly sysctls = new Map<string, string>([
    ['net/ipv4/ip_forward', '0'],
    ['net/ipv6/conf/all/forwarding', '0'],
  ]);
  readonly ipsets = new Map<string, { type: string; family: string; members: Set<string> }>();
  readonly iptables: Record<4 | 6, Tables> = { 4: emptyTables(), 6: emptyTables() };
  /** Every write, in order (tests look at what felix wrote). */
  readonly log: string[] = [];
  private held: Promise<void> | undefined;
  private release: (() => void) | undefined;

  constructor(readonly nodeIP = '192.168.1.1') {
    this.addDevice('eth0', { addresses: [`${nodeIP}/24`], mtu: 1500 });
  }

  // ---- test controls ----

  addDevice(name: string, o: Partial<LinkState> = {}): void {
    this.links.set(name, { name, mtu: 1500, up: true, addresses: [], ...o });
    for (const k of DEVICE_SYSCTLS(name)) this.sysctls.set(k, '0');
  }

  /** A device deleted: the kernel takes its routes, neighbors, FDB and sysctls with it. */
  deleteDevice(name: string): void {
    this.links.delete(name);
    for (const [k, r] of [...this.routes]) if (r.dev === name) this.routes.delete(k);
    for (const [k, n] of [...this.neighbors]) if (n.dev === name) this.neighbors.delete(k);
    for (const [k, f] of [...this.fdb]) if (f.dev === name) this.fdb.delete(k);
    for (const k of DEVICE_SYSCTLS(name)) this.sysctls.delete(k);
  }

  /** Reads started from now on see the kernel as it is when they start, but finish only on `release`. */
  holdReads(): () => void {
    this.held = new Promise((r) => {
      this.release = r;
    });
    return () => {
      this.release?.();
      this.held = undefined;
    };
  }

  private async deliver<T>(value: T): Promise<T> {
    const h = this.held;
    if (h) await h;
    else await Promise.resolve();
    return value;
  }

  // ---- reads ----

  readRoutes(each: (r: KernelRoute) => void): Promise<void> {
    const snap = [...this.routes.values()].map((r) => ({ ...r }));
    return this.deliver(snap).then((rs) => {
      for (const r of rs) each(r);
    });
  }

  readNeighbors(): Promise<Neighbor[]> {
    return this.deliver([...this.neighbors.values()].map((n) => ({ ...n })));
  }

  linkExists(dev: string): boolean {
    return this.links.has(dev);
  }

  linkNames(): Set<string> {
    return new Set(this.links.keys());
  }

  readLink(name: string): Promise<LinkState | undefined> {
    const l = this.links.get(name);
    return this.deliver(l ? { ...l, addresses: [...l.addresses] } : undefined);
  }

  underlayFor(ip: string): Promise<{ name: string; mtu: number } | undefined> {
    for (const l of this.links.values())
      if (l.addresses.some((a) => a.split('/')[0] === ip)) return this.deliver({ name: l.name, mtu: l.mtu });
    return this.deliver(undefined);
  }

  readFdb(dev: string): Promise<FdbEntry[]> {
    return this.deliver([...this.fdb.values()].filter((f) => f.dev === dev).map((f) => ({ ...f })));
  }

  readSysctl(key: string): string | undefined {
    return this.sysctls.get(key);
  }

  readSysctlAsync(key: string): Promise<string | undefined> {
    return this.deliver(this.sysctls.get(key));
  }

  writeSysctl(key: string, value: string): void {
    if (!this.sysctls.has(key))
      throw Object.assign(new Error(`ENOENT: /proc/sys/${key}`), { code: 'ENOENT' });
    this.log.push(`sysctl ${key}=${value}`);
    this.sysctls.set(key, value);
  }

  readIpsets(): Promise<Map<string, KernelIpset>> {
    const out = new Map<string, KernelIpset>();
    for (const [name, s] of this.ipsets)
      out.set(name, { name, type: s.type, family: s.family, members: [...s.members].sort() });
    return this.deliver(out);
  }

  /** iptables-save text, parsed by felix's own parser. */
  saveText(family: 4 | 6): string {
    const lines: string[] = [];
    for (const [t, chains] of this.iptables[family]) {
      lines.push(`*${t}`);
      for (const c of chains.keys()) lines.push(`:${c} ${BUILTINS[t].includes(c) ? 'ACCEPT' : '-'} [0:0]`);
      for (const [c, rules] of chains) for (const r of rules) lines.push(`-A ${c} ${r}`);
      lines.push('COMMIT');
    }
    return `${lines.join('\n')}\n`;
  }

  readIptables(family: 4 | 6): Promise<Map<Table, ParsedTable>> {
    const p = saveParser('tri-', { bodies: 'hooks' }); // as felix reads
    for (const l of this.saveText(family).split('\n')) p.line(l);
    return this.deliver(p.result());
  }

  // ---- writes ----

  async ipBatch(lines: string[]): Promise<void> {
    const errors: string[] = [];
    for (const line of lines) {
      this.log.push(`ip ${line}`);
      try {
        this.ipLine(line.split(' '));
      } catch (e) {
        errors.push(`${(e as Error).message}\nCommand failed -:${lines.indexOf(line) + 1}`);
      }
    }
    await Promise.resolve();
    if (errors.length) throw new Error(errors.join('\n'));
  }

  private ipLine(w: string[]): void {
    if (w[0] === 'route') this.routeLine(w.slice(1));
    else if (w[0] === 'neigh') this.neighLine(w.slice(1));
    else throw new Error(`fake kernel: unknown ip batch line ${w.join(' ')}`);
  }

  private routeLine(w: string[]): void {
    const verb = w.shift();
    const blackhole = w[0] === 'blackhole';
    if (blackhole) w.shift();
    const dst = w.shift()!;
    const opt = (k: string) => {
      const i = w.indexOf(k);
      return i >= 0 ? w[i + 1] : undefined;
    };
    const r: KernelRoute = {
      family: dst.includes(':') ? 6 : 4,
      dst,
      type: blackhole ? 'blackhole' : 'unicast',
      protocol: opt('proto') ?? 'boot',
    };
    const dev = opt('dev');
    const via = opt('via');
    if (dev) r.dev = dev;
    if (via) r.via = via;
    if (w.includes('onlink')) r.onlink = true;
    if (opt('scope') === 'link') r.scope = 'link';
    const key = routeKey(r);
    if (verb === 'del') {
      if (!this.routes.has(key)) throw new Error('RTNETLINK answers: No such process');
      this.routes.delete(key);
      return;
    }
    if (dev && !this.links.has(dev)) throw new Error(`Cannot find device "${dev}"`);
    this.routes.set(key, r);
  }

  private neighLine(w: string[]): void {
    const verb = w[0];
    const ip = w[1]!;
    const dev = w[w.indexOf('dev') + 1]!;
    const key = `${dev}|${ip}`;
    if (!this.links.has(dev)) throw new Error(`Cannot find device "${dev}"`);
    if (verb === 'del') {
      if (!this.neighbors.has(key)) throw new Error('RTNETLINK answers: No such file or directory');
      this.neighbors.delete(key);
      return;
    }
    this.neighbors.set(key, { ip, dev, mac: w[w.indexOf('lladdr') + 1]! });
  }

  async ip(args: string[]): Promise<{ code: number; stderr: string }> {
    this.log.push(`ip ${args.join(' ')}`);
    await Promise.resolve();
    const [obj, verb] = args;
    const name = args[2] === 'name' ? args[3]! : args[2]!;
    if (obj === 'link' && verb === 'add') {
      if (this.links.has(name)) return { code: 2, stderr: 'RTNETLINK answers: File exists' };
      const opt = (k: string) => args[args.indexOf(k) + 1];
      const kind = opt('type');
      const link: Partial<LinkState> = { kind: kind!, mtu: 1500, up: false };
      if (kind === 'vxlan') {
        link.vni = Number(opt('id'));
        link.port = Number(opt('dstport'));
        link.local = opt('local')!;
        link.mac = opt('address')!;
      }
      this.addDevice(name, link);
      return { code: 0, stderr: '' };
    }
    const l = this.links.get(obj === 'addr' ? args[args.indexOf('dev') + 1]! : name);
    if (!l) return { code: 1, stderr: `Cannot find device "${name}"` };
    if (obj === 'link' && verb === 'del') this.deleteDevice(l.name);
    else if (obj === 'link' && verb === 'set') {
      if (args[3] === 'mtu') l.mtu = Number(args[4]);
      else if (args[3] === 'up') l.up = true;
      else if (args[3] === 'address') l.mac = args[4]!;
    } else if (obj === 'addr' && verb === 'replace') {
      if (!l.addresses.includes(args[2]!)) l.addresses.push(args[2]!);
    } else if (obj === 'addr' && verb === 'del') l.addresses = l.addresses.filter((a) => a !== args[2]);
    else return { code: 1, stderr: `fake kernel: unknown ip ${args.join(' ')}` };
    return { code: 0, stderr: '' };
  }

  async bridgeBatch(lines: string[]): Promise<void> {
    const errors: string[] = [];
    for (const line of lines) {
      this.log.push(`bridge ${line}`);
      const w = line.split(' ');
      const f = { mac: w[2]!, dev: w[w.indexOf('dev') + 1]!, dst: w[w.indexOf('dst') + 1]! };
      const key = `${f.dev}|${f.mac}|${f.dst}`;
      if (!this.links.has(f.dev)) errors.push(`Cannot find device "${f.dev}"`);
      else if (w[1] === 'del') {
        if (!this.fdb.delete(key)) errors.push('RTNETLINK answers: No such file or directory');
      } else this.fdb.set(key, f);
    }
    await Promise.resolve();
    if (errors.length) throw new Error(errors.join('\n'));
  }

  devicesChanged(): void {}

  close(): void {}

  async ready(): Promise<void> {}

  async ipsetRestore(lines: string[]): Promise<void> {
    await Promise.resolve();
    for (const line of lines) {
      this.log.push(`ipset ${line}`);
      const w = line.split(' ');
      const set = (n: string) => {
        const s = this.ipsets.get(n);
        if (!s) throw new Error(`ipset: The set with the given name does not exist (${n})`);
        return s;
      };
      if (w[0] === 'create') {
        const cur = this.ipsets.get(w[1]!);
        const fam = w[w.indexOf('family') + 1]!;
        if (cur && (cur.type !== w[2] || cur.family !== fam))
          throw new Error(`ipset: set ${w[1]} exists differently`);
        if (!cur) this.ipsets.set(w[1]!, { type: w[2]!, family: fam, members: new Set() });
      } else if (w[0] === 'add') set(w[1]!).members.add(canonicalMember(w[2]!));
      else if (w[0] === 'del') set(w[1]!).members.delete(canonicalMember(w[2]!));
      else if (w[0] === 'destroy') {
        set(w[1]!);
        for (const f of [4, 6] as const)
          for (const chains of this.iptables[f].values())
            for (const rules of chains.values())
              if (rules.some((r) => r.includes(`--match-set ${w[1]} `)))
                throw new Error(
                  `ipset: Set cannot be destroyed: it is in use by a kernel component (${w[1]})`,
                );
        this.ipsets.delete(w[1]!);
      } else if (w[0] === 'swap') {
        const a = set(w[1]!);
        const b = set(w[2]!);
        this.ipsets.set(w[1]!, b);
        this.ipsets.set(w[2]!, a);
      } else throw new Error(`fake kernel: unknown ipset line ${line}`);
    }
  }

  async iptablesRestore(family: 4 | 6, script: string): Promise<void> {
    await Promise.resolve();
    const next = copyTables(this.iptables[family]);
    let table: Map<string, string[]> | undefined;
    let lineNo = 0;
    const fail = (msg: string): never => {
      throw new Error(`iptables-restore: line ${lineNo} failed: ${msg}`);
    };
    for (const raw of script.split('\n')) {
      lineNo++;
      const line = raw.trimEnd();
      if (!line) continue;
      this.log.push(`iptables${family === 6 ? '6' : ''} ${line}`);
      if (line.startsWith('*')) table = next.get(line.slice(1) as Table) ?? fail('unknown table');
      else if (line === 'COMMIT') table = undefined;
      else if (line.startsWith(':')) table!.set(line.slice(1).split(' ')[0]!, []);
      else {
        const [op, chain, ...rest] = line.split(' ');
        const body = rest.join(' ');
        const rules = table!.get(chain!) ?? fail(`no chain ${chain}`);
        if (op === '-A') rules.push(body);
        else if (op === '-I') rules.unshift(rest.slice(1).join(' '));
        else if (op === '-D') {
          const i = rules.indexOf(body);
          if (i < 0) fail(`no such rule in ${chain}`);
          rules.splice(i, 1);
        } else if (op === '-X') {
          if (rules.length) fail(`chain ${chain} not empty`);
          for (const r of [...table!.values()].flat())
            if (/(?:^| )-[jg] (\S+)/.exec(r)?.[1] === chain) fail(`${chain} in use`);
          table!.delete(chain!);
        } else fail(`unknown ${op}`);
      }
    }
    // Every jump must name an existing chain (or a builtin target).
    for (const chains of next.values())
      for (const rules of chains.values())
        for (const r of rules) {
          const target = /(?:^| )-[jg] (\S+)/.exec(r)?.[1];
          if (target && !/^[A-Z]+$/.test(target) && !chains.has(target))
            fail(`jump to missing chain ${target}`);
        }
    this.iptables[family] = next;
  }
}
