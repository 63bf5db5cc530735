/**
 * Kubernetes label and field selectors as the API server parses them
 * (k8s.io/apimachinery labels.Parse / fields.ParseSelector): requirements joined by ",".
 * Labels: `k`, `!k`, `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`.
 * Fields: `f=v`, `f==v`, `f!=v` over the fields each kind supports.
 */
export type Requirement =
  | { key: string; op: 'exists' | 'notexists' }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: '=' | '!='; values: [string] };

export class SelectorParseError extends Error {}

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((p) => p.trim()).filter((p) => p !== '');
}

const KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

function checkKey(k: string, whole: string): string {
  if (!KEY.test(k))
    throw new SelectorParseError(`unable to parse requirement: invalid label key "${k}" in "${whole}"`);
  return k;
}
function checkValue(v: string, whole: string): string {
  if (!VALUE.test(v))
    throw new SelectorParseError(`unable to parse requirement: invalid label value "${v}" in "${whole}"`);
  return v;
}

export function parseLabelSelector(s: string): Requirement[] {
  return splitTopLevel(s).map((part): Requirement => {
    let m = /^!\s*(\S+)$/.exec(part);
    if (m) return { key: checkKey(m[1]!, s), op: 'notexists' };
    m = /^(\S+?)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
    if (m) {
      const values = m[3]!
        .split(',')
        .map((v) => v.trim())
        .map((v) => checkValue(v, s));
      return { key: checkKey(m[1]!, s), op: m[2] as 'in' | 'notin', values };
    }
    m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(part);
    if (m) {
      return {
        key: checkKey(m[1]!, s),
        op: m[2] === '!=' ? '!=' : '=',
        values: [checkValue(m[3]!, s)],
      };
    }
    if (/^\S+$/.test(part)) return { key: checkKey(part, s), op: 'exists' };
    throw new SelectorParseError(`unable to parse requirement: "${part}" in "${s}"`);
  });
}

export function labelsMatch(reqs: Requirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.hasOwn(l, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case 'notexists':
        return !has;
      case 'in':
      case '=':
        return has && r.values.includes(l[r.key]!);
      case 'notin':
      case '!=':
        return !has || !r.values.includes(l[r.key]!);
    }
    return false;
  });
}

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

export function parseFieldSelector(s: string, supported: readonly string[]): FieldRequirement[] {
  return splitTopLevel(s).map((part) => {
    const m = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) throw new SelectorParseError(`invalid selector: '${s}'; can't understand '${part}'`);
    const field = m[1]!;
    if (!supported.includes(field)) throw new SelectorParseError(`field label not supported: ${field}`);
    return { field, op: m[2] === '!=' ? '!=' : '=', value: m[3]! };
  });
}

/** Reads a dotted path ("spec.nodeName") of an object as the API server's field set does ("" if absent). */
export function fieldValue(obj: unknown, path: string): string {
  let cur: unknown = obj;
  for (const p of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur === undefined || cur === null ? '' : String(cur);
}

export function fieldsMatch(reqs: FieldRequirement[], obj: unknown): boolean {
  return reqs.every((r) => (fieldValue(obj, r.field) === r.value) === (r.op === '='));
}
