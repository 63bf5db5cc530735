/**
 * Throughput benchmark: `npm run bench` (after building). Decode and encode of IPv4
 * UPDATEs of 1/10/100/1000 NLRI, a synthetic 1,000,000-prefix full table, and a
 * 1,000,000-message fuzz run that must raise no exception other than BgpDecodeError.
 */
import { resourceUsage } from 'node:process';
import {
  createContext,
  DEFAULT_CONTEXT,
  type DecodeContext,
  decodeMessage,
  encodeUpdate,
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

const rows: string[][] = [];
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

function row(name: string, prefixes: number, bytes: number, secs: number, iters: number) {
  rows.push([
    name,
    fmt((prefixes * iters) / secs),
    fmt(mb(bytes * iters) / secs, 1),
    fmt((secs / iters) * 1e6, 2),
  ]);
}

function printTable(title: string, head: string[], body: string[][]) {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`\n${title}\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of body) console.log(line(r));
}

// ---------------------------------------------------------------------------------------
// 1. Per-UPDATE throughput.
const ctx = DEFAULT_CONTEXT;
const packed = new Uint32Array(2 * 4096);
for (const n of [1, 10, 100, 1000]) {
  const fields = ipv4Update(n);
  const bytes = encodeUpdate(fields, ctx);
  let sink = 0;
  const dec = timeIt(() => {
    const m = decodeMessage(bytes, ctx) as UpdateMessage;
    sink += m.nlri.length;
  });
  row(`decode (objects)  ${n} NLRI`, n, bytes.length, dec.secs, dec.iters);
  const fast = timeIt(() => {
    const lay = scanUpdate(bytes, 19, bytes.length);
    sink += packIPv4Prefixes(bytes, lay.nlriStart, lay.nlriEnd, false, packed);
  });
  row(`decode (fast path) ${n} NLRI`, n, bytes.length, fast.secs, fast.iters);
  const w = new Writer(8192);
  const enc = timeIt(() => {
    w.pos = 0;
    sink += encodeUpdate(fields, ctx, w).length;
  });
  row(`encode            ${n} NLRI`, n, bytes.length, enc.secs, enc.iters);
  if (sink < 0) console.log(sink);
}
printTable('UPDATE throughput (IPv4 /24 NLRI, 5 attributes)', ['case', 'prefixes/s', 'MB/s', 'µs/msg'], rows);

// ---------------------------------------------------------------------------------------
// 2. Synthetic full table: 1,000,000 distinct IPv4 prefixes (/16../24) in UPDATEs of 1..40
// prefixes, each UPDATE with its own AS path / MED / communities, as one TCP byte stream.
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

const TABLE = 1_000_000;
const t0 = performance.now();
const { stream, messages } = fullTable(TABLE);
const buildMs = performance.now() - t0;
const CHUNK = 65536;
const tableRows: string[][] = [];

function fullTableRun(name: string, c: DecodeContext, fast: boolean) {
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const start = performance.now();
  const sd = new StreamDecoder(c);
  const out = new Uint32Array(2 * 4096);
  let prefixes = 0;
  const attrSets = new Map<string, number>();
  for (let off = 0; off < stream.length; off += CHUNK) {
    for (const f of sd.push(stream.subarray(off, off + CHUNK))) {
      if (fast) {
        const lay = scanUpdate(f, 19, f.length);
        prefixes += packIPv4Prefixes(f, lay.nlriStart, lay.nlriEnd, false, out);
      } else {
        const m = decodeMessage(f, c) as UpdateMessage;
        prefixes += m.nlri.length;
        attrSets.set(String(m.rawAttributes.length), 1);
      }
    }
  }
  const secs = (performance.now() - start) / 1000;
  const mem = process.memoryUsage();
  tableRows.push([
    name,
    fmt(prefixes),
    fmt(secs, 3),
    fmt(prefixes / secs),
    fmt(mb(stream.length) / secs, 1),
    fmt(mb(mem.heapUsed - heapBefore), 1),
    fmt(resourceUsage().maxRSS / 1024, 0),
  ]);
  if (prefixes !== TABLE) throw new Error(`decoded ${prefixes} prefixes, expected ${TABLE}`);
}

fullTableRun('decode, fast path (scanUpdate + packIPv4Prefixes)', ctx, true);
fullTableRun('decode, object model (decodeMessage)', ctx, false);
{
  // Encode the full table back from objects.
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
  tableRows.push([
    'encode, object model (encodeUpdate)',
    fmt(TABLE),
    fmt(secs, 3),
    fmt(TABLE / secs),
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

// ---------------------------------------------------------------------------------------
// 3. Fuzz: 1,000,000 random and mutated messages.
const FUZZ = Number(process.env['BGP_FUZZ_CASES'] ?? 1_000_000);
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
if (stats.otherExceptions !== 0 || stats.roundTripFailures !== 0) {
  console.error(`FAIL: ${stats.firstFailure}`);
  process.exitCode = 1;
}
