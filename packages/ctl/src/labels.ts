import { UsageError } from './args.js';

/** One change on the command line: `key=value` sets, `key-` (or `--remove key`) removes. */
export type LabelChange = { key: string; value: string } | { key: string; remove: true };

export function parseLabelChanges(args: readonly string[], removes: readonly string[] = []): LabelChange[] {
  const out: LabelChange[] = [];
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq > 0) out.push({ key: a.slice(0, eq), value: a.slice(eq + 1) });
    else if (a.endsWith('-') && a.length > 1 && eq < 0) out.push({ key: a.slice(0, -1), remove: true });
    else throw new UsageError(`label: ${JSON.stringify(a)} is neither key=value nor key-`);
  }
  for (const k of removes) out.push({ key: k, remove: true });
  const seen = new Set<string>();
  for (const c of out) {
    if (seen.has(c.key)) throw new UsageError(`label: ${c.key} is given more than once`);
    seen.add(c.key);
  }
  if (out.length === 0) throw new UsageError('label: no labels given (key=value to set, key- to remove)');
  return out;
}

/**
 * kubectl's label semantics: setting a key that has another value needs `overwrite`;
 * setting the same value or removing an absent key changes nothing (the latter is reported).
 */
export function applyLabelChanges(
  current: Readonly<Record<string, string>>,
  changes: readonly LabelChange[],
  overwrite: boolean,
): { labels: Record<string, string>; changed: boolean; notFound: string[] } {
  const labels = { ...current };
  let changed = false;
  const notFound: string[] = [];
  for (const c of changes) {
    if ('remove' in c) {
      if (c.key in labels) {
        delete labels[c.key];
        changed = true;
      } else notFound.push(c.key);
      continue;
    }
    const old = labels[c.key];
    if (old === c.value) continue;
    if (old !== undefined && !overwrite)
      throw new UsageError(`label: '${c.key}' already has a value (${old}), and --overwrite is false`);
    labels[c.key] = c.value;
    changed = true;
  }
  return { labels, changed, notFound };
}
