/**
 * Routes over rtnetlink, from this process: no `ip` to start, nothing parsed from text.
 * Writes go many to a datagram, the kernel acknowledging only the last of each (it still
 * reports every failure), with a bounded number of datagrams in flight; dumps and lookups
 * are requests on the same socket, told apart by sequence number. The socket lives in the
 * network namespace of the process that opens it. A subpath of its own
 * (`@tricolor/linux/route-socket`): the package's index loads no native code.
 */
import { constants } from 'node:os';
import { RawNetlinkSocket } from 'netlink/dist/raw.js';
import {
  type DecodedRoute,
  decodeLink,
  decodeRoute,
  encodeDump,
  encodeRouteGet,
  encodeRouteWrite,
  errorOf,
  type NetlinkMessage,
  NLM_F_ACK,
  NLMSG_DONE,
  NLMSG_ERROR,
  NoSuchDeviceError,
  type RouteWrite,
  RTM_GETLINK,
  RTM_GETROUTE,
  RTM_NEWLINK,
  RTM_NEWROUTE,
  splitMessages,
} from './netlink-routes.js';

export type { DecodedRoute, RouteWrite };

const NETLINK_ROUTE = 0;
/**
 * Routes per datagram, and datagrams awaiting their acknowledgement. Every failure of the
 * writes in flight must fit the receive buffer (net.core.rmem_max caps it; ~1 KB per reply
 * as the kernel counts it): past it the kernel drops replies and marks the socket in error,
 * which the `netlink` package does not survive (it aborts the process). The kernel does the
 * work inside sendmsg, so more in flight would not write faster.
 */
const ROUTES_PER_DATAGRAM = 64;
const DATAGRAMS_IN_FLIGHT = 2;
/** Room for every failure of the datagrams in flight, and for dumps. */
const BUFFER_BYTES = 8 << 20;

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** A write the kernel refused: the route, and the errno's name and text. */
export interface RouteWriteFailure {
  write: RouteWrite;
  errno: number;
  code: string;
  message: string;
}

export interface RouteWriteResult {
  written: number;
  failures: RouteWriteFailure[];
}

const SEQ_MAX = 0x7fffffff;

/** What a request collects until its last reply. */
interface Pending {
  onMessage(m: NetlinkMessage): void;
  /** The reply that ends it: NLMSG_DONE for a dump, the NLMSG_ERROR / reply for the rest. */
  done(error?: Error): void;
  dump: boolean;
}

function describe(errno: number): { code: string; message: string } {
  const code = ERRNO_NAMES.get(errno) ?? `E${errno}`;
  return { code, message: `${code} (errno ${errno})` };
}

export class RouteSocket {
  private readonly socket: RawNetlinkSocket;
  private seq = 1;
  private readonly pending = new Map<number, Pending>();
  /** Writes in flight by sequence number, for the failures the kernel reports. */
  private readonly writes = new Map<number, { write: RouteWrite; result: RouteWriteResult }>();
  private links?: { byName: Map<string, number>; byIndex: Map<number, string> };
  private dumping: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor() {
    this.socket = new RawNetlinkSocket(NETLINK_ROUTE, {
      recvBufferSize: BUFFER_BYTES,
      sendBufferSize: BUFFER_BYTES,
    });
    this.socket.on('message', (buf) => this.receive(buf));
    // A receive error (ENOBUFS: replies dropped) leaves every request in flight without its
    // answer: they fail, and a write's routes are reported failed with it.
    this.socket.on('error', (e) => {
      for (const p of [...this.pending.values()]) p.done(e);
    });
    // An idle socket does not keep the process alive; a request in flight does (ref below).
    this.socket.unref();
  }

  /**
   * Writes and removes routes of protocol `protocol` in the main table, pulling `writes`
   * lazily: a million routes never sit in memory at once. A route through a device that
   * does not exist fails with ENODEV, as `ip` would.
   */
  async write(writes: Iterable<RouteWrite>, protocol: number): Promise<RouteWriteResult> {
    const result: RouteWriteResult = { written: 0, failures: [] };
    const inFlight: Promise<void>[] = [];
    let seqs: number[] = [];
    let datagram: Buffer[] = [];
    let lastHeader: Buffer | undefined;
    const flush = (): void => {
      if (!lastHeader) return;
      // The kernel acknowledges the last message only; it reports every failure anyway.
      lastHeader.writeUInt16LE(lastHeader.readUInt16LE(6) | NLM_F_ACK, 6);
      const sent = seqs;
      inFlight.push(
        this.request(sent[sent.length - 1]!, datagram, false)
          .catch((e: Error) => {
            for (const seq of sent) {
              const w = this.writes.get(seq);
              const code = (e as { code?: string }).code ?? 'EIO';
              if (w)
                result.failures.push({
                  write: w.write,
                  errno: constants.errno[code as keyof typeof constants.errno] ?? 0,
                  code,
                  message: e.message,
                });
            }
          })
          .finally(() => {
            for (const seq of sent) this.writes.delete(seq);
          }),
      );
      seqs = [];
      datagram = [];
      lastHeader = undefined;
    };
    await this.ensureLinks();
    const index = (dev: string) => this.links!.byName.get(dev);
    // A write that never reaches the kernel, reported as the kernel would report it.
    const refuse = (write: RouteWrite, code: 'EINVAL' | 'ENODEV', message: string) =>
      result.failures.push({ write, errno: constants.errno[code], code, message });
    for (const w of writes) {
      result.written++;
      let message: Buffer;
      const seq = this.nextSeq();
      try {
        message = encodeRouteWrite(w, protocol, seq, false, index);
      } catch (e) {
        if (!(e instanceof NoSuchDeviceError)) {
          // Not a route at all (a bad prefix): nothing to send; the rest go on.
          refuse(w, 'EINVAL', (e as Error).message);
          continue;
        }
        // A device may have appeared since the links were read: read them once more.
        await this.readLinks();
        try {
          message = encodeRouteWrite(w, protocol, seq, false, index);
        } catch {
          refuse(w, 'ENODEV', e.message);
          continue;
        }
      }
      this.writes.set(seq, { write: w, result });
      seqs.push(seq);
      datagram.push(message);
      lastHeader = message;
      if (seqs.length < ROUTES_PER_DATAGRAM) continue;
      flush();
      if (inFlight.length >= DATAGRAMS_IN_FLIGHT) await inFlight.shift();
    }
    flush();
    await Promise.all(inFlight);
    return result;
  }

  /**
   * Every route of every table, both families, one by one as the kernel sends them. The
   * links are read first, so every device has its name (a device newer than the route dump
   * itself shows as its index).
   */
  async eachRoute(each: (r: DecodedRoute) => void): Promise<void> {
    await this.readLinks();
    const name = (i: number): string => this.links!.byIndex.get(i) ?? String(i);
    await this.dump(RTM_GETROUTE, (m) => {
      if (m.type === RTM_NEWROUTE) each(decodeRoute(m.data, name));
    });
  }

  /** The device through which the kernel reaches `address`; undefined when unreachable. */
  deviceFor(address: string): Promise<string | undefined> {
    return this.lookUpDevice(address, false);
  }

  private async lookUpDevice(address: string, linksRead: boolean): Promise<string | undefined> {
    await this.ensureLinks();
    let route: DecodedRoute | undefined;
    const seq = this.nextSeq();
    try {
      await this.request(seq, encodeRouteGet(address, seq), false, (m) => {
        if (m.type === RTM_NEWROUTE) route = decodeRoute(m.data, (i) => this.links!.byIndex.get(i) ?? '');
      });
    } catch {
      return undefined;
    }
    if (route?.dev === '' && !linksRead) {
      // A device newer than our link list: read it once more.
      await this.readLinks();
      return this.lookUpDevice(address, true);
    }
    return route?.dev;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) p.done(new Error('route socket closed'));
    this.pending.clear();
    this.socket.close();
  }

  private nextSeq(): number {
    const s = this.seq;
    this.seq = this.seq >= SEQ_MAX ? 1 : this.seq + 1;
    return s;
  }

  private async ensureLinks(): Promise<void> {
    if (!this.links) await this.readLinks();
  }

  private async readLinks(): Promise<void> {
    const byName = new Map<string, number>();
    const byIndex = new Map<number, string>();
    await this.dump(RTM_GETLINK, (m) => {
      if (m.type !== RTM_NEWLINK) return;
      const l = decodeLink(m.data);
      if (!l) return;
      byName.set(l.name, l.index);
      byIndex.set(l.index, l.name);
    });
    this.links = { byName, byIndex };
  }

  /** One dump at a time per socket (the kernel refuses a second with EBUSY). */
  private dump(
    type: typeof RTM_GETROUTE | typeof RTM_GETLINK,
    onMessage: (m: NetlinkMessage) => void,
  ): Promise<void> {
    const run = this.dumping.then(() => {
      const seq = this.nextSeq();
      return this.request(seq, encodeDump(type, seq), true, onMessage);
    });
    this.dumping = run.catch(() => undefined);
    return run;
  }

  /** Sends one datagram and settles on the reply that ends request `seq`. */
  private request(
    seq: number,
    datagram: Buffer | Buffer[],
    dump: boolean,
    onMessage: (m: NetlinkMessage) => void = () => {},
  ): Promise<void> {
    if (this.closed) return Promise.reject(new Error('route socket closed'));
    return new Promise<void>((resolve, reject) => {
      this.socket.ref();
      this.pending.set(seq, {
        onMessage,
        dump,
        done: (error) => {
          this.pending.delete(seq);
          if (!this.pending.size) this.socket.unref();
          if (error) reject(error);
          else resolve();
        },
      });
      this.socket.send(Array.isArray(datagram) ? Buffer.concat(datagram) : datagram, {}, (error) => {
        if (error) this.pending.get(seq)?.done(error);
      });
    });
  }

  private receive(buf: Buffer): void {
    for (const m of splitMessages(buf)) {
      const errno = m.type === NLMSG_ERROR ? errorOf(m) : 0;
      const write = m.type === NLMSG_ERROR ? this.writes.get(m.seq) : undefined;
      if (write && errno) write.result.failures.push({ write: write.write, errno, ...describe(errno) });
      const p = this.pending.get(m.seq);
      if (!p) continue;
      if (m.type === NLMSG_ERROR) {
        // A write's datagram ends with its acknowledged message, whether that one failed or not.
        if (errno && !write)
          p.done(Object.assign(new Error(describe(errno).message), { errno, code: describe(errno).code }));
        else p.done();
      } else if (m.type === NLMSG_DONE) {
        p.done();
      } else {
        p.onMessage(m);
        if (!p.dump) p.done();
      }
    }
  }
}
