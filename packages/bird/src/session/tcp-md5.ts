/**
 * TCP MD5 signatures (RFC 2385), the "password" of a BGP session, through Linux's
 * TCP_MD5SIG socket option. Node.js cannot set that option, so this file — the only one
 * that calls C — makes outgoing sockets itself (socket + setsockopt through the koffi FFI,
 * whose npm package ships prebuilt binaries) and hands the descriptor to `net.Socket({fd})`,
 * which connects it; on the listening socket it sets one key per peer address (Linux keys a
 * listener per peer; accepted connections inherit the key). A segment without the right
 * signature is dropped by the kernel: with a wrong or missing password no connection ever
 * completes, and nothing unsigned is sent where a key is set.
 *
 * koffi is loaded on the first use, so a speaker without passwords never loads it.
 */

import { createRequire } from 'node:module';
import { isIP, type Server, Socket } from 'node:net';
import { ipv4FromString, ipv6FromString } from 'bgp-parser-ts';

/** <netinet/tcp.h>: TCP_MD5SIG, TCP_MD5SIG_MAXKEYLEN; sizeof(struct tcp_md5sig). */
const TCP_MD5SIG = 14;
export const TCP_MD5SIG_MAXKEYLEN = 80;
const SOCKADDR_STORAGE = 128;
const OPT_SIZE = SOCKADDR_STORAGE + 8 + TCP_MD5SIG_MAXKEYLEN;
const AF_INET = 2;
const AF_INET6 = 10;
const IPPROTO_TCP = 6;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  close(fd: number): number;
  strerror(errnum: number): string;
  errno(): number;
}

let libc: Libc | undefined;
let unavailable: string | undefined;

/** The C functions, loaded once; throws (with the reason) when they cannot be. */
function c(): Libc {
  if (libc) return libc;
  if (unavailable) throw new Error(unavailable);
  try {
    if (process.platform !== 'linux') throw new Error(`not Linux (${process.platform})`);
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const lib = koffi.load('libc.so.6');
    libc = {
      socket: lib.func('int socket(int, int, int)'),
      setsockopt: lib.func('int setsockopt(int, int, int, const void *, uint32_t)'),
      close: lib.func('int close(int)'),
      strerror: lib.func('const char *strerror(int)'),
      errno: () => koffi.errno(),
    };
    return libc;
  } catch (e) {
    unavailable = `cannot call setsockopt from Node.js: ${(e as Error).message}`;
    throw new Error(unavailable);
  }
}

export class TcpMd5Error extends Error {
  override readonly name = 'TcpMd5Error';
}

/** Key bytes of a password; the kernel takes at most 80. */
export function md5Key(password: string): Buffer {
  const key = Buffer.from(password, 'utf8');
  if (key.length === 0) throw new TcpMd5Error('the password is empty');
  if (key.length > TCP_MD5SIG_MAXKEYLEN)
    throw new TcpMd5Error(
      `the password is ${key.length} bytes; TCP MD5 keys are at most ${TCP_MD5SIG_MAXKEYLEN}`,
    );
  return key;
}

/**
 * struct tcp_md5sig for `address` on a socket of `socketFamily`: sockaddr_storage (the
 * peer; an IPv4 peer of an IPv6 socket as ::ffff:a.b.c.d), flags 0, prefixlen 0, keylen,
 * ifindex 0, key[80]. An empty key deletes the peer's key.
 */
export function md5sigOption(socketFamily: 4 | 6, address: string, key: Buffer): Buffer {
  const fam = isIP(address);
  if (fam === 0) throw new TcpMd5Error(`${JSON.stringify(address)} is not an IP address`);
  if (fam === 6 && socketFamily === 4)
    throw new TcpMd5Error(`an IPv6 peer (${address}) cannot reach an IPv4 socket`);
  const b = Buffer.alloc(OPT_SIZE);
  if (socketFamily === 4) {
    b.writeUInt16LE(AF_INET, 0);
    b.writeUInt32BE(ipv4FromString(address), 4); // sin_port 0, sin_addr
  } else {
    b.writeUInt16LE(AF_INET6, 0);
    b.set(fam === 4 ? v4Mapped(address) : ipv6FromString(address.split('%')[0]!), 8); // port, flowinfo, sin6_addr
  }
  b.writeUInt16LE(key.length, SOCKADDR_STORAGE + 2);
  b.set(key, SOCKADDR_STORAGE + 8);
  return b;
}

/** An IPv4 address as the 16 bytes of ::ffff:a.b.c.d. */
const v4Mapped = (a: string) => ipv6FromString(`::ffff:${a}`);

function setKey(fd: number, socketFamily: 4 | 6, address: string, key: Buffer): void {
  const lib = c();
  const opt = md5sigOption(socketFamily, address, key);
  if (lib.setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, opt, opt.length) !== 0) {
    const errno = lib.errno();
    throw new TcpMd5Error(
      errno === 92 /* ENOPROTOOPT */
        ? 'this kernel has no TCP MD5 support (CONFIG_TCP_MD5SIG)'
        : `setsockopt(TCP_MD5SIG) failed: ${lib.strerror(errno)}`,
    );
  }
}

/**
 * Whether sessions can be signed here: loads the FFI and sets a key on a throw-away socket.
 * undefined when they can, else the reason.
 */
export function tcpMd5Unavailable(): string | undefined {
  try {
    const lib = c();
    const fd = lib.socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return `socket() failed: ${lib.strerror(lib.errno())}`;
    try {
      setKey(fd, 4, '127.0.0.1', md5Key('probe'));
    } finally {
      lib.close(fd);
    }
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * A TCP socket to `host`:`port` whose every segment is signed with `password`: made and
 * keyed here, connected by Node (from `localAddress` when given). Errors of the connect
 * itself arrive as the socket's 'error', as with net.connect.
 */
export function connectSigned(opts: {
  host: string;
  port: number;
  password: string;
  localAddress?: string | undefined;
}): Socket {
  const fam = isIP(opts.host);
  if (fam === 0) throw new TcpMd5Error(`${JSON.stringify(opts.host)} is not an IP address`);
  const key = md5Key(opts.password);
  const lib = c();
  const fd = lib.socket(fam === 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new TcpMd5Error(`socket() failed: ${lib.strerror(lib.errno())}`);
  let sock: Socket;
  try {
    setKey(fd, fam as 4 | 6, opts.host, key);
    // manualStart: no read on a socket that is not connected yet; Node starts reading
    // once the connect completes.
    sock = new Socket({ fd, manualStart: true } as ConstructorParameters<typeof Socket>[0]);
  } catch (e) {
    lib.close(fd);
    throw e;
  }
  const { host, port } = opts;
  try {
    return sock.connect(opts.localAddress ? { host, port, localAddress: opts.localAddress } : { host, port });
  } catch (e) {
    sock.destroy(); // closes the descriptor
    throw e;
  }
}

/**
 * Sets (a password) or removes (undefined) the key the listening `server` expects from
 * `address`. Connections accepted afterwards carry the key; a peer that signs with another
 * password, or not at all, is never accepted.
 */
export function setListenerPassword(server: Server, address: string, password: string | undefined): void {
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (fd === undefined || fd < 0) throw new TcpMd5Error('the listening socket has no descriptor');
  const bound = server.address();
  const family = typeof bound === 'object' && bound?.family === 'IPv6' ? 6 : 4;
  // An IPv6 peer never reaches an IPv4 listener: there is nothing to key.
  if (family === 4 && isIP(address) === 6) return;
  setKey(fd, family, address, password === undefined ? Buffer.alloc(0) : md5Key(password));
}

/** What the speaker needs of TCP MD5; a seam, so a host without it can be simulated. */
export interface TcpMd5 {
  /** undefined when sessions can be signed here, else why not. */
  unavailable(): string | undefined;
  setListenerPassword(server: Server, address: string, password: string | undefined): void;
}

let probed: { reason: string | undefined } | undefined;

/** This host's TCP MD5 (Linux TCP_MD5SIG through koffi); probed once, on first use. */
export const linuxTcpMd5: TcpMd5 = {
  unavailable: () => {
    probed ??= { reason: tcpMd5Unavailable() };
    return probed.reason;
  },
  setListenerPassword,
};
