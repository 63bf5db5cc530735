/**
 * Throughput benchmark: `npm run bench` (after building). Decode and encode of IPv4
 * UPDATEs of 1/10/100/1000 NLRI, the cost of RFC 7606 error handling, a synthetic
 * 1,000,000-prefix full table, and a 1,000,000-message fuzz run that must raise no exception
 * other than BgpDecodeError. Sizes: BGP_BENCH_NLRI (NLRI per UPDATE), BGP_BENCH_TABLE
 * (prefixes), BGP_FUZZ_CASES; TRICOLOR_BENCH_SMOKE=1 runs the smallest of each.
 *
 * Anchors (same run): the object decoder is compared with V8's native JSON.parse reading the
 * same UPDATE as bgp-decode's JSON text, and encoding with JSON.stringify of it; the fast path
 * and the error paths with the object decoder.
 */
import { resourceUsage } from 'node:process';
import { type BenchRow, benchSizes, printSummary } from '@tricolor/testkit';
import {
  BgpDecodeError,
  createContext,
  DEFAULT_CONTEXT,
  type DecodeContext,
  decodeMessage,
  encodeUpdate,
  messageToJson,
  type PathAttribute,
  type Prefix,
  packIPv4Prefixes,
  StreamDecoder,
  scanUpdate,
  type UpdateFields,
  type UpdateMessage,
  Writer,
} from '../src/index.js';
import { Rng, runFuzz } from '../test/fuzz-corpus.js';
import { hex, loadJsonl } from '../test/helpers.js';
import { ipv4Update, seedMessages } from '../test/samples.js';

const summary: BenchRow[] = [];
const fmt = (n: number, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const mb = (bytes: number) => bytes / 1e6;

/** Runs fn repeatedly for ~minMs; returns iterations and elapsed seconds. */
function timeIt(fn: () => void, minMs = 700): { iters: number; secs: number } {
  for (let i = 0; i < 50; i++) fn(); // warm-up
  let iters = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  let batch = 1;
  while (elapsed < minMs * 1e6) {
    for (let i = 0; i < batch; i++) fn();
    iters += batch;
    batch *= 2;
    elapsed = Number(process.hrtime.bigint() - start);
  }
  return { iters, secs: elapsed / 1e9 };
}

function printTable(title: string, head: string[], body: string[][]) {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`\n${title}\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of body) console.log(line(r));
}

// ---------------------------------------------------------------------------------------
// 1. Per-UPDATE throughput, with same-run anchors.
const ctx = DEFAULT_CONTEXT;
const packed = new Uint32Array(2 * 4096);
const perMsg: string[][] = [];
let sink = 0;
for (const n of benchSizes([1, 10, 100, 1000], 'BGP_BENCH_NLRI')) {
  const fields = ipv4Update(n);
  const bytes = encodeUpdate(fields, ctx);
  const decoded = decodeMessage(bytes, ctx) as UpdateMessage;
  const json = messageToJson(decoded, bytes.length, ctx);
  const jsonText = JSON.stringify(json);
  const rate = (t: { iters: number; secs: number }) => (n * t.iters) / t.secs;
  const dec = rate(
    timeIt(() => {
      sink += (decodeMessage(bytes, ctx) as UpdateMessage).nlri.length;
    }),
  );
  const parse = rate(
    timeIt(() => {
      sink += (JSON.parse(jsonText) as { nlri: unknown[] }).nlri.length;
    }),
  );
  const fast = rate(
    timeIt(() => {
      const lay = scanUpdate(bytes, 19, bytes.length);
      sink += packIPv4Prefixes(bytes, lay.nlriStart, lay.nlriEnd, false, packed);
    }),
  );
  const w = new Writer(8192);
  const enc = rate(
    timeIt(() => {
      w.pos = 0;
      sink += encodeUpdate(fields, ctx, w).length;
    }),
  );
  const stringify = rate(
    timeIt(() => {
      sink += JSON.stringify(json).length;
    }),
  );
  const us = (r: number) => fmt((n / r) * 1e6, 2);
  perMsg.push(
    [`decode (objects)   ${n} NLRI`, fmt(dec), fmt((mb(bytes.length) * dec) / n, 1), us(dec)],
    [`decode (fast path) ${n} NLRI`, fmt(fast), fmt((mb(bytes.length) * fast) / n, 1), us(fast)],
    [`encode             ${n} NLRI`, fmt(enc), fmt((mb(bytes.length) * enc) / n, 1), us(enc)],
    [`JSON.parse         ${n} NLRI`, fmt(parse), fmt((mb(jsonText.length) * parse) / n, 1), us(parse)],
  );
  const jsonAnchor = (figure: number) => ({ name: 'JSON.parse of the same UPDATE', figure });
  summary.push(
    {
      row: `decode (objects), ${n} NLRI/UPDATE`,
      figure: dec,
      unit: 'prefixes/s',
      anchor: jsonAnchor(parse),
      target: { on: 'ratio', op: '>=', value: 1 },
    },
    {
      row: `decode (fast path), ${n} NLRI/UPDATE`,
      figure: fast,
      unit: 'prefixes/s',
      anchor: { name: 'object decode', figure: dec },
      target: { on: 'ratio', op: '>=', value: 3 },
    },
    {
      row: `encode, ${n} NLRI/UPDATE`,
      figure: enc,
      unit: 'prefixes/s',
      anchor: { name: 'JSON.stringify of the same UPDATE', figure: stringify },
      target: { on: 'ratio', op: '>=', value: 0.5 },
    },
  );
}
printTable(
  'UPDATE throughput (IPv4 /24 NLRI, 5 attributes)',
  ['case', 'prefixes/s', 'MB/s', 'µs/msg'],
  perMsg,
);

// ---------------------------------------------------------------------------------------
// 2. RFC 7606 error handling: a malformed UPDATE must cost about what a good one does
// (a peer cannot slow the decoder down by sending errors).
{
  const good = encodeUpdate(ipv4Update(10), ctx);
  // Same UPDATE with ORIGIN 5: treat-as-withdraw; and with no NLRI beside it: session reset.
  const taw = good.slice();
  const originAt = good.indexOf(0x01, 23) + 2; // flags 0x40, code 1, length 1, value
  taw[originAt] = 5;
  const resetMsg = hex(`${'ff'.repeat(16)}0022020004180b0000000740010105400200`);
  const ops = (fn: () => void) => {
    const t = timeIt(fn, 500);
    return t.iters / t.secs;
  };
  const clean = ops(() => {
    sink += (decodeMessage(good, ctx) as UpdateMessage).nlri.length;
  });
  const withdraw = ops(() => {
    sink += (decodeMessage(taw, ctx) as UpdateMessage).errors.length;
  });
  const reset = ops(() => {
    try {
      decodeMessage(resetMsg, ctx);
    } catch (e) {
      if (e instanceof BgpDecodeError) sink += e.subcode;
      else throw e;
    }
  });
  if ((decodeMessage(taw, ctx) as UpdateMessage).action !== 'treat-as-withdraw')
    throw new Error('the treat-as-withdraw sample is not treat-as-withdraw');
  printTable(
    'RFC 7606 error handling (10-NLRI UPDATE)',
    ['case', 'UPDATEs/s'],
    [
      ['well-formed', fmt(clean)],
      ['treat-as-withdraw (ORIGIN 5)', fmt(withdraw)],
      ['session reset (§5.2, thrown)', fmt(reset)],
    ],
  );
  const anchor = { name: 'well-formed UPDATE', figure: clean };
  summary.push(
    {
      row: 'decode, treat-as-withdraw UPDATE',
      figure: withdraw,
      unit: 'UPDATEs/s',
      anchor,
      target: { on: 'ratio', op: '>=', value: 0.5 },
    },
    {
      // Once per session: only needs to stay in the same order of magnitude.
      row: 'decode, session-reset UPDATE (thrown)',
      figure: reset,
      unit: 'UPDATEs/s',
      anchor,
      target: { on: 'ratio', op: '>=', value: 0.1 },
    },
  );
}

// ---------------------------------------------------------------------------------------
// 3. Synthetic full table: distinct IPv4 prefixes (/16../24) in UPDATEs of 1..40 prefixes,
// each UPDATE with its own AS path / MED / communities, as one TCP byte stream.
function fullTable(total: number): { stream: Uint8Array; messages: number } {
  const rng = new Rng(42);
  const chunks: Uint8Array[] = [];
  let made = 0;
  let size = 0;
  let next = 0x01000000;
  const w = new Writer(8192);
  while (made < total) {
    const n = Math.min(total - made, 1 + rng.int(40));
    const nlri: Prefix[] = [];
    for (let i = 0; i < n; i++) {
      const len = 16 + rng.int(9);
      const step = 2 ** (32 - len);
      next = Math.ceil(next / step) * step;
      nlri.push({
        afi: 1,
        len,
        addr: new Uint8Array([next >>> 24, (next >>> 16) & 255, (next >>> 8) & 255, next & 255]),
      });
      next += step;
    }
    const pathLen = 1 + rng.int(6);
    const asns = Array.from({ length: pathLen }, () => 1 + rng.int(400000));
    const attributes: PathAttribute[] = [
      { kind: 'origin', flags: 0x40, origin: rng.int(3) },
      { kind: 'as-path', flags: 0x40, segments: [{ type: 2, asns }] },
      { kind: 'next-hop', flags: 0x40, nextHop: 0xc0000201 },
      { kind: 'med', flags: 0x80, med: rng.int(1000) },
      {
        kind: 'communities',
        flags: 0xc0,
        communities: [(((asns[0]! & 0xffff) << 16) >>> 0) | rng.int(1000)],
      },
    ];
    const u: UpdateFields = { withdrawn: [], attributes, nlri };
    w.pos = 0;
    const bytes = encodeUpdate(u, ctx, w);
    chunks.push(bytes);
    size += bytes.length;
    made += n;
  }
  const stream = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    stream.set(c, off);
    off += c.length;
  }
  return { stream, messages: chunks.length };
}

const TABLE = Math.max(...benchSizes([10_000, 1_000_000], 'BGP_BENCH_TABLE'));
const t0 = performance.now();
const { stream, messages } = fullTable(TABLE);
const buildMs = performance.now() - t0;
const CHUNK = 65536;
const tableRows: string[][] = [];

function fullTableRun(name: string, c: DecodeContext, fast: boolean): number {
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const start = performance.now();
  const sd = new StreamDecoder(c);
  const out = new Uint32Array(2 * 4096);
  let prefixes = 0;
  for (let off = 0; off < stream.length; off += CHUNK) {
    for (const f of sd.push(stream.subarray(off, off + CHUNK))) {
      if (fast) {
        const lay = scanUpdate(f, 19, f.length);
        prefixes += packIPv4Prefixes(f, lay.nlriStart, lay.nlriEnd, false, out);
      } else {
        prefixes += (decodeMessage(f, c) as UpdateMessage).nlri.length;
      }
    }
  }
  const secs = (performance.now() - start) / 1000;
  tableRows.push([
    name,
    fmt(prefixes),
    fmt(secs, 3),
    fmt(prefixes / secs),
    fmt(mb(stream.length) / secs, 1),
    fmt(mb(process.memoryUsage().heapUsed - heapBefore), 1),
    fmt(resourceUsage().maxRSS / 1024, 0),
  ]);
  if (prefixes !== TABLE) throw new Error(`decoded ${prefixes} prefixes, expected ${TABLE}`);
  return prefixes / secs;
}

const fastRate = fullTableRun('decode, fast path (scanUpdate + packIPv4Prefixes)', ctx, true);
const objRate = fullTableRun('decode, object model (decodeMessage)', ctx, false);
let encRate: number;
{
  const sd = new StreamDecoder(ctx);
  const objs: UpdateMessage[] = [];
  for (let off = 0; off < stream.length; off += CHUNK) {
    for (const f of sd.push(stream.subarray(off, off + CHUNK)))
      objs.push(decodeMessage(f, ctx) as UpdateMessage);
  }
  const w = new Writer(8192);
  let bytes = 0;
  const start = performance.now();
  for (const o of objs) {
    w.pos = 0;
    bytes += encodeUpdate(o, ctx, w).length;
  }
  const secs = (performance.now() - start) / 1000;
  encRate = TABLE / secs;
  tableRows.push([
    'encode, object model (encodeUpdate)',
    fmt(TABLE),
    fmt(secs, 3),
    fmt(encRate),
    fmt(mb(bytes) / secs, 1),
    '-',
    fmt(resourceUsage().maxRSS / 1024, 0),
  ]);
}
printTable(
  `Full table: ${fmt(TABLE)} IPv4 prefixes in ${fmt(messages)} UPDATEs, ${fmt(mb(stream.length), 1)} MB stream, 64 KiB chunks (built in ${fmt(buildMs)} ms)`,
  ['run', 'prefixes', 'seconds', 'prefixes/s', 'MB/s', 'heap Δ MB', 'maxRSS MB'],
  tableRows,
);
// A full table (1M prefixes) within 1 s object-decoded, 0.1 s on the fast path.
summary.push(
  {
    row: `full table ${fmt(TABLE)} prefixes, fast path`,
    figure: fastRate,
    unit: 'prefixes/s',
    anchor: { name: 'object decode', figure: objRate },
    target: { on: 'figure', op: '>=', value: 10_000_000 },
  },
  {
    row: `full table ${fmt(TABLE)} prefixes, object decode`,
    figure: objRate,
    unit: 'prefixes/s',
    target: { on: 'figure', op: '>=', value: 1_000_000 },
  },
  {
    row: `full table ${fmt(TABLE)} prefixes, encode`,
    figure: encRate,
    unit: 'prefixes/s',
    target: { on: 'figure', op: '>=', value: 1_000_000 },
  },
);

// ---------------------------------------------------------------------------------------
// 4. Fuzz: random and mutated messages.
const FUZZ = Math.max(...benchSizes([5_000, 1_000_000], 'BGP_FUZZ_CASES'));
const seeds = [
  ...loadJsonl('exabgp-encoding.jsonl').map((r) => hex(r.hex)),
  ...seedMessages(createContext()),
  ...seedMessages(createContext({ fourOctetAs: false })),
];
const fs = performance.now();
const stats = runFuzz(FUZZ, seeds, 0x5eed);
const fuzzSecs = (performance.now() - fs) / 1000;
printTable(
  `Fuzz: ${fmt(FUZZ)} random/mutated messages (${fmt(fuzzSecs, 1)} s)`,
  ['cases', 'decoded', 'typed errors', 'non-typed exceptions', 'round-trip failures'],
  [
    [
      fmt(stats.cases),
      fmt(stats.decoded),
      fmt(stats.typedErrors),
      fmt(stats.otherExceptions),
      fmt(stats.roundTripFailures),
    ],
  ],
);
summary.push(
  {
    row: `fuzz ${fmt(FUZZ)} messages: non-typed exceptions`,
    figure: stats.otherExceptions,
    unit: 'exceptions',
    target: { on: 'figure', op: '<=', value: 0 },
  },
  {
    row: `fuzz ${fmt(FUZZ)} messages: round-trip failures`,
    figure: stats.roundTripFailures,
    unit: 'messages',
    target: { on: 'figure', op: '<=', value: 0 },
  },
  { row: 'fuzz throughput', figure: FUZZ / fuzzSecs, unit: 'messages/s' },
);
if (sink < 0) console.log(sink);

printSummary('bgp-parser-ts: UPDATE codec', summary);
if (stats.otherExceptions !== 0 || stats.roundTripFailures !== 0) {
  console.error(`FAIL: ${stats.firstFailure}`);
  process.exitCode = 1;
}
