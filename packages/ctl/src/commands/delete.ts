import type { Kind } from '@tricolor/datastore';
import { parse, UsageError } from '../args.js';
import type { Ctx } from '../context.js';
import { kindArg, refOf } from '../kinds.js';
import { CommandError, EXIT } from '../output.js';
import { readResources } from '../resources.js';
import { INPUT_OPTIONS, inputLimits } from './apply.js';
import { NAMESPACE_OPTIONS, namespaceOf } from './get.js';

const OPTIONS = {
  ...INPUT_OPTIONS,
  namespace: NAMESPACE_OPTIONS.namespace,
  'skip-not-exists': { type: 'boolean' },
} as const;

async function del(ctx: Ctx): Promise<number> {
  const { values, positionals } = parse('delete', ctx.args, OPTIONS);
  let targets: { kind: Kind; metadata: { name: string; namespace?: string } }[];
  if (values.filename) {
    if (positionals.length > 0) throw new UsageError('delete: give either -f or <kind> <name>, not both');
    const { limits, maxErrors } = inputLimits(values);
    targets = await readResources(ctx, values.filename, limits, maxErrors);
  } else {
    const kind = kindArg(positionals[0]);
    const names = positionals.slice(1);
    if (names.length === 0) throw new UsageError(`delete: missing the name of the ${kind}`);
    const namespace = namespaceOf('delete', kind, values, { allowAll: false });
    targets = names.map((name) => ({ kind, metadata: { name, namespace } }));
  }
  const ds = await ctx.store();
  const missing: string[] = [];
  for (const t of targets) {
    const ref = refOf(t);
    if (await ds.delete(t.kind, t.metadata.name, t.metadata.namespace)) ctx.out(`${ref} deleted\n`);
    else missing.push(ref);
  }
  if (missing.length > 0 && !values['skip-not-exists'])
    throw new CommandError(missing.map((m) => `${m} not found`).join('\n'), EXIT.NOT_FOUND);
  return EXIT.OK;
}

export const deleteCommand = {
  usage: [
    'delete <kind> <name>... [-n namespace] [--skip-not-exists] | delete -f <file|-> [limits as apply]',
  ],
  options: OPTIONS,
  run: del,
};
