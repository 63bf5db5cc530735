import { readFile } from 'node:fs/promises';
import {
  type AnyResource,
  KINDS,
  type Kind,
  kindByName,
  ValidationError,
  validateResource,
} from '@tricolor/datastore';
import { parseAllDocuments } from 'yaml';
import { UsageError } from './args.js';
import type { Ctx } from './context.js';

/** Reads `-f <file|->`: JSON, or (multi-document) YAML; arrays and `kind: List` are flattened. */
export async function readDocuments(ctx: Ctx, file: string): Promise<unknown[]> {
  let text: string;
  try {
    text = file === '-' ? await ctx.readStdin() : await readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(`-f: cannot read ${file}: ${(e as Error).message}`);
  }
  let docs: unknown[] | undefined;
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      docs = [JSON.parse(text)];
    } catch {
      docs = undefined; // not one JSON value: maybe several documents; YAML reads JSON too
    }
  }
  if (!docs) {
    docs = [];
    for (const [i, d] of parseAllDocuments(text).entries()) {
      if (d.errors.length > 0) throw new UsageError(`${file}: document ${i + 1}: ${d.errors[0]!.message}`);
      docs.push(d.toJS());
    }
  }
  const flat: unknown[] = [];
  const add = (d: unknown) => {
    if (d === null || d === undefined) return;
    if (Array.isArray(d)) d.forEach(add);
    else if ((d as { kind?: unknown }).kind === 'List' && Array.isArray((d as { items?: unknown }).items))
      (d as { items: unknown[] }).items.forEach(add);
    else flat.push(d);
  };
  docs.forEach(add);
  if (flat.length === 0) throw new UsageError(`${file}: no resources in it`);
  return flat;
}

/** Validates every document; one error listing every invalid document (each names its fields). */
export function validateAll(file: string, docs: unknown[]): AnyResource[] {
  const out: AnyResource[] = [];
  const problems: string[] = [];
  docs.forEach((d, i) => {
    try {
      out.push(validateResource(d));
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      const name = (d as { metadata?: { name?: unknown } })?.metadata?.name;
      problems.push(
        `${file}: document ${i + 1}${typeof name === 'string' ? ` (${e.kind} ${name})` : ''}: ${e.issues
          .map((x) => `${x.field}: ${x.message}`)
          .join('; ')}`,
      );
    }
  });
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return out;
}

export function kindArg(name: string | undefined): Kind {
  if (!name) throw new UsageError(`missing kind (one of ${Object.keys(KINDS).join(', ')})`);
  const k = kindByName(name) ?? kindByName(name.replace(/s$/, ''));
  if (!k)
    throw new UsageError(`${JSON.stringify(name)} is not a kind (one of ${Object.keys(KINDS).join(', ')})`);
  return k;
}

/** `ippool/default`, `workloadendpoint/ns/name`: how results are named on the terminal. */
export function refOf(r: { kind: string; metadata: { name: string; namespace?: string } }): string {
  return `${r.kind.toLowerCase()}/${r.metadata.namespace ? `${r.metadata.namespace}/` : ''}${r.metadata.name}`;
}
