/**
 * The malformed-UPDATE suite (rfc7606-cases.ts) through the `bgp-decode` binary, one process
 * per session context, and through the library: each message must get the one action its
 * rule requires, with the NOTIFICATION code/subcode/data of a session reset.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseArgs } from '../src/cli/options.js';
import {
  BgpDecodeError,
  decodeMessage,
  encodeMessage,
  type MessageAction,
  type UpdateMessage,
} from '../src/index.js';
import { hex, toHexString } from './helpers.js';
import { CASES, type SuiteCase } from './rfc7606-cases.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'bgp-decode.js');

interface Line {
  action?: MessageAction;
  type?: string;
  error?: { code: number; subcode: number; data: string; rule?: string };
  errors?: { action: string; code: number; subcode: number; data?: string; rule?: string }[];
}

/** Runs bgp-decode once per distinct option set; returns the JSON line of every case. */
function runCli(): Map<string, Line> {
  const groups = new Map<string, SuiteCase[]>();
  for (const c of CASES) {
    const key = JSON.stringify(c.args ?? []);
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const out = new Map<string, Line>();
  for (const [key, cases] of groups) {
    const r = spawnSync(process.execPath, [BIN, ...(JSON.parse(key) as string[])], {
      input: cases.map((c) => c.hex).join('\n'),
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `bgp-decode ${key} exited ${r.status}: ${r.stderr}`);
    const lines = r.stdout.trim().split('\n');
    assert.equal(
      lines.length,
      cases.length,
      `bgp-decode ${key}: ${lines.length} lines for ${cases.length} messages`,
    );
    for (const [i, c] of cases.entries()) out.set(c.id, JSON.parse(lines[i]!) as Line);
  }
  return out;
}

function describeCase(c: SuiteCase): string {
  return `${c.id} (${c.rule}: ${c.title})`;
}

describe('RFC 7606 suite: malformed UPDATEs through bgp-decode', () => {
  test('the suite is large, its ids unique, and every action is exercised', () => {
    assert.ok(CASES.length >= 150, `${CASES.length} cases`);
    assert.equal(new Set(CASES.map((c) => c.id)).size, CASES.length);
    const actions = new Set(CASES.map((c) => c.expect.action));
    for (const a of ['none', 'attribute-discard', 'treat-as-withdraw', 'afi-safi-disable', 'session-reset'])
      assert.ok(actions.has(a as MessageAction), `no case expects ${a}`);
    for (const c of CASES) assert.match(c.rule, /^RFC \d+/, c.id);
  });

  const lines = runCli();
  for (const c of CASES) {
    test(describeCase(c), () => {
      const got = lines.get(c.id)!;
      assert.equal(got.action, c.expect.action, `${c.id}: ${JSON.stringify(got)}`);
      if (c.expect.action === 'session-reset') {
        assert.ok(got.error, `${c.id}: no NOTIFICATION in ${JSON.stringify(got)}`);
        assert.equal(got.error.code, c.expect.code ?? 3, `${c.id}: code`);
        if (c.expect.subcode !== undefined)
          assert.equal(got.error.subcode, c.expect.subcode, `${c.id}: subcode`);
        if (c.expect.data !== undefined) assert.equal(got.error.data, c.expect.data, `${c.id}: data`);
        return;
      }
      assert.equal(got.type, 'UPDATE');
      if (c.expect.action === 'none') {
        assert.deepEqual(got.errors, [], `${c.id}: unexpected errors`);
        return;
      }
      const decisive = got.errors!.find((e) => e.action === c.expect.action);
      assert.ok(decisive, `${c.id}: no ${c.expect.action} error in ${JSON.stringify(got.errors)}`);
      if (c.expect.subcode !== undefined)
        assert.equal(decisive.subcode, c.expect.subcode, `${c.id}: subcode`);
      for (const e of got.errors!) assert.ok(e.rule, `${c.id}: error without a rule ${JSON.stringify(e)}`);
    });
  }
});

describe('RFC 7606 suite: the library agrees and keeps what it can', () => {
  for (const c of CASES) {
    test(c.id, () => {
      const opts = parseArgs(c.args ?? []);
      assert.ok(typeof opts !== 'string', String(opts));
      const bytes = hex(c.hex);
      let msg: UpdateMessage;
      try {
        msg = decodeMessage(bytes, opts.ctx) as UpdateMessage;
      } catch (e) {
        assert.ok(e instanceof BgpDecodeError, String(e));
        assert.equal(c.expect.action, 'session-reset', `${c.id}: ${e.message}`);
        assert.equal(e.action, 'session-reset');
        if (e.code === 3 && e.update) {
          // Every error is listed, the one that resets first among the resets.
          assert.ok(e.errors.length > 0);
          assert.equal(e.errors.find((x) => x.action === 'session-reset')?.subcode, e.subcode);
        }
        return;
      }
      assert.equal(msg.action ?? 'none', c.expect.action, c.id);
      // Whatever the errors, what decodes re-encodes to the same octets.
      assert.equal(toHexString(encodeMessage(msg, opts.ctx)), c.hex, `${c.id}: not byte-exact`);
    });
  }
});
