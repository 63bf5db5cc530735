import { Fields } from './fields.js';
import { checkEnvelope, compact, type Resource } from './resource.js';
import { type Rule, rules, selectorField } from './rule.js';

export const POLICY_TYPES = ['Ingress', 'Egress'] as const;
export type PolicyType = (typeof POLICY_TYPES)[number];

export interface PolicySpec {
  /** Lower orders apply first; policies without order apply after every policy with one. */
  order?: number;
  /** Which endpoints the policy applies to; `all()` when absent. */
  selector: string;
  /** Which directions the policy applies to (defaulted from its rules, as Calico does). */
  types: PolicyType[];
  ingress: Rule[];
  egress: Rule[];
  /** GlobalNetworkPolicy only: the namespaces (by their labels) whose endpoints it applies to. */
  namespaceSelector?: string;
  /** Only endpoints whose service account's labels match (Calico's serviceAccountSelector). */
  serviceAccountSelector?: string;
}
export type NetworkPolicy = Resource<'NetworkPolicy', PolicySpec>;
export type GlobalNetworkPolicy = Resource<'GlobalNetworkPolicy', PolicySpec>;

/**
 * Calico's default for a policy without `types`: both directions if it has ingress and egress
 * rules, Egress if it has egress rules only, Ingress otherwise. (Kubernetes' own default —
 * Ingress always — applies to Kubernetes NetworkPolicies before they are converted.)
 */
export function defaultPolicyTypes(ingress: readonly unknown[], egress: readonly unknown[]): PolicyType[] {
  if (ingress.length > 0 && egress.length > 0) return ['Ingress', 'Egress'];
  return egress.length > 0 ? ['Egress'] : ['Ingress'];
}

function validatePolicy<K extends 'NetworkPolicy' | 'GlobalNetworkPolicy'>(
  kind: K,
  raw: unknown,
): Resource<K, PolicySpec> {
  const f = new Fields(kind, raw);
  const metadata = checkEnvelope(f, kind, kind === 'NetworkPolicy');
  f.object('spec');
  const ingress = rules(f, 'spec.ingress');
  const egress = rules(f, 'spec.egress');
  const declared = f.stringList('spec.types', (t) =>
    (POLICY_TYPES as readonly string[]).includes(t) ? undefined : 'is not Ingress or Egress',
  );
  if (declared && new Set(declared).size !== declared.length) f.fail('spec.types', 'lists a type twice');
  const order = f.get('spec.order');
  if (order !== undefined && order !== null && (typeof order !== 'number' || !Number.isFinite(order)))
    f.fail('spec.order', `${JSON.stringify(order)} is not a number`);
  const spec = compact<PolicySpec>({
    order: typeof order === 'number' ? order : undefined,
    selector: selectorField(f, 'spec.selector') ?? 'all()',
    types: (declared as PolicyType[] | undefined) ?? defaultPolicyTypes(ingress, egress),
    ingress,
    egress,
    namespaceSelector:
      kind === 'GlobalNetworkPolicy' ? selectorField(f, 'spec.namespaceSelector') : undefined,
    serviceAccountSelector: selectorField(f, 'spec.serviceAccountSelector'),
  });
  f.done();
  return { kind, apiVersion: 'tricolor.dev/v1', metadata, spec };
}

export const validateNetworkPolicy = (raw: unknown): NetworkPolicy => validatePolicy('NetworkPolicy', raw);
export const validateGlobalNetworkPolicy = (raw: unknown): GlobalNetworkPolicy =>
  validatePolicy('GlobalNetworkPolicy', raw);
