import { HEADER_LENGTH } from './constants.js';
import { DEFAULT_CONTEXT, type DecodeContext } from './context.js';
import { BgpDecodeError } from './errors.js';
import { decodeHeader } from './header.js';
import { type BgpMessage, decodeMessageAt } from './messages/index.js';

/**
 * Cuts a TCP byte stream into BGP messages. Feed it every chunk the socket delivers;
 * it returns the complete messages (header included) found so far and keeps partial ones.
 * The header (marker 1/1, length 1/2, type 1/3) is checked as soon as it is complete, so a
 * desynchronised stream fails fast. After an error every further push rethrows it.
 *
 * Frames are views into the pushed chunk when a message lies entirely inside one chunk
 * (no copy), so do not reuse chunk buffers while their frames are in use.
 */
export class StreamDecoder {
  private ctx: DecodeContext;
  private pending: Uint8Array = new Uint8Array(0);
  private pendingLen = 0;
  private failed: BgpDecodeError | undefined;

  constructor(ctx: DecodeContext = DEFAULT_CONTEXT) {
    this.ctx = ctx;
  }

  /** Switches the context, e.g. to allow 65535-octet messages once Extended Message is negotiated. */
  setContext(ctx: DecodeContext): void {
    this.ctx = ctx;
  }

  get context(): DecodeContext {
    return this.ctx;
  }

  /** Octets buffered that do not yet form a complete message. */
  get buffered(): number {
    return this.pendingLen;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failed) throw this.failed;
    const frames: Uint8Array[] = [];
    try {
      let buf: Uint8Array;
      let end: number;
      if (this.pendingLen === 0) {
        buf = chunk;
        end = chunk.length;
      } else {
        this.append(chunk);
        buf = this.pending;
        end = this.pendingLen;
      }
      let off = 0;
      while (end - off >= HEADER_LENGTH) {
        const { length } = decodeHeader(buf, off, this.ctx);
        if (end - off < length) break;
        frames.push(buf === chunk ? buf.subarray(off, off + length) : buf.slice(off, off + length));
        off += length;
      }
      const rest = end - off;
      if (buf === chunk) {
        if (rest > 0) {
          this.pendingLen = 0;
          this.append(chunk.subarray(off));
        }
      } else {
        this.pending.copyWithin(0, off, end);
        this.pendingLen = rest;
      }
    } catch (e) {
      if (e instanceof BgpDecodeError) this.failed = e;
      throw e;
    }
    return frames;
  }

  /** Pushes a chunk and decodes each complete message with the current context. */
  pushMessages(chunk: Uint8Array): BgpMessage[] {
    return this.push(chunk).map((f) => decodeMessageAt(f, 0, this.ctx).message);
  }

  private append(chunk: Uint8Array): void {
    const need = this.pendingLen + chunk.length;
    if (need > this.pending.length) {
      const next = new Uint8Array(Math.max(need, this.pending.length * 2, 4096));
      next.set(this.pending.subarray(0, this.pendingLen));
      this.pending = next;
    }
    this.pending.set(chunk, this.pendingLen);
    this.pendingLen = need;
  }
}
