import { selectorProblem } from '../selector.js';
import { Fields } from './fields.js';
import { checkEnvelope, compact, type Resource } from './resource.js';

export const RULE_ACTIONS = ['Allow', 'Deny', 'Log', 'Pass'] as const;
export const PROTOCOLS = ['TCP', 'UDP', 'ICMP', 'ICMPv6', 'SCTP', 'UDPLite'] as const;
export const POLICY_TYPES = ['Ingress', 'Egress'] as const;

export interface EntityRule {
  nets?: string[];
  notNets?: string[];
  selector?: string;
  notSelector?: string;
  namespaceSelector?: string;
  /** Ports or ranges: 80, "8080:8090". */
  ports?: (number | string)[];
  notPorts?: (number | string)[];
}

export interface Rule {
  action: (typeof RULE_ACTIONS)[number];
  protocol?: string;
  notProtocol?: string;
  ipVersion?: 4 | 6;
  source: EntityRule;
  destination: EntityRule;
}

export interface PolicySpec {
  /** Lower orders apply first; policies without order apply last. */
  order?: number;
  selector: string;
  types: (typeof POLICY_TYPES)[number][];
  ingress: Rule[];
  egress: Rule[];
  /** GlobalNetworkPolicy only: which namespaces' endpoints it applies to. */
  namespaceSelector?: string;
}
export type NetworkPolicy = Resource<'NetworkPolicy', PolicySpec>;
export type GlobalNetworkPolicy = Resource<'GlobalNetworkPolicy', PolicySpec>;

function selectorField(f: Fields, path: string): string | undefined {
  const s = f.string(path);
  if (s === undefined) return undefined;
  const problem = selectorProblem(s);
  return problem ? f.fail(path, `${JSON.stringify(s)} ${problem}`) : s;
}

function portList(f: Fields, path: string): (number | string)[] | undefined {
  const list = f.array(path);
  if (!list) return undefined;
  list.forEach((p, i) => {
    const at = `${path}[${i}]`;
    if (typeof p === 'number') {
      if (!Number.isInteger(p) || p < 0 || p > 65535) f.fail(at, `${p} is not a port (0-65535)`);
    } else if (typeof p === 'string') {
      const m = /^(\d{1,5}):(\d{1,5})$/.exec(p);
      if (!m || Number(m[1]) > Number(m[2]) || Number(m[2]) > 65535)
        f.fail(at, `${JSON.stringify(p)} is not a port range like "8080:8090"`);
    } else {
      f.fail(at, `${JSON.stringify(p)} is not a port`);
    }
  });
  return list as (number | string)[];
}

function entity(f: Fields, path: string): EntityRule {
  const nets = (p: string) => {
    const list = f.stringList(p);
    return list?.map((_, i) => f.cidr(`${p}[${i}]`) ?? '');
  };
  return compact<EntityRule>({
    nets: nets(`${path}.nets`),
    notNets: nets(`${path}.notNets`),
    selector: selectorField(f, `${path}.selector`),
    notSelector: selectorField(f, `${path}.notSelector`),
    namespaceSelector: selectorField(f, `${path}.namespaceSelector`),
    ports: portList(f, `${path}.ports`),
    notPorts: portList(f, `${path}.notPorts`),
  });
}

function ipVersion(f: Fields, path: string): 4 | 6 | undefined {
  const v = f.integer(path);
  if (v === undefined || v === 4 || v === 6) return v;
  return f.fail(path, `${v} is not 4 or 6`);
}

/** The rule list at `path` (a policy's or a profile's ingress/egress), validated. */
export function rules(f: Fields, path: string): Rule[] {
  const list = f.array(path) ?? [];
  return list.map((_, i) => {
    const at = `${path}[${i}]`;
    const protocol = f.string(`${at}.protocol`, { oneOf: PROTOCOLS });
    const r = compact<Rule>({
      action: (f.string(`${at}.action`, { required: true, oneOf: RULE_ACTIONS }) ?? 'Deny') as Rule['action'],
      protocol,
      notProtocol: f.string(`${at}.notProtocol`, { oneOf: PROTOCOLS }),
      ipVersion: ipVersion(f, `${at}.ipVersion`),
      source: entity(f, `${at}.source`),
      destination: entity(f, `${at}.destination`),
    });
    const usesPorts = r.source.ports || r.destination.ports || r.source.notPorts || r.destination.notPorts;
    if (usesPorts && !['TCP', 'UDP', 'SCTP', 'UDPLite'].includes(protocol ?? '')) {
      f.fail(`${at}.protocol`, 'must be TCP, UDP, SCTP or UDPLite when ports are given');
    }
    return r;
  });
}

function validatePolicy<K extends 'NetworkPolicy' | 'GlobalNetworkPolicy'>(
  kind: K,
  raw: unknown,
): Resource<K, PolicySpec> {
  const f = new Fields(kind, raw);
  const metadata = checkEnvelope(f, kind, kind === 'NetworkPolicy');
  const ingress = rules(f, 'spec.ingress');
  const egress = rules(f, 'spec.egress');
  const declared = f.stringList('spec.types', (t) =>
    (POLICY_TYPES as readonly string[]).includes(t) ? undefined : 'is not Ingress or Egress',
  );
  // As in Kubernetes: without explicit types, a policy is Ingress, plus Egress if it has egress rules.
  const types = (declared ??
    (egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'])) as PolicySpec['types'];
  const spec = compact<PolicySpec>({
    order: f.get('spec.order') === undefined ? undefined : (f.get('spec.order') as number),
    selector: selectorField(f, 'spec.selector') ?? 'all()',
    types,
    ingress,
    egress,
    namespaceSelector:
      kind === 'GlobalNetworkPolicy' ? selectorField(f, 'spec.namespaceSelector') : undefined,
  });
  const order = f.get('spec.order');
  if (order !== undefined && (typeof order !== 'number' || !Number.isFinite(order)))
    f.fail('spec.order', `${JSON.stringify(order)} is not a number`);
  f.done();
  return { kind, apiVersion: 'tricolor.dev/v1', metadata, spec };
}

export const validateNetworkPolicy = (raw: unknown): NetworkPolicy => validatePolicy('NetworkPolicy', raw);
export const validateGlobalNetworkPolicy = (raw: unknown): GlobalNetworkPolicy =>
  validatePolicy('GlobalNetworkPolicy', raw);
