import { type AnyResource, KINDS, type Kind } from '@tricolor/datastore';
import { OUTPUT_OPTION, outputFlag, parse, UsageError } from '../args.js';
import type { Ctx } from '../context.js';
import { COLUMNS, type ColumnContext, isNamespaced, kindArg } from '../kinds.js';
import { CommandError, EXIT, render, table } from '../output.js';

/** `-n NAMESPACE` / `-A`, for namespaced kinds (as kubectl and calicoctl). */
export const NAMESPACE_OPTIONS = {
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
} as const;

export const DEFAULT_NAMESPACE = 'default';

/** The namespace a command works in: -n, else `default`; undefined for -A or cluster-scoped kinds. */
export function namespaceOf(
  command: string,
  kind: Kind,
  values: { namespace?: string; 'all-namespaces'?: boolean },
  opts: { allowAll: boolean },
): string | undefined {
  if (values.namespace !== undefined && values['all-namespaces'])
    throw new UsageError(`${command}: give -n NAMESPACE or -A, not both`);
  if (!isNamespaced(kind)) {
    if (values.namespace !== undefined) throw new UsageError(`-n: ${kind} is not namespaced`);
    return undefined;
  }
  if (values['all-namespaces']) {
    if (!opts.allowAll) throw new UsageError(`${command}: -A needs a list, not names`);
    return undefined;
  }
  return values.namespace ?? DEFAULT_NAMESPACE;
}

const OPTIONS = { ...NAMESPACE_OPTIONS, ...OUTPUT_OPTION } as const;

async function get(ctx: Ctx): Promise<number> {
  const { values, positionals } = parse('get', ctx.args, OPTIONS);
  const format = outputFlag(values.output);
  const kind = kindArg(positionals[0]);
  const names = positionals.slice(1);
  const namespace = namespaceOf('get', kind, values, { allowAll: names.length === 0 });
  const allNamespaces = isNamespaced(kind) && namespace === undefined;
  const ds = await ctx.store();
  let items: AnyResource[];
  const missing: string[] = [];
  if (names.length > 0) {
    const found = await Promise.all(names.map((n) => ds.get(kind, n, namespace)));
    items = found.filter((r): r is AnyResource => r !== undefined);
    names.forEach((n, i) => {
      if (!found[i]) missing.push(`${kind.toLowerCase()}/${namespace ? `${namespace}/` : ''}${n} not found`);
    });
  } else {
    items = (await ds.list(kind, namespace)).items;
  }
  const columnCtx: ColumnContext = {};
  if (format === 'wide' && kind === 'Node')
    columnCtx.clusterAs = (await ds.get('BGPConfiguration', 'default'))?.spec.asNumber ?? 64512;
  const data =
    names.length === 1 && items.length === 1
      ? items[0]
      : { apiVersion: 'tricolor.dev/v1', kind: 'List', items };
  if (items.length > 0 || format === 'json' || format === 'yaml') {
    ctx.out(
      render(format, data, (wide) => {
        const cols = COLUMNS[kind][wide ? 1 : 0];
        const headers = [...(allNamespaces ? ['NAMESPACE'] : []), ...cols.map((c) => c[0])];
        const rows = items.map((r) => [
          ...(allNamespaces ? [r.metadata.namespace] : []),
          ...cols.map((c) => {
            const v = c[1](r, columnCtx);
            return v === undefined || v === null ? '' : String(v);
          }),
        ]);
        return table(headers, rows);
      }),
    );
  } else if (missing.length === 0) {
    ctx.err(
      `no ${KINDS[kind].plural} found${namespace ? ` in namespace ${namespace}` : ''}${allNamespaces ? ' in any namespace' : ''}\n`,
    );
  }
  if (missing.length > 0) throw new CommandError(missing.join('\n'), EXIT.NOT_FOUND);
  return EXIT.OK;
}

export const getCommand = {
  usage: ['get <kind> [name...] [-n namespace | -A] [-o table|wide|json|yaml]'],
  options: OPTIONS,
  run: get,
};
