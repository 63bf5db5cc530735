import { type Port, parseCidr, parsePort } from '@tricolor/datastore';
import type { NormalizedRule, NormalizedSide } from '@tricolor/policy';
import type { Rule } from '../iptables/rules.js';
import {
  clearMark,
  type Direction,
  ipsetName,
  MARK,
  markClear,
  markSet,
  type SetRef,
  setId,
  setMark,
} from './names.js';

/** Who owns the rules: a policy (Allow and Pass return to the endpoint chain with a mark) or a profile. */
export type RuleOwner = 'policy' | 'profile';

export interface RenderOptions {
  family: 4 | 6;
  owner: RuleOwner;
  chainPrefix: string;
  /** Prefix of LOG lines (Calico's `calico-packet`). */
  logPrefix?: string;
}

/** One rendered rule of a policy or profile: its iptables rules and the sets they name. */
export interface RenderedRule {
  rules: Rule[];
  sets: SetRef[];
}

const PROTOCOL_NAMES: Record<number, string> = {
  6: 'tcp',
  17: 'udp',
  132: 'sctp',
  136: 'udplite',
  1: 'icmp',
};

const protocolText = (n: number): string => (n === 58 ? 'ipv6-icmp' : (PROTOCOL_NAMES[n] ?? String(n)));

/** Numeric port ranges in multiport groups of at most 15 slots (a range takes two), as iptables allows. */
export function splitPorts(ranges: readonly { min: number; max: number }[]): string[] {
  const out: string[] = [];
  let group: string[] = [];
  let slots = 15;
  for (const r of ranges) {
    const need = r.min === r.max ? 1 : 2;
    if (need > slots) {
      out.push(group.join(','));
      group = [];
      slots = 15;
    }
    group.push(r.min === r.max ? String(r.min) : `${r.min}:${r.max}`);
    slots -= need;
  }
  if (group.length) out.push(group.join(','));
  return out;
}

function splitPortList(ports: readonly Port[]): { numeric: string[]; named: string[] } {
  const ranges: { min: number; max: number }[] = [];
  const named: string[] = [];
  for (const p of ports) {
    const parsed = parsePort(p);
    if (!parsed) continue;
    if ('name' in parsed) named.push(parsed.name);
    else ranges.push(parsed);
  }
  return { numeric: splitPorts(ranges), named: [...new Set(named)] };
}

const isAll = (cidr: string) => parseCidr(cidr)?.prefixLength === 0;

/** A side's nets of one family; `undefined` when the rule cannot match in this family at all. */
function familyNets(nets: readonly string[] | undefined, family: 4 | 6): string[] | null | undefined {
  if (!nets) return null;
  const mine = [...new Set(nets.filter((n) => parseCidr(n)?.family === family))].sort();
  return mine.length === 0 ? undefined : mine;
}

interface SideParts {
  /** Matches ANDed into the main rule. */
  match: string[];
  /** Positive port alternatives (ORed); each one is a complete match text. */
  portAlternatives: string[];
  sets: SetRef[];
}

/**
 * One side (source or destination) of a rule: nets (inline for one CIDR, a hash:net set for
 * several), selector and notSelector (the selector's hash:ip set), ports and notPorts
 * (multiport groups, named ports through hash:ip,port sets of the endpoints the side's
 * selector matches — all endpoints when it has none). `undefined`: never matches.
 */
function renderSide(
  side: NormalizedSide,
  dir: 'src' | 'dst',
  proto: string | undefined,
  o: RenderOptions,
): SideParts | undefined {
  const out: SideParts = { match: [], portAlternatives: [], sets: [] };
  const flag = dir === 'src' ? '-s' : '-d';
  const use = (ref: SetRef) => {
    out.sets.push(ref);
    return ipsetName(o.chainPrefix, setId(ref), o.family);
  };
  const nets = familyNets(side.nets, o.family);
  if (nets === undefined) return undefined;
  if (nets && !nets.some(isAll)) {
    if (nets.length === 1) out.match.push(`${flag} ${nets[0]}`);
    else out.match.push(`-m set --match-set ${use({ kind: 'nets', family: o.family, nets })} ${dir}`);
  }
  const notNets = familyNets(side.notNets, o.family);
  if (notNets) {
    if (notNets.some(isAll)) return undefined;
    if (notNets.length === 1) out.match.push(`! ${flag} ${notNets[0]}`);
    else
      out.match.push(`-m set ! --match-set ${use({ kind: 'nets', family: o.family, nets: notNets })} ${dir}`);
  }
  if (side.selector !== undefined)
    out.match.push(`-m set --match-set ${use({ kind: 'selector', selector: side.selector })} ${dir}`);
  if (side.notSelector !== undefined)
    out.match.push(`-m set ! --match-set ${use({ kind: 'selector', selector: side.notSelector })} ${dir}`);
  const portFlag = dir === 'src' ? '--sports' : '--dports';
  const selectorForPorts = side.selector ?? 'all()';
  if (side.ports) {
    if (!proto) return undefined; // validation keeps ports to rules with a port protocol
    const { numeric, named } = splitPortList(side.ports);
    for (const g of numeric) out.portAlternatives.push(`-m multiport ${portFlag} ${g}`);
    for (const name of named)
      out.portAlternatives.push(
        `-m set --match-set ${use({ kind: 'namedPort', selector: selectorForPorts, port: name })} ${dir},${dir}`,
      );
    if (out.portAlternatives.length === 0) return undefined;
  }
  if (side.notPorts) {
    if (!proto) return undefined;
    const { numeric, named } = splitPortList(side.notPorts);
    for (const g of numeric) out.match.push(`-m multiport ! ${portFlag} ${g}`);
    for (const name of named)
      out.match.push(
        `-m set ! --match-set ${use({ kind: 'namedPort', selector: selectorForPorts, port: name })} ${dir},${dir}`,
      );
  }
  return out;
}

function icmpText(m: { type?: number; code?: number }, family: 4 | 6, negate: boolean): string {
  const tc = m.code === undefined ? `${m.type}` : `${m.type}/${m.code}`;
  const not = negate ? '! ' : '';
  return family === 4 ? `-m icmp ${not}--icmp-type ${tc}` : `-m icmp6 ${not}--icmpv6-type ${tc}`;
}

/** The actions of a rule after its match (Calico's): Allow and Pass mark and return, Deny drops, Log logs. */
function actionRules(match: string, rule: NormalizedRule, o: RenderOptions): Rule[] {
  const m = match === '' ? {} : { match };
  switch (rule.action) {
    case 'Allow':
      return [
        { ...m, action: setMark(MARK.accept) },
        { match: markSet(MARK.accept), action: '-j RETURN' },
      ];
    case 'Deny':
      return [{ ...m, action: '-j DROP' }];
    case 'Pass':
      // A policy's Pass skips the remaining policies to the profiles; in a profile it ends
      // this profile (the next profile decides).
      if (o.owner === 'profile') return [{ ...m, action: '-j RETURN' }];
      return [
        { ...m, action: setMark(MARK.pass) },
        { match: markSet(MARK.pass), action: '-j RETURN' },
      ];
    case 'Log':
      return [{ ...m, action: `-j LOG --log-prefix "${o.logPrefix ?? 'tricolor-packet'}: " --log-level 5` }];
  }
}

/**
 * One normalized rule as iptables rules in one IP family, Calico's way: one rule when
 * every criterion fits one iptables rule; when ports must be ORed (more than one multiport
 * group, or numeric and named ports together), "match blocks" compute the OR into scratch
 * mark bits first and the final rule matches on them. `undefined` when the rule cannot
 * match in this family (its ipVersion, ICMP of the other family, nets of the other family
 * only, a negated catch-all CIDR).
 */
export function renderRule(rule: NormalizedRule, o: RenderOptions): RenderedRule | undefined {
  const f = o.family;
  if (rule.ipVersion !== undefined && rule.ipVersion !== f) return undefined;
  if ((rule.protocol === 1 && f === 6) || (rule.protocol === 58 && f === 4)) return undefined;
  if (rule.protocol !== undefined && rule.notProtocol === rule.protocol) return undefined;
  const proto = rule.protocol === undefined ? undefined : protocolText(rule.protocol);
  const src = renderSide(rule.source, 'src', proto, o);
  const dst = renderSide(rule.destination, 'dst', proto, o);
  if (!src || !dst) return undefined;
  const main: string[] = [];
  if (proto) main.push(`-p ${proto}`);
  else if (rule.notProtocol !== undefined) main.push(`! -p ${protocolText(rule.notProtocol)}`);
  main.push(...src.match, ...dst.match);
  if (rule.icmp?.type !== undefined) main.push(icmpText(rule.icmp, f, false));
  if (rule.notICMP?.type !== undefined) main.push(icmpText(rule.notICMP, f, true));

  const out: Rule[] = [];
  const blocks = [src.portAlternatives, dst.portAlternatives].filter((alts) => alts.length > 0);
  if (blocks.every((alts) => alts.length === 1)) {
    for (const alts of blocks) main.push(alts[0]!);
  } else {
    // Match blocks: scratch0 = "every block so far matched"; scratch1 = "this block matched".
    out.push({ action: clearMark(MARK.scratch0 | MARK.scratch1) });
    blocks.forEach((alts, i) => {
      const bit = i === 0 ? MARK.scratch0 : MARK.scratch1;
      for (const alt of alts) out.push({ match: `-p ${proto} ${alt}`, action: setMark(bit) });
      if (i > 0) out.push({ match: markClear(MARK.scratch1), action: clearMark(MARK.scratch0) });
    });
    main.push(markSet(MARK.scratch0));
  }
  out.push(...actionRules(main.join(' '), rule, o));
  return { rules: out, sets: [...src.sets, ...dst.sets] };
}

/** A policy's or profile's rules for one direction and family, with a note naming the owner on the first. */
export function renderRules(rules: readonly NormalizedRule[], o: RenderOptions, note: string): RenderedRule {
  const out: Rule[] = [];
  const sets: SetRef[] = [];
  for (const r of rules) {
    const x = renderRule(r, o);
    if (!x) continue;
    out.push(...x.rules);
    sets.push(...x.sets);
  }
  if (out.length > 0) out[0] = { ...out[0]!, note };
  return { rules: out, sets };
}

/** "NetworkPolicy x/allow ingress" — the note on a policy chain's first rule and on the jumps to it. */
export const ownerNote = (what: string, dir: Direction) =>
  `${what} ${dir === 'Ingress' ? 'ingress' : 'egress'}`;
