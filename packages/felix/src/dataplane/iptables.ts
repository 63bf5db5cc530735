import {
  type Chain,
  type IptablesState,
  type RenderedChain,
  renderChain,
  renderHook,
  sameRules,
  TABLES,
  type Table,
  tagPrefix,
} from '../calc/iptables/rules.js';
import { writeOrder } from '../calc/iptables/write-order.js';
import { cmd } from './exec.js';
import { keepWritten } from './staged-read.js';

export type Backend = 'nft' | 'legacy';

export const BUILTIN_CHAINS = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);

/** One table as iptables-save shows it. */
export interface ParsedTable {
  /** Every chain (builtin and user) → its rules as `-A` bodies, in order. */
  chains: Map<string, string[]>;
}

/** The tools of a backend and IP family: `iptables-nft-save`, `ip6tables-legacy-restore`, … */
export const binaries = (b: Backend, family: 4 | 6 = 4) => {
  const tool = family === 6 ? 'ip6tables' : 'iptables';
  return { save: `${tool}-${b}-save`, restore: `${tool}-${b}-restore`, iptables: `${tool}-${b}` };
};

/** Parses iptables-save output (any number of tables). */
export function parseSave(text: string): Map<Table, ParsedTable> {
  const out = new Map<Table, ParsedTable>();
  let cur: ParsedTable | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line.startsWith('*')) {
      cur = { chains: new Map() };
      out.set(line.slice(1) as Table, cur);
    } else if (!cur || line.startsWith('#') || line === 'COMMIT') {
    } else if (line.startsWith(':')) {
      cur.chains.set(line.slice(1).split(' ')[0]!, []);
    } else if (line.startsWith('-A ')) {
      const sp = line.indexOf(' ', 3);
      const chain = line.slice(3, sp < 0 ? undefined : sp);
      const body = sp < 0 ? '' : line.slice(sp + 1);
      let list = cur.chains.get(chain);
      if (!list) {
        list = [];
        cur.chains.set(chain, list);
      }
      list.push(body);
    }
  }
  return out;
}

const hashRes = new Map<string, RegExp>();

/** The felix hash carried by a rule body, or undefined when the rule is not felix's. */
export function ruleHash(body: string, chainPrefix: string): string | undefined {
  let re = hashRes.get(chainPrefix);
  if (!re) {
    const tag = tagPrefix(chainPrefix).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    re = new RegExp(`--comment "?${tag}([A-Za-z0-9_-]+)"?`);
    hashRes.set(chainPrefix, re);
  }
  return re.exec(body)?.[1];
}

/** Reads the tables with the backend's iptables-save (ip6tables-save); the read-back for tests too. */
export async function readTables(backend: Backend, family: 4 | 6 = 4): Promise<Map<Table, ParsedTable>> {
  const { stdout } = await cmd(binaries(backend, family).save, []);
  return parseSave(stdout);
}

/**
 * Picks the backend the host already uses: the one whose tables hold rules (kube-proxy,
 * docker or the distribution put them there). Debian 12 defaults to nft.
 */
export async function detectBackend(): Promise<Backend> {
  const count = async (b: Backend) => {
    const r = await cmd(binaries(b).save, [], { allowFail: true });
    if (r.code !== 0) return -1;
    return r.stdout.split('\n').filter((l) => l.startsWith('-A ')).length;
  };
  const [legacy, nft] = await Promise.all([count('legacy'), count('nft')]);
  return legacy > 0 && legacy > nft ? 'legacy' : 'nft';
}

/** Whether this host's ip6tables (of the backend) can be read, i.e. has IPv6 netfilter. */
export async function ip6tablesUsable(backend: Backend): Promise<boolean> {
  const r = await cmd(binaries(backend, 6).save, [], { allowFail: true }).catch(() => undefined);
  return r?.code === 0;
}

export interface IptablesDiff {
  /** The iptables-restore --noflush input; empty when nothing differs. */
  script: string;
  changedChains: number;
  deletedChains: number;
  hookChanges: number;
  /** Per table: the chains the script rewrites, deletes, and whether a hook is fixed. */
  touched: Map<Table, { written: Chain[]; deleted: string[]; hooks: boolean }>;
}

/**
 * Computes the delta between the desired state and the kernel's tables: whole chains are
 * rewritten when their hash list differs (declaring an existing chain in --noflush mode
 * flushes it), stale prefixed chains are flushed then deleted, and each hook gets exactly
 * one felix jump at position 1. Rules without felix's tag are never named in the script.
 * Chains are written in `writeOrder` (each after the chains it jumps to), each declared
 * right before its rules.
 *
 * `only`: per table, the chain names that may differ (the calculation's delta, with a
 * kernel model that has been kept in step); just those are compared. Hooks are always
 * checked (five chains).
 */
export function diffIptables(
  desired: IptablesState,
  kernel: Map<Table, ParsedTable>,
  chainPrefix: string,
  render: (c: Chain) => RenderedChain = (c) => renderChain(c, chainPrefix),
  only?: Record<Table, Iterable<string>>,
): IptablesDiff {
  const parts: string[] = [];
  let changedChains = 0;
  let deletedChains = 0;
  let hookChanges = 0;
  const touched: IptablesDiff['touched'] = new Map();
  for (const t of TABLES) {
    const k: ParsedTable = kernel.get(t) ?? { chains: new Map<string, string[]>() };
    const want = desired[t].chains;
    const tt = { written: [] as Chain[], deleted: [] as string[], hooks: false };
    const writes: string[] = [];
    const body: string[] = [];
    const decl: string[] = [];
    const del: string[] = [];
    const ours = (name: string) => !BUILTIN_CHAINS.has(name) && name.startsWith(chainPrefix);
    const examine = (name: string) => {
      const c = want.get(name);
      const cur = k.chains.get(name);
      if (!c) {
        if (cur && ours(name)) {
          deletedChains++;
          tt.deleted.push(name);
          decl.push(`:${name} - [0:0]`);
          del.push(`-X ${name}`);
        }
        return;
      }
      const r = render(c);
      // The very array written by the last successful restore (model kept in step): unchanged.
      if (cur === r.lines) return;
      if (
        cur &&
        cur.length === r.hashes.length &&
        cur.every((b, i) => ruleHash(b, chainPrefix) === r.hashes[i])
      )
        return;
      writes.push(name);
    };
    if (only) for (const name of new Set(only[t])) examine(name);
    else {
      for (const name of want.keys()) examine(name);
      for (const name of k.chains.keys()) if (!want.has(name)) examine(name);
    }
    for (const name of writes.length > 1 ? writeOrder(want, writes) : writes) {
      const c = want.get(name)!;
      changedChains++;
      tt.written.push(c);
      body.push(`:${name} - [0:0]`);
      for (const line of render(c).lines) body.push(`-A ${name} ${line}`);
    }
    // Hooks: exactly one felix jump per hook, at the top.
    const hooks = new Map<string, { hash: string; line: string }>();
    for (const h of desired[t].hooks) hooks.set(h.hook, renderHook(h, chainPrefix));
    for (const hook of BUILTIN_CHAINS) {
      const rules = k.chains.get(hook) ?? [];
      const ours = rules.map((b, i) => ({ i, h: ruleHash(b, chainPrefix) })).filter((x) => x.h !== undefined);
      const w = hooks.get(hook);
      const ok = w ? ours.length === 1 && ours[0]!.i === 0 && ours[0]!.h === w.hash : ours.length === 0;
      if (ok) continue;
      hookChanges++;
      tt.hooks = true;
      // By rule text, not position: another agent (kube-proxy, docker) may have inserted
      // rules since the model was read, and a stale index would delete one of theirs.
      for (const o of ours) body.unshift(`-D ${hook} ${rules[o.i]}`);
      if (w) body.push(`-I ${hook} 1 ${w.line}`);
    }
    if (decl.length + body.length + del.length === 0) continue;
    touched.set(t, tt);
    // Hook deletions come first (a `-D` deletes the first equal rule: it must not meet the
    // jump inserted below), then chain contents and inserts.
    const dels = body.filter((l) => l.startsWith('-D '));
    const rest = body.filter((l) => !l.startsWith('-D '));
    parts.push(`*${t}`, ...decl, ...dels, ...rest, ...del, 'COMMIT');
  }
  return {
    script: parts.length ? `${parts.join('\n')}\n` : '',
    changedChains,
    deletedChains,
    hookChanges,
    touched,
  };
}

/**
 * Caches rendered chains so a steady state does not re-hash 50,000 rules per apply: a
 * chain object seen before is a hit by identity (the calculation hands back the same
 * object for an unchanged endpoint, see CalcCache); otherwise a chain with the same name
 * and equal rules reuses the rendering. No key strings are built.
 */
class RenderCache {
  private byObject = new WeakMap<Chain, RenderedChain>();
  private byName = new Map<string, { rules: Chain['rules']; r: RenderedChain }>();
  constructor(private readonly prefix: string) {}
  render = (c: Chain): RenderedChain => {
    const seen = this.byObject.get(c);
    if (seen) return seen;
    const hit = this.byName.get(c.name);
    let r: RenderedChain;
    if (hit && sameRules(hit.rules, c.rules)) r = hit.r;
    else {
      r = renderChain(c, this.prefix);
      this.byName.set(c.name, { rules: c.rules, r });
    }
    this.byObject.set(c, r);
    return r;
  };
  /** Drops renderings of chains no longer wanted (only when the cache has grown well past them). */
  prune(desired: IptablesState): void {
    let n = 0;
    for (const t of TABLES) n += desired[t].chains.size;
    if (this.byName.size <= n + 1000) return;
    for (const name of this.byName.keys())
      if (!TABLES.some((t) => desired[t].chains.has(name))) this.byName.delete(name);
  }
}

/** A re-read of the kernel running beside the applies (see `IptablesDriver.refresh`). */
interface StagedRead {
  tables: Map<Table, ParsedTable> | undefined;
  /** Per table, the chains applies wrote while it ran (hook fixes: the builtin chains). */
  written: Map<Table, Set<string>>;
}

/** The table `t` of a parsed ruleset, created empty when missing. */
function tableOf(m: Map<Table, ParsedTable>, t: Table): ParsedTable {
  let x = m.get(t);
  if (!x) {
    x = { chains: new Map() };
    m.set(t, x);
  }
  return x;
}

/**
 * The iptables driver of one IP family: keeps a model of the kernel's tables (re-read after
 * errors and on the refresh timer) and writes only deltas with one iptables-restore.
 */
export class IptablesDriver {
  private kernel: Map<Table, ParsedTable> | undefined;
  private staged: StagedRead | undefined;
  private readonly renders: RenderCache;
  restoreCalls = 0;
  restoreErrors = 0;
  saveCalls = 0;

  constructor(
    readonly backend: Backend,
    private readonly chainPrefix: string,
    readonly family: 4 | 6 = 4,
  ) {
    this.renders = new RenderCache(chainPrefix);
  }

  /** Drops the model: the next apply re-reads the kernel before it diffs. */
  invalidate(): void {
    this.kernel = undefined;
    this.staged = undefined;
  }

  /**
   * The refresh timer's re-read, without holding up the applies: `iptables-save` of a
   * 10,000-endpoint node takes seconds, and a pod added meanwhile must not wait for it.
   * Resolves once the tables are read; the next apply then diffs everything against them
   * (that is what repairs drift), except the chains that applies wrote while the read ran:
   * for those felix's model is newer than the read.
   */
  async refresh(): Promise<void> {
    if (!this.kernel || this.staged) return; // the next apply reads anyway / one is running
    const staged: StagedRead = { tables: undefined, written: new Map() };
    this.staged = staged;
    this.saveCalls++;
    try {
      staged.tables = await readTables(this.backend, this.family);
    } catch {
      if (this.staged === staged) this.invalidate();
    }
  }

  /** The staged read, with what applies wrote while it ran taken from the model. */
  private adoptStaged(s: StagedRead): Map<Table, ParsedTable> {
    const fresh = s.tables!;
    for (const [t, names] of s.written)
      keepWritten(tableOf(fresh, t).chains, this.kernel!.get(t)?.chains, names);
    return fresh;
  }

  /**
   * `only`: the chain names that changed since the state this driver applied last (the
   * calculation's delta); ignored when the model had to be re-read.
   */
  async apply(desired: IptablesState, only?: Record<Table, Iterable<string>>): Promise<IptablesDiff> {
    if (!this.kernel) {
      this.staged = undefined;
      this.saveCalls++;
      this.kernel = await readTables(this.backend, this.family);
      only = undefined;
    } else if (this.staged?.tables) {
      this.kernel = this.adoptStaged(this.staged);
      this.staged = undefined;
      only = undefined;
    }
    const diff = diffIptables(desired, this.kernel, this.chainPrefix, this.renders.render, only);
    this.renders.prune(desired);
    if (!diff.script) return diff;
    this.restoreCalls++;
    try {
      await cmd(binaries(this.backend, this.family).restore, ['--noflush', '-w', '5'], {
        input: diff.script,
      });
    } catch (e) {
      this.restoreErrors++;
      this.invalidate();
      throw e;
    }
    this.updateModel(desired, diff);
    return diff;
  }

  /**
   * After a successful restore the kernel holds exactly what we wrote: update the model
   * (only the chains and hooks the script touched) without re-reading.
   */
  private updateModel(desired: IptablesState, diff: IptablesDiff): void {
    const k = this.kernel!;
    for (const [t, touched] of diff.touched) {
      if (this.staged) {
        const names = this.staged.written.get(t) ?? new Set<string>();
        this.staged.written.set(t, names);
        for (const name of touched.deleted) names.add(name);
        for (const c of touched.written) names.add(c.name);
        if (touched.hooks) for (const hook of BUILTIN_CHAINS) names.add(hook);
      }
      const tab = tableOf(k, t);
      for (const name of touched.deleted) tab.chains.delete(name);
      for (const c of touched.written) tab.chains.set(c.name, this.renders.render(c).lines);
      if (!touched.hooks) continue;
      const hooks = new Map(desired[t].hooks.map((h) => [h.hook, renderHook(h, this.chainPrefix).line]));
      for (const hook of BUILTIN_CHAINS) {
        const rules = (tab.chains.get(hook) ?? []).filter((b) => ruleHash(b, this.chainPrefix) === undefined);
        const w = hooks.get(hook);
        if (w) rules.unshift(w);
        if (rules.length || tab.chains.has(hook)) tab.chains.set(hook, rules);
      }
    }
  }
}
