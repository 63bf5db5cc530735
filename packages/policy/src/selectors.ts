import { createHash } from 'node:crypto';
import { parseSelector, type SelectorNode } from '@tricolor/datastore';
import { NAMESPACE_LABEL } from './labels.js';

/**
 * Canonical selectors: one text per meaning-preserving rewrite of a selector (nested &&/||
 * flattened, duplicates dropped, operands and `in` values sorted, all() absorbed), so equal
 * selectors get one identity and felix keeps one ipset per distinct selector.
 */
export function canonicalize(node: SelectorNode): SelectorNode {
  switch (node.op) {
    case 'in':
    case 'not in':
      return { ...node, values: [...new Set(node.values)].sort() };
    case 'not': {
      const arg = canonicalize(node.arg);
      return arg.op === 'not' ? arg.arg : { op: 'not', arg };
    }
    case 'and':
    case 'or': {
      const flat: SelectorNode[] = [];
      for (const a of node.args.map(canonicalize)) {
        if (a.op === node.op) flat.push(...a.args);
        else flat.push(a);
      }
      const all = flat.some((a) => a.op === 'all');
      if (node.op === 'or' && all) return { op: 'all' };
      const byText = new Map<string, SelectorNode>();
      for (const a of flat) if (a.op !== 'all') byText.set(printSelector(a), a);
      const args = [...byText.keys()].sort().map((k) => byText.get(k)!);
      if (args.length === 0) return { op: 'all' };
      return args.length === 1 ? args[0]! : { op: node.op, args };
    }
    default:
      return node;
  }
}

const quote = (v: string) => (v.includes('"') ? `'${v}'` : `"${v}"`);

/** Prints a selector tree in the syntax `parseSelector` reads back to the same tree. */
export function printSelector(node: SelectorNode): string {
  switch (node.op) {
    case 'all':
      return 'all()';
    case 'has':
      return `has(${node.label})`;
    case '==':
    case '!=':
    case 'contains':
    case 'starts with':
    case 'ends with':
      return `${node.label} ${node.op} ${quote(node.value)}`;
    case 'in':
    case 'not in':
      return `${node.label} ${node.op} {${node.values.map(quote).join(', ')}}`;
    case 'not':
      return node.arg.op === 'has' ? `!${printSelector(node.arg)}` : `!(${printSelector(node.arg)})`;
    case 'and':
      return node.args.map((a) => (a.op === 'or' ? `(${printSelector(a)})` : printSelector(a))).join(' && ');
    case 'or':
      return node.args.map(printSelector).join(' || ');
  }
}

/** The canonical text of a selector string (throws SelectorError when it does not parse). */
export function canonicalSelector(src: string): string {
  return printSelector(canonicalize(parseSelector(src)));
}

/** The conjunction of selector trees, canonical. */
export function andSelectors(parts: readonly SelectorNode[]): SelectorNode {
  return canonicalize({ op: 'and', args: [...parts] });
}

/**
 * A selector over a namespace's (service account's) own labels rewritten to the prefixed
 * labels endpoints carry, so it is evaluated on the endpoints themselves. `all()` becomes
 * "in some namespace" (every workload endpoint).
 */
export function prefixSelector(node: SelectorNode, prefix: string): SelectorNode {
  switch (node.op) {
    case 'all':
      return { op: 'has', label: NAMESPACE_LABEL };
    case 'not':
      return { op: 'not', arg: prefixSelector(node.arg, prefix) };
    case 'and':
    case 'or':
      return { op: node.op, args: node.args.map((a) => prefixSelector(a, prefix)) };
    default:
      return { ...node, label: prefix + node.label };
  }
}

/**
 * A short stable identity of a canonical selector (felix names the selector's ipset after it):
 * "s:" and 22 characters of base64url SHA-224, as Calico's ipset ids.
 */
export function selectorId(canonical: string): string {
  return `s:${createHash('sha224').update(canonical).digest('base64url').slice(0, 22)}`;
}
