/** Thin TCP adapter: a socket plus BGP framing. Emits 'frames', 'decodeError', 'connected', 'closed'. */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { BgpDecodeError, createContext, type DecodeContext, StreamDecoder } from 'bgp-parser-ts';

export class Connection extends EventEmitter {
  readonly decoder = new StreamDecoder(createContext());
  private closed = false;

  constructor(
    readonly socket: Socket,
    /** Initiated by us. */
    readonly outgoing: boolean,
  ) {
    super();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (this.closed) return;
      let frames: Uint8Array[];
      try {
        frames = this.decoder.push(chunk);
      } catch (e) {
        if (e instanceof BgpDecodeError) this.emit('decodeError', e);
        else this.emit('closed', e as Error);
        return;
      }
      if (frames.length) this.emit('frames', frames);
    });
    socket.on('error', (err) => this.finish(err));
    socket.on('close', () => this.finish());
  }

  static connect(host: string, port: number, localAddress?: string): Connection {
    const opts: { host: string; port: number; localAddress?: string } = { host, port };
    if (localAddress) opts.localAddress = localAddress;
    const sock = connect(opts);
    const c = new Connection(sock, true);
    sock.once('connect', () => c.emit('connected'));
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

  /** Flushes what was written (e.g. a NOTIFICATION) and closes. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.removeAllListeners('frames');
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private finish(err?: Error): void {
    if (this.closed) {
      this.socket.destroy();
      return;
    }
    this.closed = true;
    this.socket.destroy();
    this.emit('closed', err);
  }
}

/** "::ffff:10.0.0.1" → "10.0.0.1". */
export function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}
