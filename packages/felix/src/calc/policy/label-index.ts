import { type Labels, matches, parseSelector, type SelectorNode } from '@tricolor/datastore';
import { NAMESPACE_LABEL, ORCHESTRATOR_LABEL } from '@tricolor/policy';

/**
 * A term every item a selector matches must carry: `label == value` / `label in {values}`
 * (`values` given), or `has(label)`. Items without it are never evaluated against the selector.
 */
export interface RequiredTerm {
  label: string;
  values?: readonly string[];
}

/** Labels nearly every endpoint carries: a term on them narrows little. */
const BROAD = new Set([ORCHESTRATOR_LABEL]);

function termOf(node: SelectorNode): { term: RequiredTerm; score: number } | undefined {
  switch (node.op) {
    case '==':
      return { term: { label: node.label, values: [node.value] }, score: BROAD.has(node.label) ? 1 : 4 };
    case 'in':
      return { term: { label: node.label, values: node.values }, score: BROAD.has(node.label) ? 1 : 3 };
    case 'has':
      return {
        term: { label: node.label },
        score: BROAD.has(node.label) || node.label === NAMESPACE_LABEL ? 0 : 2,
      };
    default:
      return undefined;
  }
}

/** The most selective term a selector requires, or undefined when it requires none (`all()`, `||`, `!`…). */
export function requiredTerm(node: SelectorNode): RequiredTerm | undefined {
  const candidates = node.op === 'and' ? node.args : [node];
  let best: { term: RequiredTerm; score: number } | undefined;
  for (const a of candidates) {
    const t = termOf(a);
    if (t && (!best || t.score > best.score)) best = t;
  }
  return best?.term;
}

interface SelectorEntry {
  node: SelectorNode;
  term: RequiredTerm | undefined;
  matched: Set<string>;
}

export interface LabelIndexEvents {
  /** An item's labels now match the selector. */
  started(selectorId: string, itemKey: string): void;
  /** They no longer do (or the item or the selector went). */
  stopped(selectorId: string, itemKey: string): void;
}

const addTo = <K, V>(m: Map<K, Set<V>>, k: K, v: V) => {
  let s = m.get(k);
  if (!s) {
    s = new Set();
    m.set(k, s);
  }
  s.add(v);
};
const removeFrom = <K, V>(m: Map<K, Set<V>>, k: K, v: V) => {
  const s = m.get(k);
  if (!s) return;
  s.delete(v);
  if (s.size === 0) m.delete(k);
};

/**
 * Selectors against labelled items (endpoints), incremental both ways, as Calico's label
 * index: a selector added is evaluated only against the items that carry its required term
 * (`app == "web"` → the items labelled app=web), an item's labels changed are evaluated only
 * against the selectors whose required term the item carries (plus the few that require
 * none), and only the changed matches are reported.
 */
export class LabelIndex {
  private readonly items = new Map<string, Labels>();
  /** label → value → items carrying it. */
  private readonly itemsByLabel = new Map<string, Map<string, Set<string>>>();
  private readonly selectors = new Map<string, SelectorEntry>();
  /** label → value → selectors requiring `label == value` (or `in`). */
  private readonly selectorsByValue = new Map<string, Map<string, Set<string>>>();
  /** label → selectors requiring `has(label)`. */
  private readonly selectorsByLabel = new Map<string, Set<string>>();
  private readonly unindexed = new Set<string>();
  private readonly matchesOfItem = new Map<string, Set<string>>();

  constructor(private readonly events: LabelIndexEvents) {}

  get selectorCount(): number {
    return this.selectors.size;
  }

  get itemCount(): number {
    return this.items.size;
  }

  /** The items a selector matches now. */
  matching(selectorId: string): ReadonlySet<string> {
    return this.selectors.get(selectorId)?.matched ?? EMPTY;
  }

  /** The selectors an item matches now. */
  matchesOf(itemKey: string): ReadonlySet<string> {
    return this.matchesOfItem.get(itemKey) ?? EMPTY;
  }

  labelsOf(itemKey: string): Labels | undefined {
    return this.items.get(itemKey);
  }

  hasSelector(selectorId: string): boolean {
    return this.selectors.has(selectorId);
  }

  /** Adds or changes a selector (`selector` in Calico syntax; parsed trees are cached by the caller's text). */
  setSelector(id: string, selector: string | SelectorNode): void {
    const node = typeof selector === 'string' ? parseSelector(selector) : selector;
    const old = this.selectors.get(id);
    if (old) this.unindexSelector(id, old);
    const entry: SelectorEntry = { node, term: requiredTerm(node), matched: old?.matched ?? new Set() };
    this.selectors.set(id, entry);
    this.indexSelector(id, entry);
    const now = new Set<string>();
    for (const key of this.candidateItems(entry.term)) if (matches(node, this.items.get(key)!)) now.add(key);
    for (const key of [...entry.matched]) if (!now.has(key)) this.stop(id, entry, key);
    for (const key of now) if (!entry.matched.has(key)) this.start(id, entry, key);
  }

  deleteSelector(id: string): void {
    const entry = this.selectors.get(id);
    if (!entry) return;
    for (const key of [...entry.matched]) this.stop(id, entry, key);
    this.unindexSelector(id, entry);
    this.selectors.delete(id);
  }

  /** Adds or changes an item's labels. */
  setItem(key: string, labels: Labels): void {
    const old = this.items.get(key);
    if (old) this.unindexItem(key, old);
    this.items.set(key, labels);
    this.indexItem(key, labels);
    const was = this.matchesOfItem.get(key);
    const now = new Set<string>();
    const test = (id: string) => {
      if (now.has(id)) return;
      if (matches(this.selectors.get(id)!.node, labels)) now.add(id);
    };
    for (const id of this.unindexed) test(id);
    for (const label of Object.keys(labels)) {
      for (const id of this.selectorsByLabel.get(label) ?? EMPTY) test(id);
      const byValue = this.selectorsByValue.get(label);
      if (byValue) for (const id of byValue.get(labels[label]!) ?? EMPTY) test(id);
    }
    if (was) for (const id of [...was]) if (!now.has(id)) this.stop(id, this.selectors.get(id)!, key);
    for (const id of now) if (!was?.has(id)) this.start(id, this.selectors.get(id)!, key);
  }

  deleteItem(key: string): void {
    const old = this.items.get(key);
    if (!old) return;
    for (const id of [...(this.matchesOfItem.get(key) ?? EMPTY)]) this.stop(id, this.selectors.get(id)!, key);
    this.unindexItem(key, old);
    this.items.delete(key);
  }

  private start(id: string, entry: SelectorEntry, key: string): void {
    entry.matched.add(key);
    addTo(this.matchesOfItem, key, id);
    this.events.started(id, key);
  }

  private stop(id: string, entry: SelectorEntry, key: string): void {
    entry.matched.delete(key);
    removeFrom(this.matchesOfItem, key, id);
    this.events.stopped(id, key);
  }

  private *candidateItems(term: RequiredTerm | undefined): Iterable<string> {
    if (!term) {
      yield* this.items.keys();
      return;
    }
    const byValue = this.itemsByLabel.get(term.label);
    if (!byValue) return;
    if (term.values) for (const v of term.values) yield* byValue.get(v) ?? EMPTY;
    else for (const s of byValue.values()) yield* s;
  }

  private indexSelector(id: string, e: SelectorEntry): void {
    const t = e.term;
    if (!t) this.unindexed.add(id);
    else if (!t.values) addTo(this.selectorsByLabel, t.label, id);
    else {
      let m = this.selectorsByValue.get(t.label);
      if (!m) {
        m = new Map();
        this.selectorsByValue.set(t.label, m);
      }
      for (const v of t.values) addTo(m, v, id);
    }
  }

  private unindexSelector(id: string, e: SelectorEntry): void {
    const t = e.term;
    if (!t) this.unindexed.delete(id);
    else if (!t.values) removeFrom(this.selectorsByLabel, t.label, id);
    else {
      const m = this.selectorsByValue.get(t.label);
      if (!m) return;
      for (const v of t.values) removeFrom(m, v, id);
      if (m.size === 0) this.selectorsByValue.delete(t.label);
    }
  }

  private indexItem(key: string, labels: Labels): void {
    for (const [k, v] of Object.entries(labels)) {
      let m = this.itemsByLabel.get(k);
      if (!m) {
        m = new Map();
        this.itemsByLabel.set(k, m);
      }
      addTo(m, v, key);
    }
  }

  private unindexItem(key: string, labels: Labels): void {
    for (const [k, v] of Object.entries(labels)) {
      const m = this.itemsByLabel.get(k);
      if (!m) continue;
      removeFrom(m, v, key);
      if (m.size === 0) this.itemsByLabel.delete(k);
    }
  }
}

const EMPTY: ReadonlySet<string> = new Set();
