import { createHash } from 'node:crypto';
import { type PolicyRef, policyRefText, selectorId } from '@tricolor/policy';
import { MAX_CHAIN_NAME } from '../iptables/rules.js';

/** ipset names are limited to 31 characters. */
export const MAX_IPSET_NAME = 31;

/** The mark bits of the policy chains (Calico's): accepted, passed to the profiles, and two scratch bits. */
export const MARK = {
  accept: 0x10000,
  pass: 0x20000,
  scratch0: 0x40000,
  scratch1: 0x80000,
} as const;

export const hex = (n: number) => `0x${n.toString(16)}`;
/** `-m mark --mark <bit>/<bit>`: the bit is set. */
export const markSet = (bit: number) => `-m mark --mark ${hex(bit)}/${hex(bit)}`;
/** `-m mark --mark 0x0/<bit>`: the bit is clear. */
export const markClear = (bit: number) => `-m mark --mark 0x0/${hex(bit)}`;
export const setMark = (bit: number) => `-j MARK --set-xmark ${hex(bit)}/${hex(bit)}`;
export const clearMark = (bits: number) => `-j MARK --set-xmark 0x0/${hex(bits)}`;

const hash = (text: string, n: number) => createHash('sha256').update(text).digest('base64url').slice(0, n);

/** A chain name `<prefix><kind>-<hash of what it stands for>`, as long as iptables allows. */
function hashedChain(prefix: string, kind: string, identity: string): string {
  const head = `${prefix}${kind}-`;
  return head + hash(identity, MAX_CHAIN_NAME - head.length);
}

export type Direction = 'Ingress' | 'Egress';

/**
 * A policy's chain for one direction: `tri-pi-<hash>` (ingress: traffic to the endpoint) or
 * `tri-po-<hash>` (egress), named after the policy (kind, namespace, name), so a policy
 * whose rules change keeps its chain name and only that chain is rewritten. Shared by every
 * local endpoint the policy applies to.
 */
export const policyChainName = (prefix: string, ref: PolicyRef, dir: Direction): string =>
  hashedChain(prefix, dir === 'Ingress' ? 'pi' : 'po', `${ref.kind}\0${policyRefText(ref)}`);

/** A profile's chain for one direction: `tri-pri-<hash>` / `tri-pro-<hash>` (Calico's names). */
export const profileChainName = (prefix: string, profile: string, dir: Direction): string =>
  hashedChain(prefix, dir === 'Ingress' ? 'pri' : 'pro', profile);

/**
 * The ipsets policy rules match on. A logical set is one of: the addresses of the endpoints
 * a selector matches (`hash:ip`, id `s:<selectorId>` — one per distinct canonical selector),
 * the (address, protocol:port) pairs of a named port on the endpoints a selector matches
 * (`hash:ip,port`, Calico's named-port sets), or a list of CIDRs (`hash:net`).
 */
export type SetRef =
  | { kind: 'selector'; selector: string }
  | { kind: 'namedPort'; selector: string; port: string }
  | { kind: 'nets'; family: 4 | 6; nets: readonly string[] };

/** The family-independent identity of a set: `s:…`, `n:…` or `c:…` (22 characters of hash). */
export function setId(ref: SetRef): string {
  switch (ref.kind) {
    case 'selector':
      return selectorId(ref.selector);
    case 'namedPort':
      return `n:${hash(`${ref.selector}\0${ref.port}`, 22)}`;
    case 'nets':
      return `c:${hash(ref.nets.join(','), 22)}`;
  }
}

/** The kernel name of a set in one family: `tri-s:…` (IPv4), `tri-6s:…` (IPv6). */
export function ipsetName(prefix: string, id: string, family: 4 | 6): string {
  return `${prefix}${family === 6 ? '6' : ''}${id}`.slice(0, MAX_IPSET_NAME);
}

export type IpsetType = 'hash:ip' | 'hash:ip,port' | 'hash:net';

export function ipsetType(ref: SetRef): IpsetType {
  return ref.kind === 'selector' ? 'hash:ip' : ref.kind === 'namedPort' ? 'hash:ip,port' : 'hash:net';
}
