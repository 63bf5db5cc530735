import { KINDS } from '@tricolor/datastore';
import { parse, UsageError } from '../args.js';
import type { Ctx } from '../context.js';
import { CommandError, EXIT } from '../output.js';
import { kindArg, readDocuments, refOf, validateAll } from '../resources.js';

export const usage = 'delete <kind> <name> [-n namespace] | delete -f <file|->';

export async function del(ctx: Ctx): Promise<number> {
  const { values, positionals } = parse('delete', ctx.args, {
    namespace: { type: 'string', short: 'n' },
    filename: { type: 'string', short: 'f' },
  });
  let targets: { kind: keyof typeof KINDS; metadata: { name: string; namespace?: string } }[];
  if (values.filename) {
    if (positionals.length > 0) throw new UsageError('delete: give either -f or <kind> <name>, not both');
    targets = validateAll(values.filename, await readDocuments(ctx, values.filename));
  } else {
    const kind = kindArg(positionals[0]);
    const name = positionals[1];
    if (!name) throw new UsageError(`delete: missing the name of the ${kind}`);
    if (positionals.length > 2) throw new UsageError(`delete: unexpected argument ${positionals[2]}`);
    const namespace = KINDS[kind].namespaced ? (values.namespace ?? 'default') : undefined;
    if (!KINDS[kind].namespaced && values.namespace) throw new UsageError(`-n: ${kind} is not namespaced`);
    targets = [{ kind, metadata: { name, namespace } }];
  }
  const ds = await ctx.store();
  const missing: string[] = [];
  for (const t of targets) {
    const ref = refOf(t);
    if (await ds.delete(t.kind, t.metadata.name, t.metadata.namespace)) ctx.out(`${ref} deleted\n`);
    else missing.push(ref);
  }
  if (missing.length > 0)
    throw new CommandError(missing.map((m) => `${m} not found`).join('\n'), EXIT.NOT_FOUND);
  return 0;
}
