import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  POD_GATEWAY_V4 as GATEWAY_V4,
  POD_GATEWAY_V6 as GATEWAY_V6,
  HOST_SIDE_MAC,
  RT_PROTO_FELIX,
  workloadSysctls,
} from '@tricolor/contract';
// Only the modules the plugin uses (it starts once per pod): `ip` and sysctls.
import { ip } from '@tricolor/linux/ip';
import { writeSysctl } from '@tricolor/linux/sysctl';
import { CniCode, CniError } from './errors.js';

export { GATEWAY_V4, GATEWAY_V6, HOST_SIDE_MAC };

/** A failed kernel step as the CNI error kubelet sees (code 102, the command and its message). */
function netlink<T>(p: Promise<T>): Promise<T> {
  return p.catch((e: Error) => {
    throw new CniError(CniCode.NetlinkFailure, e.message);
  });
}

/** `ip <args>` in our namespace, or inside the pod's (a netns path) through nsenter. */
const ipRun = (args: string[], input?: string, netns?: string) =>
  netlink(ip(args, { ...(input === undefined ? {} : { input }), ...(netns ? { netns } : {}) }));

export interface VethSpec {
  netns: string;
  ifname: string;
  hostIf: string;
  mtu: number;
  /** CIDRs, "/32" and "/128". */
  addresses: string[];
}

/** The pod end's MAC, chosen here (as the kernel would: random, locally administered, unicast). */
export function randomPodMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfc) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export interface VethResult {
  hostMac: string;
  podMac: string;
}

function setSysctl(key: string, value: string): void {
  try {
    writeSysctl(key, value);
  } catch (e) {
    throw new CniError(CniCode.NetlinkFailure, `cannot set /proc/sys/${key}: ${(e as Error).message}`);
  }
}

/**
 * The `ip -batch` lines run inside the pod: the veth with the pod end's MAC (its peer sent to
 * `hostPid`'s namespace), address, routes.
 */
export function podSideBatch(spec: VethSpec, hostPid: number, podMac: string): string {
  const { ifname, hostIf, mtu } = spec;
  const lines = [
    `link add ${ifname} address ${podMac} mtu ${mtu} type veth peer name ${hostIf} mtu ${mtu} netns ${hostPid}`,
    `link set ${ifname} up`,
  ];
  const v4 = spec.addresses.filter((a) => !a.includes(':'));
  const v6 = spec.addresses.filter((a) => a.includes(':'));
  for (const a of v4) lines.push(`addr add ${a} dev ${ifname}`);
  if (v4.length)
    lines.push(
      `route add ${GATEWAY_V4} dev ${ifname} scope link`,
      `route add default via ${GATEWAY_V4} dev ${ifname}`,
    );
  // No `-6` in front: `ip -batch` takes no options per line; the addresses say the family.
  for (const a of v6) lines.push(`addr add ${a} dev ${ifname} nodad`);
  if (v6.length) lines.push(`route add default via ${GATEWAY_V6} dev ${ifname}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The `ip -batch` lines run on the host: MAC, up, a /32 (or /128) route per address, and a
 * static neighbor per IPv4 address (it saves the first packet an ARP round; felix keeps it
 * converged).
 */
export function hostSideBatch(spec: VethSpec, podMac: string): string {
  const lines = [`link set ${spec.hostIf} address ${HOST_SIDE_MAC}`, `link set ${spec.hostIf} up`];
  for (const a of spec.addresses) {
    lines.push(`route replace ${a} dev ${spec.hostIf} scope link proto ${RT_PROTO_FELIX}`);
  }
  for (const a of spec.addresses.filter((x) => !x.includes(':')))
    lines.push(`neigh replace ${a.split('/')[0]} lladdr ${podMac} dev ${spec.hostIf} nud permanent`);
  return `${lines.join('\n')}\n`;
}

/**
 * Creates the pod's veth pair: eth0 in the pod with its /32 and the 169.254.1.1 routes,
 * the host end `cali…` here with proxy ARP and a /32 route. Undone by `deleteVeth`.
 */
export async function createVeth(spec: VethSpec): Promise<VethResult> {
  if (!existsSync(spec.netns))
    throw new CniError(CniCode.UnknownContainer, `network namespace ${spec.netns} does not exist`);
  // A retried ADD of the same pod finds the old host end: start from nothing.
  await deleteVeth(spec.hostIf);
  // Two `ip` processes in all: the pod end's MAC is chosen here, so nothing is read back.
  const podMac = randomPodMac();
  await ipRun(['-batch', '-'], podSideBatch(spec, process.pid, podMac), spec.netns);
  await ipRun(['-batch', '-'], hostSideBatch(spec, podMac));
  const v6 = spec.addresses.some((a) => a.includes(':'));
  for (const [key, value] of workloadSysctls(spec.hostIf, v6)) setSysctl(key, value);
  return { hostMac: HOST_SIDE_MAC, podMac };
}

/** Deletes the host end (the pod end goes with it); a missing device is not an error. */
export async function deleteVeth(hostIf: string): Promise<boolean> {
  if (!existsSync(`/proc/sys/net/ipv4/conf/${hostIf}`)) return false;
  try {
    await ipRun(['link', 'del', 'dev', hostIf]);
    return true;
  } catch (e) {
    if (/Cannot find device/.test((e as Error).message)) return false;
    throw e;
  }
}

interface IpAddrJson {
  ifname: string;
  address?: string;
  operstate?: string;
  addr_info?: { local: string; prefixlen: number }[];
}

/** CHECK: the pod interface has exactly the expected addresses and routes, the host end exists. */
export async function checkVeth(spec: VethSpec): Promise<void> {
  if (!existsSync(spec.netns))
    throw new CniError(CniCode.UnknownContainer, `network namespace ${spec.netns} does not exist`);
  if (!existsSync(`/proc/sys/net/ipv4/conf/${spec.hostIf}`)) {
    throw new CniError(CniCode.NetlinkFailure, `host interface ${spec.hostIf} is missing`);
  }
  const [link] = JSON.parse(
    await ipRun(['-json', 'addr', 'show', 'dev', spec.ifname], undefined, spec.netns),
  ) as IpAddrJson[];
  if (!link) throw new CniError(CniCode.NetlinkFailure, `${spec.ifname} is missing in ${spec.netns}`);
  const have = new Set(
    (link.addr_info ?? []).filter((a) => !a.local.startsWith('fe80')).map((a) => `${a.local}/${a.prefixlen}`),
  );
  for (const a of spec.addresses) {
    if (!have.has(a)) throw new CniError(CniCode.NetlinkFailure, `${spec.ifname} lacks address ${a}`);
  }
  if (spec.addresses.some((a) => !a.includes(':'))) {
    const routes = JSON.parse(await ipRun(['-json', 'route', 'show', 'default'], undefined, spec.netns)) as {
      gateway?: string;
    }[];
    if (!routes.some((r) => r.gateway === GATEWAY_V4))
      throw new CniError(CniCode.NetlinkFailure, `no default route via ${GATEWAY_V4} in ${spec.netns}`);
  }
}
