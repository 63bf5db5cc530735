import {
  type EntityRule,
  type NetworkPolicy,
  type Port,
  type Rule,
  validateNetworkPolicy,
} from '@tricolor/datastore';
import { labelSelectorToSelector } from './selector.js';
import type { KubernetesNetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from './types.js';
import { validateKubernetesNetworkPolicy } from './validate.js';

/** The Tricolor name of a converted Kubernetes NetworkPolicy, as Calico names it. */
export const kubernetesPolicyName = (name: string): string => `knp.default.${name}`;
/** Kubernetes NetworkPolicies all sit at this order among Tricolor policies, as in Calico. */
export const KUBERNETES_POLICY_ORDER = 1000;

/** Merges numeric ports into the fewest inclusive ranges; named ports pass through first (Calico's SimplifyPorts). */
export function simplifyPorts(ports: readonly Port[]): Port[] {
  if (ports.length <= 1) return [...ports];
  const named = ports.filter((p): p is string => typeof p === 'string' && !/^\d/.test(p));
  const numeric: number[] = [];
  for (const p of ports) {
    if (typeof p === 'number') numeric.push(p);
    else if (/^\d/.test(p)) {
      const [a, b] = p.split(':').map(Number) as [number, number];
      for (let i = a; i <= (b ?? a); i++) numeric.push(i);
    }
  }
  if (numeric.length <= 1) return [...ports];
  numeric.sort((a, b) => a - b);
  const out: Port[] = [...named];
  for (let i = 0; i < numeric.length; ) {
    const first = numeric[i]!;
    let last = first;
    while (i + 1 < numeric.length && numeric[i + 1]! <= last + 1) last = numeric[++i]!;
    i++;
    out.push(first === last ? first : `${first}:${last}`);
  }
  return out;
}

function peerFields(peer: NetworkPolicyPeer | undefined): EntityRule {
  if (!peer) return {};
  if (peer.ipBlock) {
    const e: EntityRule = { nets: [peer.ipBlock.cidr] };
    if (peer.ipBlock.except?.length) e.notNets = [...peer.ipBlock.except];
    return e;
  }
  const e: EntityRule = { selector: labelSelectorToSelector(peer.podSelector, 'pod') };
  const ns = labelSelectorToSelector(peer.namespaceSelector, 'namespace');
  if (ns !== '') e.namespaceSelector = ns;
  return e;
}

/**
 * One Kubernetes rule as Tricolor Allow rules, as Calico converts it: one rule per protocol
 * (sorted; none = every protocol) and per peer, each protocol's ports merged into ranges.
 */
function convertRule(
  peers: NetworkPolicyPeer[] | undefined,
  ports: NetworkPolicyPort[] | undefined,
  ingress: boolean,
): Rule[] {
  const protocolPorts = new Map<string, Port[] | undefined>();
  if (!ports || ports.length === 0) protocolPorts.set('', undefined);
  else {
    for (const p of ports) {
      const protocol = p.protocol ?? 'TCP';
      const calicoPorts: Port[] | undefined =
        p.port === undefined ? undefined : [p.endPort !== undefined ? `${p.port}:${p.endPort}` : p.port];
      if (calicoPorts === undefined) protocolPorts.set(protocol, undefined);
      else if (!protocolPorts.has(protocol) || protocolPorts.get(protocol) !== undefined)
        protocolPorts.set(protocol, [...(protocolPorts.get(protocol) ?? []), ...calicoPorts]);
    }
  }
  const peerList: (NetworkPolicyPeer | undefined)[] = peers && peers.length > 0 ? peers : [undefined];
  const rules: Rule[] = [];
  for (const protocol of [...protocolPorts.keys()].sort()) {
    const p = protocolPorts.get(protocol);
    const simplified = p === undefined ? undefined : simplifyPorts(p);
    for (const peer of peerList) {
      const peerSide = peerFields(peer);
      const portSide: EntityRule = simplified ? { ports: simplified } : {};
      const rule: Rule = {
        action: 'Allow',
        source: ingress ? peerSide : {},
        destination: ingress ? portSide : { ...portSide, ...peerSide },
      };
      if (protocol !== '') rule.protocol = protocol as Rule['protocol'];
      rules.push(rule);
    }
  }
  return rules;
}

/**
 * A Kubernetes NetworkPolicy (validated here, strictly) as the Tricolor NetworkPolicy
 * `knp.default.<name>` in the same namespace — the one conversion the conformance runner, the
 * Kubernetes sync and `tricolorctl apply` share. Semantics as Calico's converter: order 1000;
 * selector `tricolor.dev/orchestrator == 'k8s'` and the podSelector (the namespace scope comes
 * with a namespaced policy); types from policyTypes, which default as the API server defaults
 * them (Ingress, plus Egress when there are egress rules).
 */
export function convertKubernetesNetworkPolicy(raw: unknown): NetworkPolicy {
  const np: KubernetesNetworkPolicy = validateKubernetesNetworkPolicy(raw);
  const ingress = (np.spec.ingress ?? []).flatMap((r) => convertRule(r.from, r.ports, true));
  const egress = (np.spec.egress ?? []).flatMap((r) => convertRule(r.to, r.ports, false));
  // The API server defaults an absent or empty policyTypes.
  const declared = np.spec.policyTypes?.length
    ? np.spec.policyTypes
    : ['Ingress', ...((np.spec.egress?.length ?? 0) > 0 ? ['Egress' as const] : [])];
  const types = (['Ingress', 'Egress'] as const).filter((t) => declared.includes(t));
  return validateNetworkPolicy({
    kind: 'NetworkPolicy',
    apiVersion: 'tricolor.dev/v1',
    metadata: { name: kubernetesPolicyName(np.metadata.name), namespace: np.metadata.namespace },
    spec: {
      order: KUBERNETES_POLICY_ORDER,
      selector: labelSelectorToSelector(np.spec.podSelector, 'pod'),
      types: types.length > 0 ? types : ['Ingress'],
      ingress,
      egress,
    },
  });
}
