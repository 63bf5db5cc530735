import { namespaceProfileName } from '@tricolor/datastore';
import { parse, UsageError } from '../args.js';
import type { Ctx } from '../context.js';
import { kindArg } from '../kinds.js';
import { applyLabelChanges, parseLabelChanges } from '../labels.js';
import { modify } from '../modify.js';
import { EXIT } from '../output.js';
import { NAMESPACE_OPTIONS, namespaceOf } from './get.js';

const OPTIONS = {
  overwrite: { type: 'boolean' },
  remove: { type: 'string', multiple: true },
  namespace: NAMESPACE_OPTIONS.namespace,
} as const;

const NAMESPACE_WORDS = new Set(['namespace', 'namespaces', 'ns']);

/**
 * `label <kind> <name> k=v… | k-…`: metadata.labels of the resource, compare-and-swap.
 * `label namespace <ns> …` labels the namespace as selectors see it: the labelsToApply of
 * its Profile `kns.<ns>` (the CNI plugin names that profile on every endpoint of the
 * namespace). A missing profile is made as Calico's are: allow in and out.
 */
async function label(ctx: Ctx): Promise<number> {
  const { values, positionals } = parse('label', ctx.args, OPTIONS);
  const [kindWord, name, ...rest] = positionals;
  if (!kindWord) throw new UsageError('label: missing kind');
  if (!name) throw new UsageError(`label: missing the name of the ${kindWord}`);
  const changes = parseLabelChanges(rest, values.remove);
  const overwrite = values.overwrite === true;
  const ds = await ctx.store();
  const notFound: string[] = [];
  const change = (cur: Record<string, string>) => {
    const r = applyLabelChanges(cur, changes, overwrite);
    notFound.push(...r.notFound);
    return r;
  };
  let ref: string;
  let written: boolean;
  if (NAMESPACE_WORDS.has(kindWord.toLowerCase())) {
    if (values.namespace !== undefined) throw new UsageError('-n: a namespace is not namespaced');
    const profile = namespaceProfileName(name);
    ref = `namespace/${name} (profile/${profile})`;
    ({ written } = await modify(
      ds,
      ref,
      { kind: 'Profile', name: profile },
      (cur) => {
        const r = change((cur.spec as { labelsToApply: Record<string, string> }).labelsToApply);
        return r.changed ? { ...cur, spec: { ...cur.spec, labelsToApply: r.labels } } : undefined;
      },
      () => {
        const r = change({});
        if (!r.changed) return undefined;
        return {
          kind: 'Profile',
          apiVersion: 'tricolor.dev/v1',
          metadata: { name: profile },
          // As Calico's namespace profiles: allow, so labelling a namespace changes no verdict.
          spec: { labelsToApply: r.labels, ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] },
        };
      },
    ));
  } else {
    const kind = kindArg(kindWord);
    const namespace = namespaceOf('label', kind, values, { allowAll: false });
    ref = `${kind.toLowerCase()}/${namespace ? `${namespace}/` : ''}${name}`;
    ({ written } = await modify(ds, ref, { kind, name, namespace }, (cur) => {
      const r = change(cur.metadata.labels ?? {});
      return r.changed ? { ...cur, metadata: { ...cur.metadata, labels: r.labels } } : undefined;
    }));
  }
  for (const k of new Set(notFound)) ctx.err(`label "${k}" not found\n`);
  const removedOnly = changes.every((c) => 'remove' in c);
  ctx.out(`${ref} ${written ? (removedOnly ? 'unlabeled' : 'labeled') : 'not labeled'}\n`);
  return EXIT.OK;
}

export const labelCommand = {
  usage: ['label <kind|namespace> <name> key=value... | key-... [--overwrite] [--remove key] [-n namespace]'],
  options: OPTIONS,
  run: label,
};
