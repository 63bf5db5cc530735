import {
  type Chain,
  type HookJump,
  type RenderedChain,
  renderChain,
  renderHook,
  sameRules,
  TABLES,
  type Table,
  tagPrefix,
} from '../calc/iptables/rules.js';
import { ChainNameWalk, writeOrder } from '../calc/iptables/write-order.js';
import type { IptablesTrackers } from './kernel-state.js';

/**
 * felix's chains in iptables-save / iptables-restore text: the save parser, the rule hashes
 * that say whether a chain in the kernel is the one felix wants, and the restore script
 * that writes what the trackers have pending. Pure (the driver runs the tools).
 */

export const BUILTIN_CHAINS = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);

/**
 * One chain as iptables-save shows it: for each rule felix's hash (if it is felix's rule)
 * and, where kept (see `saveParser`), the `-A` body.
 */
export interface ParsedChain {
  lines: string[];
  hashes: (string | undefined)[];
}

/** One table as iptables-save shows it. */
export interface ParsedTable {
  /** Every chain (builtin and user) → its rules, in order. */
  chains: Map<string, ParsedChain>;
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

/**
 * A line-by-line iptables-save parser (feed it lines as the tool prints them: 50,000 rules
 * are parsed while iptables-save runs, not in one block after it). Hashes are taken for
 * felix's chains and the builtin ones (where its jumps live). With `bodies: 'hooks'` (the
 * driver's reads) rule texts are kept for the builtin chains only — felix deletes its jumps
 * there by their text; its own chains are compared by hash and rewritten whole — so a
 * refresh of 50,000 rules does not hold a second copy of every rule in memory.
 */
export function saveParser(
  chainPrefix: string,
  o: { bodies: 'all' | 'hooks' } = { bodies: 'all' },
): {
  line(l: string): void;
  result(): Map<Table, ParsedTable>;
} {
  const out = new Map<Table, ParsedTable>();
  let cur: ParsedTable | undefined;
  const chainOf = (name: string): ParsedChain => {
    let c = cur!.chains.get(name);
    if (!c) {
      c = { lines: [], hashes: [] };
      cur!.chains.set(name, c);
    }
    return c;
  };
  const all = o.bodies === 'all';
  return {
    line(raw: string) {
      const line = raw.trimEnd();
      if (line.startsWith('*')) {
        cur = { chains: new Map() };
        out.set(line.slice(1) as Table, cur);
      } else if (!cur || line.startsWith('#') || line === 'COMMIT') {
      } else if (line.startsWith(':')) {
        chainOf(line.slice(1).split(' ')[0]!);
      } else if (line.startsWith('-A ')) {
        const sp = line.indexOf(' ', 3);
        const name = line.slice(3, sp < 0 ? undefined : sp);
        const body = sp < 0 ? '' : line.slice(sp + 1);
        const c = chainOf(name);
        const builtin = BUILTIN_CHAINS.has(name);
        if (all || builtin) c.lines.push(body);
        c.hashes.push(name.startsWith(chainPrefix) || builtin ? ruleHash(body, chainPrefix) : undefined);
      }
    },
    result: () => out,
  };
}

/** Parses a whole iptables-save output (any number of tables). */
export function parseSave(text: string, chainPrefix = 'tri-'): Map<Table, ParsedTable> {
  const p = saveParser(chainPrefix);
  for (const l of text.split('\n')) p.line(l);
  return p.result();
}

export function sameHashes(a: readonly string[], b: readonly (string | undefined)[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A hook chain is right when it holds exactly one felix rule, first, and that rule is `j`. */
export function hookInSync(j: HookJump, p: ParsedChain, chainPrefix: string): boolean {
  let ours = 0;
  for (const h of p.hashes) if (h !== undefined) ours++;
  return ours === 1 && p.hashes[0] === renderHook(j, chainPrefix).hash;
}

/**
 * Renders chains once per chain object (the calculators hand back the same object while a
 * chain is unchanged), else once per name while its rules are equal. No key strings built.
 */
export class Renderer {
  private byObject = new WeakMap<Chain, RenderedChain>();
  private byName = new Map<string, { rules: Chain['rules']; r: RenderedChain }>();
  constructor(readonly chainPrefix: string) {}
  render = (c: Chain): RenderedChain => {
    const seen = this.byObject.get(c);
    if (seen) return seen;
    const hit = this.byName.get(c.name);
    let r: RenderedChain;
    if (hit && sameRules(hit.rules, c.rules)) r = hit.r;
    else {
      r = renderChain(c, this.chainPrefix);
      this.byName.set(c.name, { rules: c.rules, r });
      this.made++;
    }
    this.byObject.set(c, r);
    return r;
  };
  /** Renderings made since the last prune. */
  private made = 0;

  /**
   * Forgets renderings by name for chains no longer wanted. Cheap to call after every
   * apply: it only walks the cache once it has grown by a few thousand renderings.
   */
  prune(wanted: (name: string) => boolean): void {
    if (this.made < 4096) return;
    this.made = 0;
    for (const name of [...this.byName.keys()]) if (!wanted(name)) this.byName.delete(name);
  }
}

/**
 * List nodes iptables-nft may walk in one restore (`ChainNameWalk`) before the chain rewrites
 * go to a restore of their own: ~0.1 s of walking, about what starting one more restore costs.
 */
export const RESTORE_WALK_BUDGET = 2_000_000;

/** What the restores of one apply write, per table, for marking the trackers once they succeeded. */
export interface RestorePlan {
  /**
   * The iptables-restore --noflush inputs, run in order; none when nothing is pending. All but
   * the last hold chain rewrites only, each chain after the chains it jumps to; the last holds
   * the rest of the rewrites, the hook changes and the deletions.
   */
  scripts: string[];
  /** The same, as one text (logs and tests). */
  script: string;
  tables: Map<
    Table,
    {
      written: Chain[];
      deleted: string[];
      hooks: { hook: string; want?: HookJump; after: ParsedChain }[];
      /** Lines of the script for this table (`felix_iptables_lines_executed`). */
      lines: number;
    }
  >;
  changedChains: number;
  deletedChains: number;
  hookChanges: number;
}

/**
 * The iptables-restore --noflush script for everything pending in one family's trackers:
 * changed chains rewritten whole (declaring an existing chain in --noflush mode flushes it),
 * in `writeOrder` (each after the chains it jumps to, declared right before its rules);
 * stale felix chains flushed first and deleted last; each hook chain fixed to hold exactly
 * one felix jump, at the top. felix's old jumps are deleted by their text, never by
 * position: another agent (kube-proxy, docker) may have inserted rules since the last read.
 * Rules without felix's tag are never named.
 */
export function planRestore(
  trackers: IptablesTrackers,
  renderer: Renderer,
  walkBudget = RESTORE_WALK_BUDGET,
): RestorePlan {
  const prefix = renderer.chainPrefix;
  const plan: RestorePlan = {
    scripts: [],
    script: '',
    tables: new Map(),
    changedChains: 0,
    deletedChains: 0,
    hookChanges: 0,
  };
  const parts: string[] = [];
  const early: string[] = [];
  for (const t of TABLES) {
    const { chains, hooks } = trackers[t];
    if (!chains.pendingCount && !hooks.pendingCount) continue;
    const tt: NonNullable<ReturnType<RestorePlan['tables']['get']>> = {
      written: [],
      deleted: [],
      hooks: [],
      lines: 0,
    };
    const decl: string[] = [];
    const body: string[] = [];
    const dels: string[] = [];
    const xs: string[] = [];
    for (const [name] of chains.pendingDeletes()) {
      tt.deleted.push(name);
      decl.push(`:${name} - [0:0]`);
      xs.push(`-X ${name}`);
    }
    const sets = chains.pendingSets().map(([name]) => name);
    let walk = new ChainNameWalk();
    for (const name of sets.length > 1 ? writeOrder(chains.desired, sets) : sets) {
      const c = chains.desired.get(name)!;
      tt.written.push(c);
      walk.mentionChain(c);
      if (walk.walked > walkBudget && body.length) {
        // Everything so far in a restore of its own; this chain starts the next one.
        early.push(`*${t}\n${body.join('\n')}\nCOMMIT\n`);
        tt.lines += body.length + 2;
        body.length = 0;
        walk = new ChainNameWalk();
        walk.mentionChain(c);
      }
      body.push(`:${name} - [0:0]`);
      for (const line of renderer.render(c).lines) body.push(`-A ${name} ${line}`);
    }
    const hookItems: [string, HookJump | undefined][] = [
      ...hooks.pendingDeletes().map(([k]) => [k, undefined] as [string, undefined]),
      ...hooks.pendingSets(),
    ];
    const inserts: string[] = [];
    for (const [hook, want] of hookItems) {
      const cur = hooks.dataplane.get(hook) ?? { lines: [], hashes: [] };
      const after: ParsedChain = { lines: [], hashes: [] };
      const ours: string[] = [];
      cur.lines.forEach((l, i) => {
        if (cur.hashes[i] !== undefined) ours.push(`-D ${hook} ${l}`);
        else {
          after.lines.push(l);
          after.hashes.push(undefined);
        }
      });
      dels.push(...ours.reverse()); // bottom up
      if (want) {
        const r = renderHook(want, prefix);
        inserts.push(`-I ${hook} 1 ${r.line}`);
        after.lines.unshift(r.line);
        after.hashes.unshift(r.hash);
      }
      tt.hooks.push(want ? { hook, want, after } : { hook, after });
    }
    plan.changedChains += tt.written.length;
    plan.deletedChains += tt.deleted.length;
    plan.hookChanges += tt.hooks.length;
    plan.tables.set(t, tt);
    // Hook deletions first (a `-D` deletes the first equal rule: it must not meet the jump
    // inserted below), then chain contents and inserts, deletions of stale chains last.
    // Concatenated, not pushed with a spread: 10,000 endpoints make ~10^5 lines, more
    // arguments than a call's stack can hold.
    const section = [`*${t}`, ...decl, ...dels, ...body, ...inserts, ...xs, 'COMMIT'];
    tt.lines += section.length;
    parts.push(section.join('\n'));
  }
  if (parts.length) plan.scripts = [...early, `${parts.join('\n')}\n`];
  plan.script = plan.scripts.join('');
  return plan;
}

/** After a successful restore: the kernel holds what the plan wrote. */
export function commitRestore(trackers: IptablesTrackers, renderer: Renderer, plan: RestorePlan): void {
  for (const [t, tt] of plan.tables) {
    const { chains, hooks } = trackers[t];
    for (const name of tt.deleted) chains.removed(name);
    for (const c of tt.written) chains.wrote(c.name, renderer.render(c));
    for (const h of tt.hooks) hooks.wrote(h.hook, h.after);
  }
}
