import {
  cidrContains,
  DNS_SUBDOMAIN,
  Fields,
  KUBERNETES_METADATA,
  LABEL_KEY,
  PORT_NAME,
  parseCidr,
  show,
} from '@tricolor/datastore';
import {
  type IPBlock,
  KUBERNETES_NETWORK_POLICY_API_VERSION,
  type KubernetesNetworkPolicy,
  type LabelSelector,
  type LabelSelectorRequirement,
  type NetworkPolicyPeer,
  type NetworkPolicyPort,
} from './types.js';

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;
const POLICY_TYPES = ['Ingress', 'Egress'] as const;

/** Kubernetes metadata an object from an API server carries: known, not checked. */
const TOLERATED_METADATA = [
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'annotations',
  ...KUBERNETES_METADATA,
];

function labelSelector(f: Fields, path: string): LabelSelector | undefined {
  if (!f.object(path)) return undefined;
  const out: LabelSelector = {};
  const matchLabels = f.stringMap(`${path}.matchLabels`);
  if (matchLabels) out.matchLabels = { ...matchLabels };
  const exprs = f.objectList(`${path}.matchExpressions`, (at): LabelSelectorRequirement => {
    const key = f.string(`${at}.key`, { required: true }) ?? '';
    if (key && !validLabelKey(key)) f.fail(`${at}.key`, `${show(key)} is not a valid label key`);
    const operator = (f.string(`${at}.operator`, { required: true, oneOf: OPERATORS }) ??
      'Exists') as LabelSelectorRequirement['operator'];
    const values = f.stringList(`${at}.values`);
    const needsValues = operator === 'In' || operator === 'NotIn';
    if (needsValues && (!values || values.length === 0))
      f.fail(`${at}.values`, `must be non-empty when operator is ${operator}`);
    if (!needsValues && values && values.length > 0)
      f.fail(`${at}.values`, `must be empty when operator is ${operator}`);
    const r: LabelSelectorRequirement = { key, operator };
    if (needsValues && values) r.values = values;
    return r;
  });
  if (exprs) out.matchExpressions = exprs;
  return out;
}

const validLabelKey = (k: string) => LABEL_KEY.test(k);

function ipBlock(f: Fields, path: string): IPBlock | undefined {
  if (!f.object(path)) return undefined;
  const cidr = f.cidr(`${path}.cidr`, { required: true });
  const block: IPBlock = { cidr: cidr ?? '' };
  const except = f.array(`${path}.except`);
  if (except) {
    block.except = except.map((_, i) => {
      const at = `${path}.except[${i}]`;
      const e = f.cidr(at);
      const outer = cidr ? parseCidr(cidr) : undefined;
      const inner = e ? parseCidr(e) : undefined;
      if (outer && inner && !(cidrContains(outer, inner) && inner.prefixLength > outer.prefixLength))
        f.fail(at, `${show(e)} must be a strict subset of cidr ${cidr}`);
      return e ?? '';
    });
  }
  return block;
}

function peers(f: Fields, path: string): NetworkPolicyPeer[] | undefined {
  return f.objectList(path, (at) => {
    const peer: NetworkPolicyPeer = {};
    const podSelector = labelSelector(f, `${at}.podSelector`);
    const namespaceSelector = labelSelector(f, `${at}.namespaceSelector`);
    const block = ipBlock(f, `${at}.ipBlock`);
    if (podSelector) peer.podSelector = podSelector;
    if (namespaceSelector) peer.namespaceSelector = namespaceSelector;
    if (block) peer.ipBlock = block;
    if (block && (podSelector || namespaceSelector))
      f.fail(`${at}.ipBlock`, 'cannot be given together with podSelector or namespaceSelector');
    if (!block && !podSelector && !namespaceSelector)
      f.fail(at, 'must give podSelector, namespaceSelector or ipBlock');
    return peer;
  });
}

function ports(f: Fields, path: string): NetworkPolicyPort[] | undefined {
  return f.objectList(path, (at) => {
    const p: NetworkPolicyPort = {};
    const protocol = f.string(`${at}.protocol`, { oneOf: PROTOCOLS });
    if (protocol) p.protocol = protocol as NetworkPolicyPort['protocol'];
    const port = f.get(`${at}.port`);
    if (typeof port === 'number') {
      if (!Number.isInteger(port) || port < 1 || port > 65535)
        f.fail(`${at}.port`, `${port} is not a port (1-65535)`);
      else p.port = port;
    } else if (typeof port === 'string') {
      if (!PORT_NAME.test(port))
        f.fail(
          `${at}.port`,
          `${show(port)} is not a port number or name (1-15 lower-case letters, digits and "-")`,
        );
      else p.port = port;
    } else if (port !== undefined && port !== null) f.fail(`${at}.port`, `${show(port)} is not a port`);
    const endPort = f.integer(`${at}.endPort`, { min: 1, max: 65535 });
    if (endPort !== undefined) {
      if (typeof p.port !== 'number') f.fail(`${at}.endPort`, 'needs a numeric port');
      else if (endPort < p.port) f.fail(`${at}.endPort`, `${endPort} is below port ${p.port}`);
      else p.endPort = endPort;
    }
    return p;
  });
}

/** The ingress (peers under `from`) or egress (`to`) rules at `path`. */
function directionRules<P extends 'from' | 'to'>(
  f: Fields,
  path: string,
  peersKey: P,
): ({ [K in P]?: NetworkPolicyPeer[] } & { ports?: NetworkPolicyPort[] })[] | undefined {
  return f.objectList(path, (at) => {
    const peerList = peers(f, `${at}.${peersKey}`);
    const p = ports(f, `${at}.ports`);
    return { ...(peerList ? { [peersKey]: peerList } : {}), ...(p ? { ports: p } : {}) } as {
      [K in P]?: NetworkPolicyPeer[];
    } & { ports?: NetworkPolicyPort[] };
  });
}

/**
 * Checks a Kubernetes NetworkPolicy as the API server would, strictly: an unknown field of the
 * object or its spec is an error naming it; metadata bookkeeping and status are tolerated.
 * Throws ValidationError (kind "NetworkPolicy (networking.k8s.io/v1)") listing every problem.
 */
export function validateKubernetesNetworkPolicy(raw: unknown): KubernetesNetworkPolicy {
  const f = new Fields('NetworkPolicy (networking.k8s.io/v1)', raw);
  // Items of a Kubernetes list (what an informer hands over) carry no apiVersion and kind.
  const apiVersion = f.get('apiVersion');
  if (apiVersion !== undefined && apiVersion !== KUBERNETES_NETWORK_POLICY_API_VERSION)
    f.fail('apiVersion', `must be ${KUBERNETES_NETWORK_POLICY_API_VERSION}`);
  const kind = f.get('kind');
  if (kind !== undefined && kind !== 'NetworkPolicy') f.fail('kind', 'must be "NetworkPolicy"');
  f.object('metadata', true);
  const name =
    f.string('metadata.name', {
      required: true,
      max: 253 - 'knp.default.'.length,
      pattern: DNS_SUBDOMAIN,
      patternText: 'a valid name (lower-case letters, digits, "-" and ".")',
    }) ?? '';
  const namespace =
    f.string('metadata.namespace', {
      required: true,
      max: 63,
      pattern: DNS_SUBDOMAIN,
      patternText: 'a valid namespace',
    }) ?? '';
  const labels = f.stringMap('metadata.labels');
  const uid = f.string('metadata.uid');
  for (const key of TOLERATED_METADATA) f.opaque(`metadata.${key}`);
  f.opaque('status');
  f.object('spec', true);
  const podSelector = labelSelector(f, 'spec.podSelector');
  if (!podSelector && f.get('spec') !== undefined)
    f.fail('spec.podSelector', 'is required ({} selects every pod of the namespace)');
  const ingress = directionRules(f, 'spec.ingress', 'from');
  const egress = directionRules(f, 'spec.egress', 'to');
  const policyTypes = f.stringList('spec.policyTypes', (t) =>
    (POLICY_TYPES as readonly string[]).includes(t) ? undefined : 'is not Ingress or Egress',
  );
  if (policyTypes && new Set(policyTypes).size !== policyTypes.length)
    f.fail('spec.policyTypes', 'lists a type twice');
  f.done();
  const np: KubernetesNetworkPolicy = {
    apiVersion: KUBERNETES_NETWORK_POLICY_API_VERSION,
    kind: 'NetworkPolicy',
    metadata: { name, namespace },
    spec: { podSelector: podSelector ?? {} },
  };
  if (labels) np.metadata.labels = { ...labels };
  if (uid) np.metadata.uid = uid;
  if (ingress) np.spec.ingress = ingress;
  if (egress) np.spec.egress = egress;
  if (policyTypes) np.spec.policyTypes = policyTypes as ('Ingress' | 'Egress')[];
  return np;
}
