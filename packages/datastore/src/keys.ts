import { type Cidr, formatCidr, parseCidr } from './net/ip.js';

/**
 * The etcd key layout (DESIGN.md "Data model"). Everything lives under one prefix,
 * `/tricolor/` by default, so several clusters can share an etcd and tests can isolate.
 */
export const DEFAULT_PREFIX = '/tricolor/';

export function normalizePrefix(prefix: string): string {
  let p = prefix.startsWith('/') ? prefix : `/${prefix}`;
  if (!p.endsWith('/')) p += '/';
  return p;
}

export function resourcesPrefix(prefix: string, plural: string, namespace?: string): string {
  return `${prefix}resources/${plural}/${namespace ? `${namespace}/` : ''}`;
}

export function resourceKey(prefix: string, plural: string, name: string, namespace?: string): string {
  return `${resourcesPrefix(prefix, plural, namespace)}${name}`;
}

/** "10.244.1.0/26" → "10.244.1.0-26", the form used in IPAM keys. */
export function cidrKeyPart(c: Cidr | string): string {
  return (typeof c === 'string' ? c : formatCidr(c)).replace('/', '-');
}

/** "10.244.1.0-26" → "10.244.1.0/26". */
export function cidrFromKeyPart(part: string): Cidr | undefined {
  const i = part.lastIndexOf('-');
  return i < 0 ? undefined : parseCidr(`${part.slice(0, i)}/${part.slice(i + 1)}`);
}

const fam = (c: Cidr) => (c.family === 4 ? 'ipv4' : 'ipv6');

export const ipamKeys = {
  blocksPrefix: (prefix: string, family: 4 | 6) => `${prefix}ipam/v2/assignment/ipv${family}/block/`,
  block: (prefix: string, block: Cidr) =>
    `${prefix}ipam/v2/assignment/${fam(block)}/block/${cidrKeyPart(block)}`,
  hostPrefix: (prefix: string, node: string) => `${prefix}ipam/v2/host/${node}/`,
  affinitiesPrefix: (prefix: string) => `${prefix}ipam/v2/host/`,
  affinity: (prefix: string, node: string, block: Cidr) =>
    `${prefix}ipam/v2/host/${node}/${fam(block)}/block/${cidrKeyPart(block)}`,
  handlesPrefix: (prefix: string) => `${prefix}ipam/v2/handle/`,
  handle: (prefix: string, handleId: string) => `${prefix}ipam/v2/handle/${handleId}`,
  config: (prefix: string) => `${prefix}ipam/v2/config`,
};

/**
 * felix's periodic status report on itself (Calico's `/calico/felix/v2/<region>/host/<node>/status`
 * in etcd mode): a key of its own that no daemon watches, so a report wakes nobody. On the
 * Node, every report reached every felix and bird of the cluster.
 */
export const felixStatusKey = (prefix: string, node: string) => `${prefix}felix/v1/host/${node}/status`;

/** Splits an affinity key into node and block, or undefined when it is not one. */
export function parseAffinityKey(prefix: string, key: string): { node: string; block: Cidr } | undefined {
  const m = /^(.+)\/ipv[46]\/block\/([^/]+)$/.exec(key.slice(ipamKeys.affinitiesPrefix(prefix).length));
  if (!key.startsWith(ipamKeys.affinitiesPrefix(prefix)) || !m) return undefined;
  const block = cidrFromKeyPart(m[2]!);
  return block ? { node: m[1]!, block } : undefined;
}
