/**
 * rtnetlink route messages, encoded and decoded: the pure half of the route socket
 * (route-socket.ts), whose socket is the `netlink` package's. One message per route written
 * or removed (many share a datagram), route and link dumps, route lookups, and the replies.
 * Layouts are the kernel's (rtnetlink(7)): nlmsghdr, rtmsg / ifinfomsg, 4-byte aligned
 * attributes.
 */
import { isIPv4 } from 'node:net';
import { ipv4FromString, ipv6FromString, ipv6ToString, parsePrefix } from 'bgp-parser-ts';
import type { KernelRoute, NextHop } from './routes.js';

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const RTM_NEWLINK = 16;
export const RTM_GETLINK = 18;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_DUMP = 0x300;
export const NLM_F_CREATE = 0x400;

const AF_INET = 2;
const AF_INET6 = 10;
const RT_TABLE_MAIN = 254;
const RTN_UNICAST = 1;
const RT_SCOPE_UNIVERSE = 0;
const RT_SCOPE_NOWHERE = 255;
const RTNH_F_ONLINK = 4;
const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_MULTIPATH = 9;
const RTA_TABLE = 15;
const RTA_VIA = 18;

/** A route to write (`hops`) or remove (none) in the main table, under one protocol number. */
export interface RouteWrite {
  prefix: string;
  hops?: readonly NextHop[];
}

/** One netlink message as read off the socket. */
export interface NetlinkMessage {
  type: number;
  flags: number;
  seq: number;
  data: Buffer;
}

/** The messages of one datagram (the kernel pads each to 4 bytes). */
export function splitMessages(buf: Buffer): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  let off = 0;
  while (off + 16 <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < 16 || off + len > buf.length)
      throw new Error(`netlink: message length ${len} at ${off} of ${buf.length}`);
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      data: buf.subarray(off + 16, off + len),
    });
    off += (len + 3) & ~3;
  }
  return out;
}

/** The errno of an NLMSG_ERROR (0 for an ACK), as a positive number. */
export function errorOf(m: NetlinkMessage): number {
  return m.data.length >= 4 ? -m.data.readInt32LE(0) : 0;
}

/** Network-order bytes of an address of a known family. */
export function addressBytes(addr: string, family: 4 | 6): Buffer {
  if (family === 6) return Buffer.from(ipv6FromString(addr));
  const b = Buffer.alloc(4);
  b.writeUInt32BE(ipv4FromString(addr));
  return b;
}

/** Text of network-order address bytes (IPv6 in RFC 5952 form). */
export function addressText(b: Buffer): string {
  return b.length === 4 ? `${b[0]}.${b[1]}.${b[2]}.${b[3]}` : ipv6ToString(b);
}

/** An attribute's length with its 4-byte padding. */
const padded = (n: number) => (n + 3) & ~3;

/** The gateway attribute of a next hop: RTA_GATEWAY, or RTA_VIA for an IPv6 next hop of an IPv4 route (RFC 5549). */
function gatewayBytes(
  routeFamily: 4 | 6,
  via: string,
): { type: number; family: 4 | 6; bytes: Buffer; size: number } {
  const key = `${routeFamily}${via}`;
  const hit = gatewayCache.get(key);
  if (hit) return hit;
  if (gatewayCache.size >= 4096) gatewayCache.clear();
  const g = gatewayOfFamily(routeFamily, via);
  gatewayCache.set(key, g);
  return g;
}

function gatewayOfFamily(
  routeFamily: 4 | 6,
  via: string,
): { type: number; family: 4 | 6; bytes: Buffer; size: number } {
  const family = isIPv4(via) ? 4 : 6;
  const bytes = addressBytes(via, family);
  return family === routeFamily
    ? { type: RTA_GATEWAY, family, bytes, size: 4 + bytes.length }
    : { type: RTA_VIA, family, bytes, size: padded(4 + 2 + bytes.length) };
}

function putGateway(b: Buffer, off: number, g: ReturnType<typeof gatewayBytes>): number {
  if (g.type === RTA_GATEWAY) return putAttr(b, off, RTA_GATEWAY, g.bytes);
  b.writeUInt16LE(4 + 2 + g.bytes.length, off);
  b.writeUInt16LE(RTA_VIA, off + 2);
  b.writeUInt16LE(AF_INET6, off + 4);
  g.bytes.copy(b, off + 6);
  return off + g.size;
}

function putAttr(b: Buffer, off: number, type: number, data: Buffer): number {
  b.writeUInt16LE(4 + data.length, off);
  b.writeUInt16LE(type, off + 2);
  data.copy(b, off + 4);
  return off + padded(4 + data.length);
}

/** `a.b.c.d/len` read character by character (undefined if it is not one): the writer's hot path. */
function v4Prefix(prefix: string): { bytes: Buffer; len: number } | undefined {
  const bytes = Buffer.allocUnsafe(4);
  let value = 0;
  let digits = 0;
  let part = 0;
  for (let n = 0; n < prefix.length; n++) {
    const c = prefix.charCodeAt(n);
    if (c >= 48 && c <= 57) {
      if (++digits > 3) return undefined;
      value = value * 10 + c - 48;
    } else if ((c === 46 && part < 3) || (c === 47 && part === 3)) {
      if (!digits || value > 255) return undefined;
      bytes[part++] = value;
      value = 0;
      digits = 0;
    } else return undefined;
  }
  if (part !== 4 || !digits || digits > 2 || value > 32) return undefined;
  return { bytes, len: value };
}

/** Gateway bytes by next-hop text: few next hops serve a whole table. */
const gatewayCache = new Map<string, { type: number; family: 4 | 6; bytes: Buffer; size: number }>();

/**
 * The RTM_NEWROUTE (replace) or RTM_DELROUTE message for one route, in one buffer.
 * `ifindex` turns a device name into its index, undefined when there is no such device.
 * Next hops are on-link: the speaker resolved their device itself. Written by hand rather
 * than with the `netlink` package's encoders, which allocate per attribute: this is the
 * path of a full table.
 */
export function encodeRouteWrite(
  w: RouteWrite,
  protocol: number,
  seq: number,
  ack: boolean,
  ifindex: (dev: string) => number | undefined,
): Buffer {
  let family: 4 | 6 = 4;
  let dst: Buffer;
  let len: number;
  const v4 = v4Prefix(w.prefix);
  if (v4) ({ bytes: dst, len } = v4);
  else {
    const p = parsePrefix(w.prefix);
    if (p.afi === 1) throw new TypeError(`bad prefix ${w.prefix}`);
    family = 6;
    dst = Buffer.from(p.addr);
    len = p.len;
  }
  const hops = w.hops ?? [];
  const gateways = hops.map((h) => gatewayBytes(family, h.via));
  const indexes = hops.map((h) => {
    const i = ifindex(h.dev);
    if (i === undefined) throw new NoSuchDeviceError(h.dev);
    return i;
  });
  let size = 16 + 12 + 4 + dst.length;
  if (hops.length === 1) size += gateways[0]!.size + 8;
  else if (hops.length > 1) size += 4 + gateways.reduce((n, g) => n + 8 + g.size, 0);
  const b = Buffer.alloc(size);
  b.writeUInt32LE(size, 0);
  b.writeUInt16LE(w.hops ? RTM_NEWROUTE : RTM_DELROUTE, 4);
  b.writeUInt16LE(NLM_F_REQUEST | (ack ? NLM_F_ACK : 0) | (w.hops ? NLM_F_CREATE | NLM_F_REPLACE : 0), 6);
  b.writeUInt32LE(seq, 8);
  // rtmsg: a removal matches any scope and type, as `ip route del` does.
  b[16] = family === 4 ? AF_INET : AF_INET6;
  b[17] = len;
  b[20] = RT_TABLE_MAIN;
  b[21] = protocol;
  b[22] = w.hops ? RT_SCOPE_UNIVERSE : RT_SCOPE_NOWHERE;
  b[23] = w.hops ? RTN_UNICAST : 0;
  if (hops.length === 1) b.writeUInt32LE(RTNH_F_ONLINK, 24);
  let off = putAttr(b, 28, RTA_DST, dst);
  if (hops.length === 1) {
    off = putGateway(b, off, gateways[0]!);
    const oif = Buffer.allocUnsafe(4);
    oif.writeUInt32LE(indexes[0]!);
    off = putAttr(b, off, RTA_OIF, oif);
  } else if (hops.length > 1) {
    b.writeUInt16LE(size - off, off);
    b.writeUInt16LE(RTA_MULTIPATH, off + 2);
    off += 4;
    hops.forEach((_, i) => {
      // struct rtnexthop: length, flags, hops, ifindex; its gateway attribute follows.
      b.writeUInt16LE(8 + gateways[i]!.size, off);
      b[off + 2] = RTNH_F_ONLINK;
      b.writeInt32LE(indexes[i]!, off + 4);
      off = putGateway(b, off + 8, gateways[i]!);
    });
  }
  return b;
}

/** Thrown for a next hop on a device that does not exist (ip: "Cannot find device"). */
export class NoSuchDeviceError extends Error {
  constructor(readonly dev: string) {
    super(`Cannot find device "${dev}"`);
  }
}

/** A netlink message of a type and flags with a body, in one buffer. */
function message(type: number, flags: number, seq: number, body: Buffer): Buffer {
  const b = Buffer.alloc(16 + body.length);
  b.writeUInt32LE(b.length, 0);
  b.writeUInt16LE(type, 4);
  b.writeUInt16LE(flags, 6);
  b.writeUInt32LE(seq, 8);
  body.copy(b, 16);
  return b;
}

/** A request for a dump of every route (both families) or every link. */
export function encodeDump(type: typeof RTM_GETROUTE | typeof RTM_GETLINK, seq: number): Buffer {
  // An empty rtmsg (12 bytes) or ifinfomsg (16): every family.
  return message(type, NLM_F_REQUEST | NLM_F_DUMP, seq, Buffer.alloc(type === RTM_GETROUTE ? 12 : 16));
}

/** `ip route get <address>`: the route the kernel would use toward one address. */
export function encodeRouteGet(address: string, seq: number): Buffer {
  const family = isIPv4(address) ? 4 : 6;
  const dst = addressBytes(address, family);
  const body = Buffer.alloc(12 + 4 + dst.length);
  body[0] = family === 4 ? AF_INET : AF_INET6;
  body[1] = dst.length * 8;
  putAttr(body, 12, RTA_DST, dst);
  return message(RTM_GETROUTE, NLM_F_REQUEST, seq, body);
}

/** The name and index of a link from an RTM_NEWLINK. */
export function decodeLink(data: Buffer): { index: number; name: string } | undefined {
  const index = data.readInt32LE(4);
  const name = attributes(data.subarray(16)).get(3 /* IFLA_IFNAME */);
  return name ? { index, name: name.toString('utf8').replace(/\0+$/, '') } : undefined;
}

/** A route of an RTM_NEWROUTE, as `eachRoute` reports routes; the table is a number. */
export interface DecodedRoute extends KernelRoute {
  table: number;
  /** The protocol number (`protocol` holds its name where the contract knows it). */
  protocolNumber: number;
}

const ROUTE_TYPES = [
  'unspec',
  'unicast',
  'local',
  'broadcast',
  'anycast',
  'multicast',
  'blackhole',
  'unreachable',
  'prohibit',
  'throw',
  'nat',
  'xresolve',
];

/** An RTM_NEWROUTE, with device indexes turned into names by `devName`. */
export function decodeRoute(data: Buffer, devName: (index: number) => string): DecodedRoute {
  const family = data[0] === AF_INET ? 4 : 6;
  const dstLen = data[1]!;
  const attrs = attributes(data.subarray(12));
  const tableAttr = attrs.get(RTA_TABLE);
  const dst = attrs.get(1);
  const zero = Buffer.alloc(family === 4 ? 4 : 16);
  const route: DecodedRoute = {
    family,
    dst: `${addressText(dst ?? zero)}/${dstLen}`,
    type: ROUTE_TYPES[data[7]!] ?? String(data[7]),
    protocol: String(data[5]),
    protocolNumber: data[5]!,
    table: tableAttr ? tableAttr.readUInt32LE(0) : data[4]!,
  };
  const scope = data[6];
  if (scope === 253) route.scope = 'link';
  else if (scope === 254) route.scope = 'host';
  const oif = attrs.get(4);
  if (oif) route.dev = devName(oif.readInt32LE(0));
  const gw = gatewayOf(attrs);
  if (gw) route.via = gw;
  if (data.readUInt32LE(8) & RTNH_F_ONLINK) route.onlink = true;
  const metric = attrs.get(6);
  if (metric) route.metric = metric.readUInt32LE(0);
  const mp = attrs.get(9);
  if (mp) {
    const hops: NextHop[] = [];
    for (let off = 0; off + 8 <= mp.length; ) {
      const len = mp.readUInt16LE(off);
      if (len < 8) break;
      const hop: NextHop = {
        via: gatewayOf(attributes(mp.subarray(off + 8, off + len))) ?? '',
        dev: devName(mp.readInt32LE(off + 4)),
      };
      if (mp[off + 2]! & RTNH_F_ONLINK) hop.onlink = true;
      hops.push(hop);
      off += (len + 3) & ~3;
    }
    route.nexthops = hops;
  }
  return route;
}

function gatewayOf(attrs: Map<number, Buffer>): string | undefined {
  const gw = attrs.get(5);
  if (gw) return addressText(gw);
  const via = attrs.get(18);
  return via && via.length > 2 ? addressText(via.subarray(2)) : undefined;
}

/** A message's attributes by type (the last of a repeated type wins). */
export function attributes(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (let off = 0; off + 4 <= buf.length; ) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > buf.length) break;
    out.set(buf.readUInt16LE(off + 2) & 0x3fff, buf.subarray(off + 4, off + len));
    off += (len + 3) & ~3;
  }
  return out;
}
