import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createContext } from '../src/index.js';
import { runFuzz } from './fuzz-corpus.js';
import { hex, loadJsonl } from './helpers.js';
import { seedMessages } from './samples.js';

test('fuzz: 20,000 random and mutated messages raise only BgpDecodeError and decodable ones round-trip', (t) => {
  const seeds = [
    ...loadJsonl('exabgp-encoding.jsonl').map((r) => hex(r.hex)),
    ...seedMessages(createContext()),
    ...seedMessages(createContext({ fourOctetAs: false })),
  ];
  const stats = runFuzz(20_000, seeds, 0xc0ffee);
  t.diagnostic(JSON.stringify(stats));
  assert.equal(stats.otherExceptions, 0, stats.firstFailure);
  assert.equal(stats.roundTripFailures, 0, stats.firstFailure);
  assert.ok(
    stats.decoded > 1000,
    `too few inputs decoded (${stats.decoded}); the fuzzer is not reaching bodies`,
  );
  assert.ok(stats.typedErrors > 1000, `too few typed errors (${stats.typedErrors})`);
});
