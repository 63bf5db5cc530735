import type { IPPool } from '@tricolor/datastore';
import { checkPoolOverlap } from '@tricolor/ipam';
import { parse, UsageError } from '../args.js';
import type { Ctx } from '../context.js';
import { readDocuments, refOf, validateAll } from '../resources.js';

export const usage = 'apply -f <file.yaml|file.json|->   create or update resources (multi-document YAML)';

export async function apply(ctx: Ctx): Promise<number> {
  const { values, positionals } = parse('apply', ctx.args, { filename: { type: 'string', short: 'f' } });
  if (!values.filename) throw new UsageError('apply: -f <file> is required');
  if (positionals.length > 0) throw new UsageError(`apply: unexpected argument ${positionals[0]}`);
  const resources = validateAll(values.filename, await readDocuments(ctx, values.filename));
  const ds = await ctx.store();
  // Every pool in the batch must fit with the stored pools and with the others in the batch.
  const pools = resources.filter((r): r is IPPool => r.kind === 'IPPool');
  if (pools.length > 0) {
    const known: IPPool[] = (await ds.list('IPPool')).items;
    for (const p of pools) {
      const problem = checkPoolOverlap(known, p);
      if (problem) throw new UsageError(problem);
      known.splice(0, known.length, ...known.filter((k) => k.metadata.name !== p.metadata.name), p);
    }
  }
  for (const r of resources) {
    const existed = (await ds.get(r.kind, r.metadata.name, r.metadata.namespace)) !== undefined;
    await ds.apply(r);
    ctx.out(`${refOf(r)} ${existed ? 'configured' : 'created'}\n`);
  }
  return 0;
}
