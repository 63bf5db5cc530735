// apply/create/replace/delete -f input limits (issue 17) on the compiled binary against a real
// etcd: bytes (a file refused before reading, stdin stopped at the limit), documents, and at
// most --max-errors validation errors printed. Memory and time figures: bench/apply-input.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EtcdServer } from '@tricolor/testkit';
import { ctl, uniquePrefix } from './helpers.js';

let etcd: EtcdServer;
let dir: string;
before(async () => {
  etcd = await EtcdServer.start();
  dir = mkdtempSync(join(tmpdir(), 'ctl-limits-'));
});
after(async () => {
  await etcd.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const pool = (i: number, extra = '') =>
  `---\napiVersion: tricolor.dev/v1\nkind: IPPool\nmetadata:\n  name: pool-${i}\nspec:\n  cidr: 10.${i >> 8}.${i & 255}.0/24${extra}\n`;

test('a file over the byte limit is refused by its size, before a byte is read', async () => {
  const p = uniquePrefix();
  const big = join(dir, 'big.yaml');
  writeFileSync(big, pool(1));
  truncateSync(big, 40 * 1024 * 1024); // 40 MiB (sparse: the rest reads as NUL bytes)
  for (const verb of ['apply', 'create', 'replace', 'delete']) {
    const r = await ctl(etcd.endpoint, p, [verb, '-f', big]);
    assert.equal(r.code, 1, `${verb}: ${r.stderr}`);
    assert.match(
      r.stderr,
      /-f .*big\.yaml: 40 MiB is over the input limit of 4 MiB \(nothing was read\); --max-input-bytes raises it/,
    );
  }
  const raised = await ctl(etcd.endpoint, p, ['apply', '-f', big, '--max-input-bytes', '64Mi']);
  assert.equal(raised.code, 1, 'with the limit raised it is read, and its NUL bytes are not YAML');
  assert.doesNotMatch(raised.stderr, /input limit/);
});

test('stdin over the byte limit: reading stops at the limit', async () => {
  const p = uniquePrefix();
  let text = '';
  for (let i = 0; text.length <= 5 * 1024 * 1024; i++) text += pool(i % 60000);
  const r = await ctl(etcd.endpoint, p, ['apply', '-f', '-'], text);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /-f -: the input goes on past the input limit of 4 MiB \(stopped reading there\)/);
  const twenty = Array.from({ length: 20 }, (_, i) => pool(i)).join('');
  const small = await ctl(etcd.endpoint, p, ['apply', '-f', '-', '--max-input-bytes', '1Ki'], twenty);
  assert.match(small.stderr, /past the input limit of 1 KiB/);
  const bad = await ctl(etcd.endpoint, p, ['apply', '-f', '-', '--max-input-bytes', 'a lot'], pool(1));
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--max-input-bytes: "a lot" is not a size/);
  const list = await ctl(etcd.endpoint, p, ['get', 'ippools', '-o', 'json']);
  assert.deepEqual(JSON.parse(list.stdout).items, [], 'nothing was written');
});

test('the document limit holds for YAML streams, JSON arrays and Lists; within it, all is applied', async () => {
  const p = uniquePrefix();
  const five = [1, 2, 3, 4, 5].map((i) => pool(i)).join('');
  const over = await ctl(etcd.endpoint, p, ['apply', '-f', '-', '--max-documents', '4'], five);
  assert.equal(over.code, 1);
  assert.match(over.stderr, /-: more than 4 documents \(the limit; --max-documents raises it/);
  const arr = JSON.stringify(
    [1, 2, 3].map((i) => ({
      kind: 'IPPool',
      metadata: { name: `j${i}` },
      spec: { cidr: `10.9${i}.0.0/16` },
    })),
  );
  const overArr = await ctl(etcd.endpoint, p, ['apply', '-f', '-', '--max-documents', '2'], arr);
  assert.match(overArr.stderr, /more than 2 documents/);
  const listDoc = JSON.stringify({ kind: 'List', items: JSON.parse(arr) });
  const overList = await ctl(etcd.endpoint, p, ['create', '-f', '-', '--max-documents', '2'], listDoc);
  assert.match(overList.stderr, /more than 2 documents/);
  const fits = await ctl(etcd.endpoint, p, ['apply', '-f', '-', '--max-documents', '5'], five);
  assert.equal(fits.code, 0, fits.stderr);
  assert.equal(fits.stdout.split('\n').filter(Boolean).length, 5);
});

test('thousands of invalid documents: 20 errors printed, then a count; nothing written', async () => {
  const p = uniquePrefix();
  let text = '';
  for (let i = 0; i < 1500; i++) text += pool(i, '\n  blockSize: 40');
  text += pool(2000); // one valid document among them
  const r = await ctl(etcd.endpoint, p, ['apply', '-f', '-'], text);
  assert.equal(r.code, 1);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 21, r.stderr.slice(0, 2000));
  assert.equal(lines[0], 'error: -: document 1 (IPPool pool-0): spec.blockSize: 40 is above the maximum 32');
  assert.match(lines[19]!, /^-: document 20 \(IPPool pool-19\): spec\.blockSize/);
  assert.equal(
    lines[20],
    '... and 1480 more error(s) in 1480 document(s) not shown (1500 invalid in all; --max-errors N shows more)',
  );
  const five = await ctl(etcd.endpoint, p, ['apply', '-f', '-', '--max-errors', '5'], text);
  assert.equal(five.stderr.trimEnd().split('\n').length, 6);
  const list = await ctl(etcd.endpoint, p, ['get', 'ippools', '-o', 'json']);
  assert.deepEqual(JSON.parse(list.stdout).items, [], 'validation happens before any write');
});

test('a document with several problems lists each field on its own line (issue 17: a typo is not dropped)', async () => {
  const p = uniquePrefix();
  const r = await ctl(
    etcd.endpoint,
    p,
    ['apply', '-f', '-'],
    'kind: IPPool\napiVersion: tricolor.dev/v1\nmetadata: { name: bad3 }\nspec: { cidr: 10.0.0.0/8, blockSize: 40, natOutgoin: true }\n',
  );
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^error: -: document 1 \(IPPool bad3\):\n {2}spec\.blockSize: 40 is above the maximum 32\n {2}spec\.natOutgoin: .*natOutgoing/,
  );
  const list = await ctl(etcd.endpoint, p, ['get', 'ippools', '-o', 'json']);
  assert.deepEqual(JSON.parse(list.stdout).items, [], 'nothing stored');
});
