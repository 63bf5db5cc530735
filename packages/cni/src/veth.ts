import { existsSync, writeFileSync } from 'node:fs';
import { CniCode, CniError } from './errors.js';
import { exec, ipIn } from './exec.js';

/** The host end answers every ARP of the pod by proxy; its MAC is the same on every node. */
export const HOST_SIDE_MAC = 'ee:ee:ee:ee:ee:ee';
/** The pod's gateway: nothing owns it; the host end answers for it (proxy ARP). */
export const GATEWAY_V4 = '169.254.1.1';
/** For IPv6 the gateway is the host end's link-local address, derived from HOST_SIDE_MAC. */
export const GATEWAY_V6 = 'fe80::ecee:eeff:feee:eeee';
/** Protocol number of the routes felix owns (DESIGN.md decisions); the CNI route carries it too. */
export const FELIX_PROTO = '80';

export interface VethSpec {
  netns: string;
  ifname: string;
  hostIf: string;
  mtu: number;
  /** CIDRs, "/32" and "/128". */
  addresses: string[];
}

export interface VethResult {
  hostMac: string;
  podMac: string;
}

function writeSysctl(path: string, value: string): void {
  try {
    writeFileSync(path, value);
  } catch (e) {
    throw new CniError(CniCode.NetlinkFailure, `cannot set ${path}: ${(e as Error).message}`);
  }
}

/** The /proc/sys settings the host end needs for the data path (DESIGN.md step 1). */
export function hostSysctls(hostIf: string, v6: boolean): [string, string][] {
  const s: [string, string][] = [
    [`/proc/sys/net/ipv4/conf/${hostIf}/proxy_arp`, '1'],
    [`/proc/sys/net/ipv4/neigh/${hostIf}/proxy_delay`, '0'],
    [`/proc/sys/net/ipv4/conf/${hostIf}/forwarding`, '1'],
    [`/proc/sys/net/ipv4/conf/${hostIf}/route_localnet`, '1'],
  ];
  if (v6) {
    s.push(
      [`/proc/sys/net/ipv6/conf/${hostIf}/proxy_ndp`, '1'],
      [`/proc/sys/net/ipv6/conf/${hostIf}/forwarding`, '1'],
      [`/proc/sys/net/ipv6/conf/${hostIf}/accept_ra`, '0'],
    );
  }
  return s;
}

/** The `ip -batch` lines run inside the pod: the veth (its peer sent to `hostPid`'s namespace), address, routes. */
export function podSideBatch(spec: VethSpec, hostPid: number): string {
  const { ifname, hostIf, mtu } = spec;
  const lines = [
    `link add ${ifname} mtu ${mtu} type veth peer name ${hostIf} mtu ${mtu} netns ${hostPid}`,
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
  for (const a of v6) lines.push(`-6 addr add ${a} dev ${ifname} nodad`);
  if (v6.length) lines.push(`-6 route add default via ${GATEWAY_V6} dev ${ifname}`);
  return `${lines.join('\n')}\n`;
}

/** The `ip -batch` lines run on the host: MAC, up, a /32 (or /128) route per address. */
export function hostSideBatch(spec: VethSpec): string {
  const lines = [`link set ${spec.hostIf} address ${HOST_SIDE_MAC}`, `link set ${spec.hostIf} up`];
  for (const a of spec.addresses) {
    lines.push(
      `${a.includes(':') ? '-6 ' : ''}route replace ${a} dev ${spec.hostIf} scope link proto ${FELIX_PROTO}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function linkMac(args: string[], inNetns?: string): Promise<string> {
  const out = inNetns ? await ipIn(inNetns, ['-json', ...args]) : await exec('ip', ['-json', ...args]);
  const [link] = JSON.parse(out) as { address?: string }[];
  return link?.address ?? '';
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
  await ipIn(spec.netns, ['-batch', '-'], podSideBatch(spec, process.pid));
  await exec('ip', ['-batch', '-'], hostSideBatch(spec));
  const v6 = spec.addresses.some((a) => a.includes(':'));
  for (const [path, value] of hostSysctls(spec.hostIf, v6)) writeSysctl(path, value);
  const podMac = await linkMac(['link', 'show', 'dev', spec.ifname], spec.netns);
  // The static neighbor saves the first packet an ARP round (felix keeps it converged).
  const neigh = spec.addresses
    .filter((a) => !a.includes(':'))
    .map((a) => `neigh replace ${a.split('/')[0]} lladdr ${podMac} dev ${spec.hostIf} nud permanent`);
  if (neigh.length) await exec('ip', ['-batch', '-'], `${neigh.join('\n')}\n`);
  return { hostMac: HOST_SIDE_MAC, podMac };
}

/** Deletes the host end (the pod end goes with it); a missing device is not an error. */
export async function deleteVeth(hostIf: string): Promise<boolean> {
  if (!existsSync(`/proc/sys/net/ipv4/conf/${hostIf}`)) return false;
  try {
    await exec('ip', ['link', 'del', 'dev', hostIf]);
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
    await ipIn(spec.netns, ['-json', 'addr', 'show', 'dev', spec.ifname]),
  ) as IpAddrJson[];
  if (!link) throw new CniError(CniCode.NetlinkFailure, `${spec.ifname} is missing in ${spec.netns}`);
  const have = new Set(
    (link.addr_info ?? []).filter((a) => !a.local.startsWith('fe80')).map((a) => `${a.local}/${a.prefixlen}`),
  );
  for (const a of spec.addresses) {
    if (!have.has(a)) throw new CniError(CniCode.NetlinkFailure, `${spec.ifname} lacks address ${a}`);
  }
  if (spec.addresses.some((a) => !a.includes(':'))) {
    const routes = JSON.parse(await ipIn(spec.netns, ['-json', 'route', 'show', 'default'])) as {
      gateway?: string;
    }[];
    if (!routes.some((r) => r.gateway === GATEWAY_V4))
      throw new CniError(CniCode.NetlinkFailure, `no default route via ${GATEWAY_V4} in ${spec.netns}`);
  }
}
