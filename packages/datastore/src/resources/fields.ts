import { type FieldIssue, ValidationError } from '../errors.js';
import { canonicalCidr, cidrProblem, parseCidr, parseIp } from '../net/ip.js';

/**
 * A small field checker: every check takes a dotted path (`spec.ingress[0].ports[1]`),
 * records an issue naming that path when the value is wrong, and returns the value
 * (possibly normalized) so the caller can build the validated resource in one pass.
 *
 * Strict by construction: every path a check reads becomes known, and `done()` reports
 * every field of the input that no check read ("spec.natOutgoin: is not a known field
 * (did you mean natOutgoing?)"), so a typo is an error instead of a silently lost intent.
 * Free-form maps (labels, annotations, Kubernetes bookkeeping) are declared `opaque`.
 */
export class Fields {
  readonly issues: FieldIssue[] = [];
  private readonly known = new Set<string>();
  private readonly opaquePaths = new Set<string>();

  constructor(
    readonly kind: string,
    private readonly root: unknown,
  ) {}

  /** Reports unknown fields, then throws a ValidationError if any check failed. */
  done(): void {
    this.reportUnknown(this.root, '');
    if (this.issues.length > 0) throw new ValidationError(this.kind, this.issues);
  }

  /** Marks a path known whose content is free-form (not checked field by field). */
  opaque(path: string): unknown {
    const v = this.get(path);
    this.opaquePaths.add(path);
    return v;
  }

  private reportUnknown(v: unknown, path: string): void {
    if (this.opaquePaths.has(path) || v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      for (const [i, item] of v.entries()) this.reportUnknown(item, `${path}[${i}]`);
      return;
    }
    for (const [k, child] of Object.entries(v)) {
      // An undefined member says nothing (JSON drops it): objects built in code may carry them.
      if (child === undefined) continue;
      const p = path === '' ? k : `${path}.${k}`;
      if (this.known.has(p)) this.reportUnknown(child, p);
      else this.fail(p, `is not a known field${this.suggestion(path, k)}`);
    }
  }

  /** " (did you mean natOutgoing?)" when a known sibling is one or two edits away. */
  private suggestion(parent: string, key: string): string {
    const prefix = parent === '' ? '' : `${parent}.`;
    let best: string | undefined;
    let bestDistance = 3;
    for (const p of this.known) {
      if (!p.startsWith(prefix)) continue;
      const rest = p.slice(prefix.length);
      if (rest === '' || /[.[]/.test(rest)) continue;
      const d = rest.toLowerCase() === key.toLowerCase() ? 0 : editDistance(rest, key, bestDistance);
      if (d < bestDistance) {
        best = rest;
        bestDistance = d;
      }
    }
    return best === undefined ? '' : ` (did you mean ${best}?)`;
  }

  fail(field: string, message: string): undefined {
    this.issues.push({ field, message });
    return undefined;
  }

  get(path: string): unknown {
    let cur: unknown = this.root;
    let at = '';
    for (const part of path.split(/\.|(?=\[)/)) {
      at = at === '' || part.startsWith('[') ? `${at}${part}` : `${at}.${part}`;
      this.known.add(at);
      if (cur === undefined || cur === null) {
        cur = undefined;
        continue;
      }
      const idx = /^\[(\d+)\]$/.exec(part);
      if (idx) cur = Array.isArray(cur) ? cur[Number(idx[1])] : undefined;
      else cur = typeof cur === 'object' ? (cur as Record<string, unknown>)[part] : undefined;
    }
    return cur;
  }

  object(path: string, required = false): Record<string, unknown> | undefined {
    const v = this.get(path);
    if (v === undefined || v === null) return required ? this.fail(path, 'is required') : undefined;
    if (typeof v !== 'object' || Array.isArray(v))
      return this.fail(path, `must be an object, not ${show(v)}`);
    return v as Record<string, unknown>;
  }

  string(
    path: string,
    opts: {
      required?: boolean;
      oneOf?: readonly string[];
      pattern?: RegExp;
      patternText?: string;
      max?: number;
    } = {},
  ): string | undefined {
    const v = this.get(path);
    if (v === undefined || v === null || v === '')
      return opts.required ? this.fail(path, 'is required') : undefined;
    if (typeof v !== 'string') return this.fail(path, `must be a string, not ${show(v)}`);
    if (opts.oneOf && !opts.oneOf.includes(v))
      return this.fail(path, `${show(v)} is not one of ${opts.oneOf.join(', ')}`);
    if (opts.max !== undefined && v.length > opts.max)
      return this.fail(path, `is longer than ${opts.max} characters`);
    if (opts.pattern && !opts.pattern.test(v))
      return this.fail(path, `${show(v)} is not ${opts.patternText ?? `of the form ${opts.pattern}`}`);
    return v;
  }

  integer(path: string, opts: { required?: boolean; min?: number; max?: number } = {}): number | undefined {
    const v = this.get(path);
    if (v === undefined || v === null) return opts.required ? this.fail(path, 'is required') : undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) return this.fail(path, `${show(v)} is not an integer`);
    if (opts.min !== undefined && v < opts.min)
      return this.fail(path, `${v} is below the minimum ${opts.min}`);
    if (opts.max !== undefined && v > opts.max)
      return this.fail(path, `${v} is above the maximum ${opts.max}`);
    return v;
  }

  boolean(path: string): boolean | undefined {
    const v = this.get(path);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') return this.fail(path, `${show(v)} is not true or false`);
    return v;
  }

  array(path: string): unknown[] | undefined {
    const v = this.get(path);
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) return this.fail(path, `must be a list, not ${show(v)}`);
    return v;
  }

  /** A list of objects, each element (at path `list[i]`) required to be an object and read by `each`. */
  objectList<T>(path: string, each: (at: string, index: number) => T): T[] | undefined {
    return this.array(path)?.map((_, i) => {
      const at = `${path}[${i}]`;
      this.object(at, true);
      return each(at, i);
    });
  }

  /** A list of strings, each checked by `each` (which returns an error text or undefined). */
  stringList(path: string, each?: (s: string) => string | undefined): string[] | undefined {
    const list = this.array(path);
    if (!list) return undefined;
    const out: string[] = [];
    for (const [i, item] of list.entries()) {
      const p = `${path}[${i}]`;
      if (typeof item !== 'string') {
        this.fail(p, `must be a string, not ${show(item)}`);
        continue;
      }
      const problem = each?.(item);
      if (problem) this.fail(p, `${show(item)} ${problem}`);
      else out.push(item);
    }
    return out;
  }

  /** A CIDR, returned in canonical form. */
  cidr(
    path: string,
    opts: { required?: boolean; family?: 4 | 6; strict?: boolean } = {},
  ): string | undefined {
    const s = this.string(path, { required: opts.required });
    if (s === undefined) return undefined;
    const problem = cidrProblem(s, { strict: opts.strict });
    if (problem) return this.fail(path, `${show(s)} is not a valid CIDR: ${problem}`);
    const c = parseCidr(s)!;
    if (opts.family && c.family !== opts.family)
      return this.fail(path, `${show(s)} is not an IPv${opts.family} CIDR`);
    return canonicalCidr(s);
  }

  ip(path: string, opts: { required?: boolean } = {}): string | undefined {
    const s = this.string(path, { required: opts.required });
    if (s === undefined) return undefined;
    return parseIp(s) ? s : this.fail(path, `${show(s)} is not a valid IP address`);
  }

  /** A string→string map such as labels. */
  stringMap(path: string): Record<string, string> | undefined {
    const o = this.object(path);
    this.opaquePaths.add(path);
    if (!o) return undefined;
    for (const [k, v] of Object.entries(o)) {
      if (!LABEL_KEY.test(k)) this.fail(`${path}.${k}`, 'is not a valid label key');
      if (typeof v !== 'string') this.fail(`${path}.${k}`, `must be a string, not ${show(v)}`);
      else if (v.length > 63 || !LABEL_VALUE.test(v))
        this.fail(`${path}.${k}`, `${show(v)} is not a valid label value`);
    }
    return o as Record<string, string>;
  }
}

/** Levenshtein distance, giving up (returning `limit`) once it reaches `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    if (Math.min(...cur) >= limit) return limit;
    prev = cur;
  }
  return Math.min(prev[b.length]!, limit);
}

/** JSON text of a value for error messages, shortened. */
export function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** AS numbers are 4-octet (RFC 6793); 0 and 65535/4294967295 are reserved (RFC 7300). */
export const AS_RANGE = { min: 1, max: 4294967294 } as const;
