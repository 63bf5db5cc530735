import { type AnyResource, type FieldIssue, ValidationError, validateResource } from '@tricolor/datastore';
import { convertKubernetesNetworkPolicy } from '@tricolor/policy';
import { UsageError } from './args.js';
import type { Ctx } from './context.js';
import { documents, type InputLimits, readInput } from './input.js';

/**
 * Turns one input document into the resources it stands for. Tricolor's own kinds are
 * validated as they are; documents of other APIs (a Kubernetes NetworkPolicy) are converted
 * by the function registered for their `apiVersion` and `kind`. A converter throws
 * ValidationError naming the field, as validation does.
 */
export type InputConverter = (doc: Record<string, unknown>) => AnyResource | AnyResource[];

const CONVERTERS = new Map<string, InputConverter>();
const converterKey = (apiVersion: string, kind: string) => `${apiVersion}\u0000${kind}`;

/** The one dispatch point for kinds `apply`/`create`/`replace`/`delete -f` accept beyond Tricolor's own. */
export function registerInputKind(apiVersion: string, kind: string, convert: InputConverter): void {
  CONVERTERS.set(converterKey(apiVersion, kind), convert);
}

// A Kubernetes NetworkPolicy is stored as the Tricolor policy `knp.default.<name>`, exactly as
// tricolor-kube-controllers writes it from the API server.
registerInputKind('networking.k8s.io/v1', 'NetworkPolicy', (doc) => convertKubernetesNetworkPolicy(doc));

export function toResources(doc: unknown): AnyResource[] {
  const d = doc as { apiVersion?: unknown; kind?: unknown } | null;
  if (d && typeof d === 'object' && typeof d.apiVersion === 'string' && typeof d.kind === 'string') {
    const convert = CONVERTERS.get(converterKey(d.apiVersion, d.kind));
    if (convert) {
      const out = convert(d as Record<string, unknown>);
      return (Array.isArray(out) ? out : [out]).map((r) => validateResource(r));
    }
  }
  return [validateResource(doc)];
}

/** `--max-errors`: how many validation errors are printed before the rest are only counted. */
export const DEFAULT_MAX_ERRORS = 20;

/**
 * Collects validation problems: the first `max` issues in full, the rest counted. What the
 * operator sees for 20,000 invalid documents is 20 lines and a count, not 20,000 lines.
 */
export class ProblemList {
  private readonly lines: string[] = [];
  private hidden = 0;
  private hiddenDocs = 0;
  private docs = 0;

  constructor(readonly max: number) {}

  add(where: string, issues: readonly FieldIssue[]): void {
    this.docs++;
    const room = this.max - this.lines.length;
    if (room <= 0) {
      this.hidden += issues.length;
      this.hiddenDocs++;
      return;
    }
    const shown = issues.slice(0, room);
    this.lines.push(...formatIssues(where, shown));
    if (issues.length > shown.length) {
      this.hidden += issues.length - shown.length;
      this.hiddenDocs++;
    }
  }

  error(): UsageError | undefined {
    if (this.docs === 0) return undefined;
    const more =
      this.hidden > 0
        ? [
            `... and ${this.hidden} more error(s) in ${this.hiddenDocs} document(s) not shown ` +
              `(${this.docs} invalid in all; --max-errors N shows more)`,
          ]
        : [];
    return new UsageError([...this.lines, ...more].join('\n'));
  }
}

/** `where: field: message` for one issue; an indented list under `where:` for several. */
export function formatIssues(where: string, issues: readonly FieldIssue[]): string[] {
  if (issues.length === 1) return [`${where}: ${issues[0]!.field}: ${issues[0]!.message}`];
  return [`${where}:`, ...issues.map((i) => `  ${i.field}: ${i.message}`)];
}

/**
 * Reads `-f <file|->` within the limits and validates every document (before anything is
 * written). One UsageError lists the invalid documents, each naming its fields, at most
 * `maxErrors` lines of them.
 */
export async function readResources(
  ctx: Ctx,
  file: string,
  limits: InputLimits,
  maxErrors: number,
): Promise<AnyResource[]> {
  const text = await readInput(file, ctx.stdin, limits.maxBytes);
  const out: AnyResource[] = [];
  const problems = new ProblemList(maxErrors);
  for (const { index, value } of documents(text, file, limits.maxDocuments)) {
    try {
      out.push(...toResources(value));
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      const name = (value as { metadata?: { name?: unknown } })?.metadata?.name;
      problems.add(
        `${file}: document ${index}${typeof name === 'string' ? ` (${e.kind} ${name})` : ''}`,
        e.issues,
      );
    }
  }
  const err = problems.error();
  if (err) throw err;
  if (out.length === 0) throw new UsageError(`${file}: no resources in it`);
  return out;
}
