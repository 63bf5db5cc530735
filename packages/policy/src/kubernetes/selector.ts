import { ORCHESTRATOR_LABEL } from '../labels.js';
import type { LabelSelector } from './types.js';

/**
 * A Kubernetes label selector as a Tricolor (Calico) selector, as Calico converts it: a pod
 * selector always starts with `tricolor.dev/orchestrator == 'k8s'` (only Kubernetes pods), then
 * matchLabels sorted by key, then matchExpressions in order (`in { }`, `not in { }`, `has()`,
 * `! has()`); an absent namespace selector is "" (none), an empty one `all()`.
 */
export function labelSelectorToSelector(s: LabelSelector | undefined, kind: 'pod' | 'namespace'): string {
  const terms: string[] = kind === 'pod' ? [`${ORCHESTRATOR_LABEL} == 'k8s'`] : [];
  if (s === undefined) return terms.join(' && ');
  const labels = Object.keys(s.matchLabels ?? {}).sort();
  const exprs = s.matchExpressions ?? [];
  if (kind === 'namespace' && labels.length === 0 && exprs.length === 0) return 'all()';
  for (const k of labels) terms.push(`${k} == '${s.matchLabels![k]}'`);
  for (const e of exprs) {
    const values = (e.values ?? []).join("', '");
    switch (e.operator) {
      case 'In':
        terms.push(`${e.key} in { '${values}' }`);
        break;
      case 'NotIn':
        terms.push(`${e.key} not in { '${values}' }`);
        break;
      case 'Exists':
        terms.push(`has(${e.key})`);
        break;
      case 'DoesNotExist':
        terms.push(`! has(${e.key})`);
        break;
    }
  }
  return terms.join(' && ');
}
