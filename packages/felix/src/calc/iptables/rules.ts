import { createHash } from 'node:crypto';

/** The four tables felix programs. */
export const TABLES = ['raw', 'mangle', 'nat', 'filter'] as const;
export type Table = (typeof TABLES)[number];

/**
 * One iptables rule as felix renders it: match text and action text in iptables-save
 * syntax (`-i cali+ -p tcp --dport 22`, `-j ACCEPT`, `-g tri-fw-cali12`). Rules are
 * values: equal text means the same rule, and the text is what gets hashed.
 */
export interface Rule {
  match?: string;
  action: string;
  /** Human-readable note, rendered as a second comment (not part of the hash input). */
  note?: string;
}

export interface Chain {
  name: string;
  rules: Rule[];
}

/** A chain with every rule's hash, ready to compare against the kernel. */
export interface RenderedChain {
  name: string;
  hashes: string[];
  /** The rule bodies after `-A <chain> ` (comments included). */
  lines: string[];
}

/** A jump felix inserts at the top of a kernel hook chain (FORWARD, POSTROUTING, ...). */
export interface HookJump {
  table: Table;
  hook: string;
  target: string;
}

/** Everything felix wants in one table: its own chains and the jumps into them. */
export interface TableState {
  /** Every chain felix wants in this table, by name (see `writeOrder` for the restore order). */
  chains: ReadonlyMap<string, Chain>;
  hooks: HookJump[];
  /** Number of rules in `chains` (kept by the builder, so metrics cost no walk). */
  ruleCount: number;
}

export type IptablesState = Record<Table, TableState>;

/** Field-by-field equality of two rule lists (no string building). */
export function sameRule(x: Rule, y: Rule): boolean {
  return x.action === y.action && (x.match ?? '') === (y.match ?? '') && (x.note ?? '') === (y.note ?? '');
}

export function sameRules(a: readonly Rule[], b: readonly Rule[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameRule(a[i]!, b[i]!)) return false;
  return true;
}

export function ruleText(r: Rule): string {
  return r.match ? `${r.match} ${r.action}` : r.action;
}

/**
 * Calico-style positional hashes: each rule's hash covers the chain name, the previous
 * rule's hash and the rule itself, so a rule moved, inserted or changed anywhere shows up
 * as a hash mismatch from that point on, and whole-chain equality is a list comparison.
 */
export function hashChain(chain: Chain): string[] {
  let prev = chain.name;
  return chain.rules.map((r) => {
    const h = createHash('sha256').update(prev).update('\0').update(ruleText(r)).digest('base64url');
    prev = h;
    return h.slice(0, 16);
  });
}

/** The hash of a hook jump; it depends on table, hook and target only. */
export function hashHook(j: HookJump): string {
  return createHash('sha256')
    .update(`${j.table}\0${j.hook}\0-j ${j.target}`)
    .digest('base64url')
    .slice(0, 16);
}

/** The comment tag felix stamps on its rules: `tri:<hash>` for chain prefix `tri-`. */
export function tagPrefix(chainPrefix: string): string {
  return `${chainPrefix.replace(/-$/, '')}:`;
}

function quote(s: string): string {
  return /^[A-Za-z0-9_.:/+=-]+$/.test(s) ? s : `"${s.replace(/["\\]/g, '')}"`;
}

/** `-m comment --comment "tri:<hash>"` followed by the rule. */
export function renderRule(r: Rule, hash: string, chainPrefix: string): string {
  const tag = `-m comment --comment ${quote(tagPrefix(chainPrefix) + hash)}`;
  const note = r.note ? ` -m comment --comment ${quote(r.note)}` : '';
  return r.match ? `${r.match} ${tag}${note} ${r.action}` : `${tag}${note} ${r.action}`;
}

export function renderChain(chain: Chain, chainPrefix: string): RenderedChain {
  const hashes = hashChain(chain);
  return {
    name: chain.name,
    hashes,
    lines: chain.rules.map((r, i) => renderRule(r, hashes[i]!, chainPrefix)),
  };
}

export function renderHook(j: HookJump, chainPrefix: string): { hash: string; line: string } {
  const hash = hashHook(j);
  return { hash, line: `-m comment --comment ${quote(tagPrefix(chainPrefix) + hash)} -j ${j.target}` };
}

/** iptables chain names are limited to 28 characters. */
export const MAX_CHAIN_NAME = 28;

/** The chain a rule jumps or goes to (`-j X`, `-g X`), or undefined for any other action. */
export function ruleTarget(r: Rule): string | undefined {
  const a = r.action;
  if (a.length < 4 || a[0] !== '-' || (a[1] !== 'j' && a[1] !== 'g') || a[2] !== ' ') return undefined;
  const end = a.indexOf(' ', 3);
  return end < 0 ? a.slice(3) : a.slice(3, end);
}
