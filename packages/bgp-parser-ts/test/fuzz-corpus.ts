import {
  BgpDecodeError,
  createContext,
  type DecodeContext,
  decodeMessage,
  encodeMessage,
  StreamDecoder,
} from '../src/index.js';

/** A small, fast, seeded PRNG (xorshift32) so fuzz runs are reproducible. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number {
    return this.next() % n;
  }
}

export const FUZZ_CONTEXTS: DecodeContext[] = [
  createContext(),
  createContext({ fourOctetAs: false }),
  createContext({ addPath: 'all' }),
  createContext({ fourOctetAs: false, addPath: 'all', extendedMessage: true }),
  createContext({ extendedMessage: true }),
];

function setLength(m: Uint8Array): void {
  if (m.length >= 18) {
    m[16] = (m.length >> 8) & 0xff;
    m[17] = m.length & 0xff;
  }
}

/**
 * One fuzz input derived from the seed corpus: random bytes behind a valid header, or a
 * mutated seed (bit flips, byte overwrites, insertions, deletions, truncation), usually
 * with the length field patched so the mutation reaches the body decoders.
 */
export function fuzzInput(rng: Rng, seeds: readonly Uint8Array[]): Uint8Array {
  const mode = rng.int(10);
  if (mode === 0) {
    const len = 19 + rng.int(120);
    const m = new Uint8Array(len);
    for (let i = 0; i < len; i++) m[i] = rng.next() & 0xff;
    m.fill(0xff, 0, 16);
    m[18] = 1 + rng.int(5);
    setLength(m);
    return m;
  }
  const seed = seeds[rng.int(seeds.length)]!;
  let m: Uint8Array = seed.slice();
  const edits = 1 + rng.int(4);
  for (let e = 0; e < edits; e++) {
    const op = rng.int(6);
    const at = 16 + rng.int(Math.max(1, m.length - 16));
    if (op === 0 && m.length > 0) m[at % m.length]! ^= 1 << rng.int(8);
    else if (op === 1 && m.length > 0) m[at % m.length] = rng.next() & 0xff;
    else if (op === 2) m = new Uint8Array([...m.subarray(0, at), rng.next() & 0xff, ...m.subarray(at)]);
    else if (op === 3 && m.length > 19) m = new Uint8Array([...m.subarray(0, at), ...m.subarray(at + 1)]);
    else if (op === 4) m = m.slice(0, 19 + rng.int(Math.max(1, m.length - 18)));
    else if (m.length > 20) m[19 + rng.int(m.length - 19)] = [0, 0xff, 0x80, 0x7f, 0x20, 0x10][rng.int(6)]!;
  }
  if (rng.int(8) !== 0) setLength(m);
  return m;
}

export interface FuzzStats {
  cases: number;
  decoded: number;
  typedErrors: number;
  otherExceptions: number;
  roundTripFailures: number;
  firstFailure?: string;
}

/**
 * Decodes `cases` fuzz inputs. Anything thrown that is not a BgpDecodeError counts as
 * an "other exception"; a decodable input that does not re-encode to the same octets
 * counts as a round-trip failure.
 */
export function runFuzz(cases: number, seeds: readonly Uint8Array[], seed = 1): FuzzStats {
  const rng = new Rng(seed);
  const stats: FuzzStats = { cases, decoded: 0, typedErrors: 0, otherExceptions: 0, roundTripFailures: 0 };
  for (let c = 0; c < cases; c++) {
    const input = fuzzInput(rng, seeds);
    const ctx = FUZZ_CONTEXTS[c % FUZZ_CONTEXTS.length]!;
    try {
      const msg = decodeMessage(input, ctx);
      stats.decoded++;
      const again = encodeMessage(msg, ctx);
      if (Buffer.compare(again, input) !== 0) {
        stats.roundTripFailures++;
        stats.firstFailure ??= `round trip: ${Buffer.from(input).toString('hex')}`;
      }
    } catch (e) {
      if (e instanceof BgpDecodeError) stats.typedErrors++;
      else {
        stats.otherExceptions++;
        stats.firstFailure ??= `${(e as Error)?.stack}: ${Buffer.from(input).toString('hex')}`;
      }
    }
    if (c % 64 === 0) {
      // The stream decoder on the same input, cut at a random point.
      const sd = new StreamDecoder(ctx);
      const cut = rng.int(input.length + 1);
      try {
        sd.pushMessages(input.subarray(0, cut));
        sd.pushMessages(input.subarray(cut));
      } catch (e) {
        if (!(e instanceof BgpDecodeError)) {
          stats.otherExceptions++;
          stats.firstFailure ??= `stream: ${(e as Error)?.stack}`;
        }
      }
    }
  }
  return stats;
}
