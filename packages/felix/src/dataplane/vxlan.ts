import type { IpipState, VxlanState } from '../calc/desired-state.js';
import { cmd, ipJson } from './exec.js';

interface IpLink {
  ifname: string;
  mtu: number;
  address?: string;
  flags?: string[];
  operstate?: string;
  linkinfo?: {
    info_kind?: string;
    info_data?: { id?: number; port?: number; local?: string; link?: string };
  };
}

interface IpAddr {
  ifname: string;
  mtu: number;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

export interface LinkState {
  name: string;
  kind?: string;
  mtu: number;
  mac?: string;
  up: boolean;
  vni?: number;
  port?: number;
  local?: string;
  addresses: string[];
}

/** Reads one link with its details and IPv4 addresses; undefined when absent. */
export async function readLink(name: string): Promise<LinkState | undefined> {
  const links = await ipJson<IpLink>(['-d', 'link', 'show', 'dev', name]).catch(() => [] as IpLink[]);
  const l = links[0];
  if (!l) return undefined;
  const addrs = await ipJson<IpAddr>(['-4', 'addr', 'show', 'dev', name]).catch(() => [] as IpAddr[]);
  const out: LinkState = {
    name,
    mtu: l.mtu,
    up: Boolean(l.flags?.includes('UP')),
    addresses: (addrs[0]?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`),
  };
  if (l.linkinfo?.info_kind) out.kind = l.linkinfo.info_kind;
  if (l.address) out.mac = l.address.toLowerCase();
  const d = l.linkinfo?.info_data;
  if (d?.id !== undefined) out.vni = d.id;
  if (d?.port !== undefined) out.port = d.port;
  if (d?.local) out.local = d.local;
  return out;
}

/** The interface holding an address, with its MTU: the underlay of the tunnel. */
export async function findInterfaceWithAddress(
  ip: string,
): Promise<{ name: string; mtu: number } | undefined> {
  const rows = await ipJson<IpAddr>(['-4', 'addr', 'show']);
  for (const r of rows) if (r.addr_info?.some((a) => a.local === ip)) return { name: r.ifname, mtu: r.mtu };
  return undefined;
}

/**
 * Commands (each an `ip` argv) that make the VXLAN device match: recreate it when its
 * identity (VNI, port, source, MAC) differs, then MTU, up, and exactly the tunnel address.
 */
export function vxlanCommands(
  cur: LinkState | undefined,
  want: VxlanState['device'],
  underlay: { name: string; mtu: number } | undefined,
): string[][] {
  const out: string[][] = [];
  const mtu = want.mtu ?? (underlay ? underlay.mtu - 50 : 1450);
  let c = cur;
  if (c && (c.kind !== 'vxlan' || c.vni !== want.vni || c.port !== want.port || c.local !== want.localIP)) {
    out.push(['link', 'del', want.name]);
    c = undefined;
  }
  if (!c) {
    const add = ['link', 'add', want.name, 'address', want.mac, 'type', 'vxlan', 'id', String(want.vni)];
    add.push('local', want.localIP, 'dstport', String(want.port), 'nolearning');
    if (underlay) add.push('dev', underlay.name);
    out.push(add);
  } else if (c.mac !== want.mac) {
    out.push(['link', 'set', want.name, 'address', want.mac]);
  }
  if (!c || c.mtu !== mtu) out.push(['link', 'set', want.name, 'mtu', String(mtu)]);
  if (!c?.up) out.push(['link', 'set', want.name, 'up']);
  const wantAddr = want.address ? `${want.address}/32` : undefined;
  for (const a of c?.addresses ?? []) if (a !== wantAddr) out.push(['addr', 'del', a, 'dev', want.name]);
  if (wantAddr && !c?.addresses.includes(wantAddr)) out.push(['addr', 'replace', wantAddr, 'dev', want.name]);
  return out;
}

/** Commands for tunl0 (IPIP): it exists once the ipip module is loaded; felix sets MTU, up and address. */
export function ipipCommands(
  cur: LinkState | undefined,
  want: IpipState,
  underlay: { mtu: number } | undefined,
): string[][] {
  const out: string[][] = [];
  const mtu = want.mtu ?? (underlay ? underlay.mtu - 20 : 1480);
  if (!cur) out.push(['link', 'add', 'name', want.device, 'type', 'ipip']);
  if (!cur || cur.mtu !== mtu) out.push(['link', 'set', want.device, 'mtu', String(mtu)]);
  if (!cur?.up) out.push(['link', 'set', want.device, 'up']);
  const wantAddr = want.address ? `${want.address}/32` : undefined;
  for (const a of cur?.addresses ?? []) if (a !== wantAddr) out.push(['addr', 'del', a, 'dev', want.device]);
  if (wantAddr && !cur?.addresses.includes(wantAddr))
    out.push(['addr', 'replace', wantAddr, 'dev', want.device]);
  return out;
}

interface BridgeFdb {
  mac: string;
  dst?: string;
  ifname?: string;
  state?: string;
  flags?: string[];
}

/** Static FDB entries of the VXLAN device (remote VTEP MAC → underlay address). */
export async function readFdb(dev: string): Promise<{ mac: string; dst: string }[]> {
  const { stdout } = await cmd('bridge', ['-json', 'fdb', 'show', 'dev', dev], { allowFail: true });
  const rows = stdout.trim() ? (JSON.parse(stdout) as BridgeFdb[]) : [];
  return rows
    .filter((r) => r.dst && r.mac !== '00:00:00:00:00:00')
    .map((r) => ({ mac: r.mac.toLowerCase(), dst: r.dst! }));
}

/** `bridge -batch` lines making the device's FDB exactly `want`. */
export function diffFdb(
  dev: string,
  cur: { mac: string; dst: string }[],
  want: { mac: string; dst: string }[],
): string[] {
  const out: string[] = [];
  const wantKeys = new Set(want.map((w) => `${w.mac}|${w.dst}`));
  const curKeys = new Set(cur.map((c) => `${c.mac}|${c.dst}`));
  for (const c of cur)
    if (!wantKeys.has(`${c.mac}|${c.dst}`)) out.push(`fdb del ${c.mac} dev ${dev} dst ${c.dst} self`);
  for (const w of want)
    if (!curKeys.has(`${w.mac}|${w.dst}`))
      out.push(`fdb append ${w.mac} dev ${dev} dst ${w.dst} self permanent`);
  return out;
}

/** Applies the VXLAN device and FDB; removes the device when VXLAN is off. Returns whether anything changed. */
export async function applyVxlan(want: VxlanState | undefined, deviceName: string): Promise<boolean> {
  const cur = await readLink(deviceName);
  if (!want) {
    if (cur) await cmd('ip', ['link', 'del', deviceName]);
    return Boolean(cur);
  }
  const underlay = await findInterfaceWithAddress(want.device.localIP);
  const cmds = vxlanCommands(cur, want.device, underlay);
  for (const c of cmds) await cmd('ip', c);
  const fdb = diffFdb(deviceName, await readFdb(deviceName), want.fdb);
  if (fdb.length) await cmd('bridge', ['-force', '-batch', '-'], { input: `${fdb.join('\n')}\n` });
  return cmds.length + fdb.length > 0;
}

/** Applies tunl0 where the kernel has IPIP; returns false (and does nothing) where it has not. */
export async function applyIpip(
  want: IpipState | undefined,
  underlayIP: string | undefined,
): Promise<boolean> {
  if (!want) return true;
  const cur = await readLink(want.device);
  const underlay = underlayIP ? await findInterfaceWithAddress(underlayIP) : undefined;
  const cmds = ipipCommands(cur, want, underlay);
  for (const c of cmds) {
    const r = await cmd('ip', c, { allowFail: true });
    if (r.code !== 0) return false;
  }
  return true;
}
