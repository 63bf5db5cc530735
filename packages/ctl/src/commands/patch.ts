import { parse as parseYaml } from 'yaml';
import { atMostPositionals, parse, UsageError } from '../args.js';
import type { Ctx } from '../context.js';
import { kindArg } from '../kinds.js';
import { mergePatch } from '../merge-patch.js';
import { modify } from '../modify.js';
import { EXIT } from '../output.js';
import { NAMESPACE_OPTIONS, namespaceOf } from './get.js';

const OPTIONS = {
  patch: { type: 'string', short: 'p' },
  type: { type: 'string' },
  namespace: NAMESPACE_OPTIONS.namespace,
} as const;

/** The identity of a resource: a patch may not change it. */
const FIXED = [
  ['kind', (r: Record<string, unknown>) => r.kind],
  ['apiVersion', (r: Record<string, unknown>) => r.apiVersion],
  [
    'metadata.name',
    (r: Record<string, unknown>) => (r.metadata as Record<string, unknown> | undefined)?.name,
  ],
  [
    'metadata.namespace',
    (r: Record<string, unknown>) => (r.metadata as Record<string, unknown> | undefined)?.namespace,
  ],
] as const;

async function patch(ctx: Ctx): Promise<number> {
  const { values, positionals } = parse('patch', ctx.args, OPTIONS);
  const kind = kindArg(positionals[0]);
  const name = positionals[1];
  if (!name) throw new UsageError(`patch: missing the name of the ${kind}`);
  atMostPositionals('patch', positionals, 2);
  if (values.patch === undefined) throw new UsageError("patch: -p '<merge patch>' is required");
  if (values.type !== undefined && values.type !== 'merge')
    throw new UsageError(
      `--type: ${JSON.stringify(values.type)} is not supported (merge: RFC 7386 JSON merge patch)`,
    );
  let body: unknown;
  try {
    body = parseYaml(values.patch); // YAML reads JSON too, as kubectl's -p does
  } catch (e) {
    throw new UsageError(`-p: not JSON or YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new UsageError('-p: a merge patch is an object, e.g. \'{"spec":{"disabled":true}}\'');
  const namespace = namespaceOf('patch', kind, values, { allowAll: false });
  const ref = `${kind.toLowerCase()}/${namespace ? `${namespace}/` : ''}${name}`;
  const ds = await ctx.store();
  const { written } = await modify(ds, ref, { kind, name, namespace }, (cur) => {
    const next = mergePatch(cur, body) as Record<string, unknown>;
    for (const [field, get] of FIXED) {
      if (get(next) !== get(cur as unknown as Record<string, unknown>))
        throw new UsageError(`-p: ${field}: a patch cannot change it (${JSON.stringify(get(cur as never))})`);
    }
    return next;
  });
  ctx.out(`${ref} patched${written ? '' : ' (no change)'}\n`);
  return EXIT.OK;
}

export const patchCommand = {
  usage: [`patch <kind> <name> -p '{"spec":{...}}' [-n namespace] [--type merge]   RFC 7386, re-validated`],
  options: OPTIONS,
  run: patch,
};
