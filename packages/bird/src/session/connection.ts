/** Thin TCP adapter: a socket plus BGP framing, reporting to one owner at a time. */
import { connect, Socket } from 'node:net';
import { BgpDecodeError, createContext, type DecodeContext, StreamDecoder } from 'bgp-parser-ts';
import { connectSigned } from './tcp-md5.js';

export interface ConnectionHandlers {
  /** Complete messages of one read, in order. */
  frames(frames: Uint8Array[]): void;
  /** The byte stream is not BGP any more (bad marker, length…): the session must end. */
  decodeError(e: BgpDecodeError): void;
  /** The socket closed or failed (not called after close()). */
  closed(err?: Error): void;
  /** An outgoing connect completed. */
  connected(): void;
}

const NOBODY: ConnectionHandlers = {
  frames: () => undefined,
  decodeError: () => undefined,
  closed: () => undefined,
  connected: () => undefined,
};

/** How long a closing connection may take to flush what was written (a NOTIFICATION). */
const FLUSH_MS = 1000;

export class Connection {
  readonly decoder = new StreamDecoder(createContext());
  /** Who is told about frames and the end; replaced when another owner takes the connection. */
  handlers: ConnectionHandlers = NOBODY;
  private closed = false;

  constructor(
    readonly socket: Socket,
    /** Initiated by us. */
    readonly outgoing: boolean,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (this.closed) return;
      let frames: Uint8Array[];
      try {
        frames = this.decoder.push(chunk);
      } catch (e) {
        if (e instanceof BgpDecodeError) this.handlers.decodeError(e);
        else this.finish(e as Error);
        return;
      }
      if (frames.length) this.handlers.frames(frames);
    });
    socket.on('error', (err) => this.finish(err));
    socket.on('close', () => this.finish());
  }

  /** With a password, every segment is signed with TCP MD5 (RFC 2385, tcp-md5.ts). */
  static connect(host: string, port: number, localAddress?: string, password?: string): Connection {
    const opts: { host: string; port: number; localAddress?: string } = { host, port };
    if (localAddress) opts.localAddress = localAddress;
    const sock = password === undefined ? connect(opts) : signedOrFailed({ ...opts, password });
    const c = new Connection(sock, true);
    sock.once('connect', () => {
      if (!c.closed) c.handlers.connected();
    });
    return c;
  }

  setContext(ctx: DecodeContext): void {
    this.decoder.setContext(ctx);
  }

  get remoteAddress(): string {
    return normalizeAddress(this.socket.remoteAddress ?? '');
  }

  get localAddress(): string {
    return normalizeAddress(this.socket.localAddress ?? '');
  }

  write(bytes: Uint8Array): boolean {
    if (this.closed || this.socket.destroyed) return false;
    return this.socket.write(bytes);
  }

  /**
   * Closes for good. A connect still in progress is destroyed at once, so an abandoned
   * attempt can never complete later (the peer would take it for a new session); an open
   * connection first flushes what was written (e.g. a NOTIFICATION), for at most a second.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers = NOBODY;
    const s = this.socket;
    if (s.connecting || s.readyState === 'opening') {
      s.destroy();
      return;
    }
    const t = setTimeout(() => s.destroy(), FLUSH_MS);
    t.unref();
    s.once('close', () => clearTimeout(t));
    s.end();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private finish(err?: Error): void {
    this.socket.destroy();
    if (this.closed) return;
    this.closed = true;
    const h = this.handlers;
    this.handlers = NOBODY;
    h.closed(err);
  }
}

/** A signed connect, or a socket that fails with the reason it could not be made (never unsigned). */
function signedOrFailed(opts: Parameters<typeof connectSigned>[0]): Socket {
  try {
    return connectSigned(opts);
  } catch (e) {
    const sock = new Socket();
    process.nextTick(() => sock.destroy(new Error(`TCP MD5: ${(e as Error).message}`)));
    return sock;
  }
}

/** "::ffff:10.0.0.1" → "10.0.0.1". */
export function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}
