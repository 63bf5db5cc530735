import { parseCidr } from '../net/ip.js';
import { selectorProblem } from '../selector.js';
import { type Fields, show } from './fields.js';
import { compact } from './resource.js';
import { PORT_NAME } from './workloadendpoint.js';

/**
 * A policy or profile rule, as Calico's `projectcalico.org/v3` Rule: an action and the
 * criteria a packet must meet (all given ones). Validated into one canonical form: protocol
 * names in Calico's spelling, numeric port strings as numbers, nets in canonical CIDR form.
 */
export const RULE_ACTIONS = ['Allow', 'Deny', 'Log', 'Pass'] as const;
export type RuleAction = (typeof RULE_ACTIONS)[number];

/** IANA protocol numbers of the protocols Calico names. */
export const PROTOCOL_NUMBERS = { TCP: 6, UDP: 17, ICMP: 1, ICMPv6: 58, SCTP: 132, UDPLite: 136 } as const;
export type ProtocolName = keyof typeof PROTOCOL_NUMBERS;
export const PROTOCOLS = Object.keys(PROTOCOL_NUMBERS) as ProtocolName[];
/** A protocol by name or by number (1-255), as Calico's numorstring.Protocol. */
export type Protocol = ProtocolName | number;

/** The protocols whose rules may match ports. */
export const PORT_PROTOCOLS: readonly number[] = [6, 17, 132, 136];

export function protocolNumber(p: Protocol): number {
  return typeof p === 'number' ? p : PROTOCOL_NUMBERS[p];
}

/** A protocol's canonical form: a known name in Calico's spelling (any case accepted), or a number. */
export function parseProtocol(v: unknown): Protocol | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 1 && v <= 255 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const name = PROTOCOLS.find((p) => p.toLowerCase() === v.toLowerCase());
  if (name) return name;
  return /^\d{1,3}$/.test(v) && Number(v) >= 1 && Number(v) <= 255 ? Number(v) : undefined;
}

/** A port match: a number, an inclusive range "8080:8090", or a named port ("http"). */
export type Port = number | string;

export type ParsedPort = { min: number; max: number } | { name: string };

export function parsePort(p: Port): ParsedPort | undefined {
  if (typeof p === 'number')
    return Number.isInteger(p) && p >= 0 && p <= 65535 ? { min: p, max: p } : undefined;
  const range = /^(\d{1,5})(?::(\d{1,5}))?$/.exec(p);
  if (range) {
    const min = Number(range[1]);
    const max = range[2] === undefined ? min : Number(range[2]);
    return min <= max && max <= 65535 ? { min, max } : undefined;
  }
  return PORT_NAME.test(p) ? { name: p } : undefined;
}

/** Matches on the service account of an endpoint (Calico's serviceAccounts). */
export interface ServiceAccountMatch {
  /** Any of these service account names. */
  names?: string[];
  /** A selector over the service account's labels. */
  selector?: string;
}

export interface EntityRule {
  nets?: string[];
  notNets?: string[];
  selector?: string;
  notSelector?: string;
  namespaceSelector?: string;
  serviceAccounts?: ServiceAccountMatch;
  ports?: Port[];
  notPorts?: Port[];
}

export interface IcmpMatch {
  type?: number;
  code?: number;
}

export interface Rule {
  action: RuleAction;
  protocol?: Protocol;
  notProtocol?: Protocol;
  ipVersion?: 4 | 6;
  icmp?: IcmpMatch;
  notICMP?: IcmpMatch;
  source: EntityRule;
  destination: EntityRule;
  /** Free-form annotations (Calico's rule metadata), carried but never matched. */
  metadata?: { annotations?: Record<string, string> };
}

export function selectorField(f: Fields, path: string): string | undefined {
  const s = f.string(path);
  if (s === undefined) return undefined;
  const problem = selectorProblem(s);
  return problem ? f.fail(path, `${show(s)} ${problem}`) : s;
}

function protocolField(f: Fields, path: string): Protocol | undefined {
  const v = f.get(path);
  if (v === undefined || v === null) return undefined;
  const p = parseProtocol(v);
  if (p === undefined)
    f.fail(path, `${show(v)} is not a protocol (${PROTOCOLS.join(', ')} or a number 1-255)`);
  return p;
}

function portList(f: Fields, path: string): Port[] | undefined {
  const list = f.array(path);
  if (!list) return undefined;
  const out: Port[] = [];
  list.forEach((p, i) => {
    const at = `${path}[${i}]`;
    const parsed = typeof p === 'number' || typeof p === 'string' ? parsePort(p) : undefined;
    if (!parsed) {
      f.fail(
        at,
        `${show(p)} is not a port: a number 0-65535, a range like "8080:8090" or a port name (1-15 lower-case letters, digits and "-")`,
      );
    } else if ('name' in parsed) out.push(parsed.name);
    else out.push(parsed.min === parsed.max ? parsed.min : `${parsed.min}:${parsed.max}`);
  });
  return out;
}

function nets(f: Fields, path: string, ipVersion: 4 | 6 | undefined): string[] | undefined {
  const list = f.array(path);
  if (!list) return undefined;
  return list.map((_, i) => {
    const at = `${path}[${i}]`;
    const c = f.cidr(at);
    if (c && ipVersion && parseCidr(c)!.family !== ipVersion)
      f.fail(at, `${show(c)} is not an IPv${ipVersion} network, as the rule's ipVersion requires`);
    return c ?? '';
  });
}

function entity(f: Fields, path: string, ipVersion: 4 | 6 | undefined): EntityRule {
  f.object(path);
  const sa = f.object(`${path}.serviceAccounts`);
  const serviceAccounts = sa
    ? compact<ServiceAccountMatch>({
        names: f.stringList(`${path}.serviceAccounts.names`),
        selector: selectorField(f, `${path}.serviceAccounts.selector`),
      })
    : undefined;
  return compact<EntityRule>({
    nets: nets(f, `${path}.nets`, ipVersion),
    notNets: nets(f, `${path}.notNets`, ipVersion),
    selector: selectorField(f, `${path}.selector`),
    notSelector: selectorField(f, `${path}.notSelector`),
    namespaceSelector: selectorField(f, `${path}.namespaceSelector`),
    serviceAccounts,
    ports: portList(f, `${path}.ports`),
    notPorts: portList(f, `${path}.notPorts`),
  });
}

function icmpField(f: Fields, path: string): IcmpMatch | undefined {
  if (!f.object(path)) return undefined;
  const m = compact<IcmpMatch>({
    type: f.integer(`${path}.type`, { min: 0, max: 254 }),
    code: f.integer(`${path}.code`, { min: 0, max: 255 }),
  });
  if (m.code !== undefined && m.type === undefined) f.fail(`${path}.code`, 'needs a type');
  return m;
}

/** The rule list at `path` (a policy's or a profile's ingress/egress), validated. */
export function rules(f: Fields, path: string): Rule[] {
  return (
    f.objectList(path, (at) => {
      const protocol = protocolField(f, `${at}.protocol`);
      const notProtocol = protocolField(f, `${at}.notProtocol`);
      const v = f.integer(`${at}.ipVersion`);
      let ipVersion: 4 | 6 | undefined;
      if (v === 4 || v === 6) ipVersion = v;
      else if (v !== undefined) f.fail(`${at}.ipVersion`, `${v} is not 4 or 6`);
      const icmp = icmpField(f, `${at}.icmp`);
      const notICMP = icmpField(f, `${at}.notICMP`);
      const annotations = f.stringMap(`${at}.metadata.annotations`);
      f.object(`${at}.metadata`);
      const r = compact<Rule>({
        action: (f.string(`${at}.action`, { required: true, oneOf: RULE_ACTIONS }) ?? 'Deny') as RuleAction,
        protocol,
        notProtocol,
        ipVersion,
        icmp,
        notICMP,
        source: entity(f, `${at}.source`, ipVersion),
        destination: entity(f, `${at}.destination`, ipVersion),
        metadata: annotations ? { annotations: { ...annotations } } : undefined,
      });
      const num = protocol === undefined ? undefined : protocolNumber(protocol);
      const usesPorts = r.source.ports || r.destination.ports || r.source.notPorts || r.destination.notPorts;
      if (usesPorts && (num === undefined || !PORT_PROTOCOLS.includes(num)))
        f.fail(`${at}.protocol`, 'must be TCP, UDP, SCTP or UDPLite when ports are given');
      if ((icmp || notICMP) && num !== 1 && num !== 58)
        f.fail(`${at}.protocol`, 'must be ICMP or ICMPv6 when icmp or notICMP is given');
      if (num === 1 && ipVersion === 6) f.fail(`${at}.ipVersion`, 'must be 4 (or absent) with protocol ICMP');
      if (num === 58 && ipVersion === 4)
        f.fail(`${at}.ipVersion`, 'must be 6 (or absent) with protocol ICMPv6');
      return r;
    }) ?? []
  );
}
