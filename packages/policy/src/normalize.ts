import {
  type EntityRule,
  type GlobalNetworkPolicy,
  type IcmpMatch,
  type NetworkPolicy,
  type PolicyType,
  type Port,
  parseSelector,
  protocolNumber,
  type Rule,
  type RuleAction,
  type SelectorNode,
} from '@tricolor/datastore';
import {
  NAME_LABEL,
  NAMESPACE_LABEL,
  NAMESPACE_LABEL_PREFIX,
  SERVICE_ACCOUNT_LABEL_PREFIX,
} from './labels.js';
import { andSelectors, canonicalize, prefixSelector, printSelector } from './selectors.js';

/** Names a policy: kind, namespace (NetworkPolicy only) and name. */
export interface PolicyRef {
  kind: 'NetworkPolicy' | 'GlobalNetworkPolicy';
  namespace?: string;
  name: string;
}

export const policyRefText = (r: PolicyRef): string =>
  r.kind === 'NetworkPolicy' ? `${r.namespace}/${r.name}` : `global/${r.name}`;

/**
 * One side (source or destination) of a rule with its namespace scope folded in: `selector` is
 * the one canonical selector over effective endpoint labels (the rule's selector, its
 * namespaceSelector rewritten to `pcns.` labels, the policy's namespace for a NetworkPolicy,
 * serviceAccounts as `pcsa.` labels); `notSelector` the canonical negated one.
 */
export interface NormalizedSide {
  nets?: string[];
  notNets?: string[];
  selector?: string;
  notSelector?: string;
  ports?: Port[];
  notPorts?: Port[];
}

export interface NormalizedRule {
  /** Position in the policy's (profile's) rule list for its direction. */
  index: number;
  action: RuleAction;
  /** Protocols as IANA numbers. */
  protocol?: number;
  notProtocol?: number;
  ipVersion?: 4 | 6;
  icmp?: IcmpMatch;
  notICMP?: IcmpMatch;
  source: NormalizedSide;
  destination: NormalizedSide;
}

export interface NormalizedPolicy {
  ref: PolicyRef;
  order?: number;
  /** Canonical selector of the endpoints it applies to, scope included. */
  selector: string;
  types: PolicyType[];
  ingress: NormalizedRule[];
  egress: NormalizedRule[];
}

const equals = (label: string, value: string): SelectorNode => ({ op: '==', label, value });

function normalizeSide(e: EntityRule, namespace: string | undefined): NormalizedSide {
  const parts: SelectorNode[] = [];
  if (e.selector !== undefined) parts.push(parseSelector(e.selector));
  if (e.namespaceSelector !== undefined)
    parts.push(prefixSelector(parseSelector(e.namespaceSelector), NAMESPACE_LABEL_PREFIX));
  else if (
    namespace !== undefined &&
    (e.selector !== undefined || e.notSelector !== undefined || e.serviceAccounts)
  )
    parts.push(equals(NAMESPACE_LABEL, namespace));
  if (e.serviceAccounts?.names)
    parts.push({
      op: 'in',
      label: SERVICE_ACCOUNT_LABEL_PREFIX + NAME_LABEL,
      values: e.serviceAccounts.names,
    });
  if (e.serviceAccounts?.selector !== undefined)
    parts.push(prefixSelector(parseSelector(e.serviceAccounts.selector), SERVICE_ACCOUNT_LABEL_PREFIX));
  const side: NormalizedSide = {};
  if (e.nets) side.nets = e.nets;
  if (e.notNets) side.notNets = e.notNets;
  if (parts.length > 0) side.selector = printSelector(andSelectors(parts));
  if (e.notSelector !== undefined)
    side.notSelector = printSelector(canonicalize(parseSelector(e.notSelector)));
  if (e.ports) side.ports = e.ports;
  if (e.notPorts) side.notPorts = e.notPorts;
  return side;
}

/** A rule with its sides normalized; `namespace` is the policy's for a NetworkPolicy, else undefined. */
export function normalizeRule(rule: Rule, index: number, namespace: string | undefined): NormalizedRule {
  const r: NormalizedRule = {
    index,
    action: rule.action,
    source: normalizeSide(rule.source, namespace),
    destination: normalizeSide(rule.destination, namespace),
  };
  if (rule.protocol !== undefined) r.protocol = protocolNumber(rule.protocol);
  if (rule.notProtocol !== undefined) r.notProtocol = protocolNumber(rule.notProtocol);
  if (rule.ipVersion !== undefined) r.ipVersion = rule.ipVersion;
  if (rule.icmp) r.icmp = rule.icmp;
  if (rule.notICMP) r.notICMP = rule.notICMP;
  return r;
}

/**
 * A validated policy in the form selection, ordering, felix's rule renderer and the evaluator
 * share: a NetworkPolicy applies to endpoints of its namespace only (its selector gets
 * `tricolor.dev/namespace == <ns>`); a GlobalNetworkPolicy to every namespace, narrowed by its
 * namespaceSelector; a serviceAccountSelector narrows both.
 */
export function normalizePolicy(p: NetworkPolicy | GlobalNetworkPolicy): NormalizedPolicy {
  const namespace = p.kind === 'NetworkPolicy' ? p.metadata.namespace : undefined;
  const parts: SelectorNode[] = [parseSelector(p.spec.selector)];
  if (namespace !== undefined) parts.push(equals(NAMESPACE_LABEL, namespace));
  if (p.kind === 'GlobalNetworkPolicy' && p.spec.namespaceSelector !== undefined)
    parts.push(prefixSelector(parseSelector(p.spec.namespaceSelector), NAMESPACE_LABEL_PREFIX));
  if (p.spec.serviceAccountSelector !== undefined)
    parts.push(prefixSelector(parseSelector(p.spec.serviceAccountSelector), SERVICE_ACCOUNT_LABEL_PREFIX));
  const ref: PolicyRef = { kind: p.kind, name: p.metadata.name };
  if (namespace !== undefined) ref.namespace = namespace;
  const out: NormalizedPolicy = {
    ref,
    selector: printSelector(andSelectors(parts)),
    types: [...p.spec.types],
    ingress: p.spec.ingress.map((r, i) => normalizeRule(r, i, namespace)),
    egress: p.spec.egress.map((r, i) => normalizeRule(r, i, namespace)),
  };
  if (p.spec.order !== undefined) out.order = p.spec.order;
  return out;
}
