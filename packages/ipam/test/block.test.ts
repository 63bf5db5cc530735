import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addressesBorrowedBy,
  addressesBorrowedInStored,
  allocate,
  assignOrdinal,
  blockProblems,
  decodeBlock,
  encodeBlock,
  freeCount,
  handleCounts,
  hostCidrOf,
  isEmpty,
  newBlock,
  ordinalOf,
  ordinalsOfHandle,
  releaseOrdinals,
  repairBlock,
  usedCount,
} from '../src/index.js';

test('a new /26 block has 64 free ordinals in address order', () => {
  const b = newBlock('10.244.1.0/26', 'host:n1');
  assert.equal(freeCount(b), 64);
  assert.deepEqual(b.unallocated.slice(0, 3), [0, 1, 2]);
  assert.equal(b.affinity, 'host:n1');
  assert.equal(b.sequenceNumber, 0);
  assert.deepEqual(blockProblems(b), []);
});

test('allocate takes from the front, does not mutate the input and bumps sequenceNumber', () => {
  const b = newBlock('10.244.1.0/26', 'host:n1');
  const { block, ordinals } = allocate(b, 3, 'h1', { pod: 'p' });
  assert.deepEqual(ordinals, [0, 1, 2]);
  assert.equal(freeCount(b), 64, 'input untouched');
  assert.equal(freeCount(block), 61);
  assert.equal(usedCount(block), 3);
  assert.equal(block.sequenceNumber, 1);
  assert.equal(block.attributes.length, 1, 'one attribute shared by the three addresses');
  assert.equal(hostCidrOf(block, 2), '10.244.1.2/32');
  assert.deepEqual(ordinalsOfHandle(block, 'h1'), [0, 1, 2]);
});

test('FIFO: released ordinals go to the back and allocation wraps around to them last', () => {
  let b = newBlock('10.0.0.0/29', 'host:n1');
  ({ block: b } = allocate(b, 3, 'a'));
  ({ block: b } = releaseOrdinals(b, [1]));
  const order: number[] = [];
  for (let i = 0; i < 6; i++) {
    const r = allocate(b, 1, `h${i}`);
    b = r.block;
    order.push(...r.ordinals);
  }
  assert.deepEqual(order, [3, 4, 5, 6, 7, 1]);
  assert.equal(freeCount(b), 0);
  assert.deepEqual(allocate(b, 1, 'x').ordinals, [], 'a full block yields nothing');
});

test('release is idempotent and compacts attributes', () => {
  let b = newBlock('10.0.0.0/29', null);
  ({ block: b } = allocate(b, 1, 'a', { pod: 'web-0', node: 'n1' }));
  ({ block: b } = allocate(b, 1, 'b'));
  const r1 = releaseOrdinals(b, [0]);
  assert.deepEqual(
    r1.released,
    [{ ordinal: 0, handleId: 'a', secondary: { pod: 'web-0', node: 'n1' } }],
    'a release says whose address it was',
  );
  assert.equal(r1.block.attributes.length, 1);
  assert.equal(r1.block.attributes[r1.block.allocations[1]!]!.handleId, 'b');
  const r2 = releaseOrdinals(r1.block, [0]);
  assert.deepEqual(r2.released, []);
  assert.equal(r2.block, r1.block, 'nothing to do: same block, no sequence bump');
  assert.deepEqual(blockProblems(r1.block), []);
  assert.ok(isEmpty(releaseOrdinals(r1.block, [1]).block));
});

test('assignOrdinal takes one specific address, refuses one in use', () => {
  const b = newBlock('fd00::/122', 'host:n1');
  const o = ordinalOf(b, 'fd00::5')!;
  assert.equal(o, 5);
  const next = assignOrdinal(b, o, 'h')!;
  assert.equal(hostCidrOf(next, o), 'fd00::5/128');
  assert.ok(!next.unallocated.includes(5));
  assert.equal(assignOrdinal(next, o, 'h2'), undefined);
  assert.equal(ordinalOf(b, '10.0.0.1'), undefined);
});

test("addressesBorrowedBy: the addresses of another node's block allocated for that node, none of its own block", () => {
  let b = newBlock('10.244.9.0/26', 'host:n9');
  b = allocate(b, 2, 'h.own').block; // n9's own pods: ordinals 0, 1
  b = assignOrdinal(b, 5, 'h.a', { node: 'n2' })!;
  b = assignOrdinal(b, 7, 'h.b', { node: 'n2' })!;
  b = assignOrdinal(b, 9, 'h.c', { node: 'n3' })!;
  assert.deepEqual(addressesBorrowedBy(b, 'n2'), ['10.244.9.5', '10.244.9.7']);
  assert.deepEqual(addressesBorrowedBy(b, 'n3'), ['10.244.9.9']);
  assert.deepEqual(addressesBorrowedBy(b, 'n4'), []);
  // n9 itself allocating with its own name as secondary.node borrows nothing.
  assert.deepEqual(addressesBorrowedBy(assignOrdinal(b, 11, 'h.d', { node: 'n9' })!, 'n9'), []);
  assert.deepEqual(addressesBorrowedBy(releaseOrdinals(b, [5]).block, 'n2'), ['10.244.9.7']);
});

test('addressesBorrowedInStored: the same answer from the stored text, which it decodes only when the text names the node', () => {
  let b = newBlock('10.244.9.0/26', 'host:n2');
  b = assignOrdinal(b, 5, 'h.a', { node: 'n22' })!;
  b = assignOrdinal(b, 7, 'h.b', { node: 'n2x', namespace: 'n2' })!;
  const stored = encodeBlock(b);
  for (const node of ['n2', 'n22', 'n2x', 'n3'])
    assert.deepEqual(addressesBorrowedInStored(stored, node), addressesBorrowedBy(b, node), node);
  assert.deepEqual(addressesBorrowedInStored(stored, 'n22'), ['10.244.9.5']);
  // Text that does not name the node is not decoded at all (this is not a block).
  assert.deepEqual(addressesBorrowedInStored('{"not":"a block"}', 'n2'), []);
  assert.throws(() => addressesBorrowedInStored('{"not":"a block","n":"n2"}', 'n2'));
});

test('encode/decode round-trip keeps the DESIGN.md field names', () => {
  const { block } = allocate(newBlock('10.244.1.0/26', 'host:n1'), 2, 'k8s-pod-network.abc', {
    namespace: 'default',
  });
  const text = encodeBlock(block);
  const raw = JSON.parse(text);
  assert.deepEqual(Object.keys(raw), [
    'cidr',
    'affinity',
    'allocations',
    'unallocated',
    'attributes',
    'sequenceNumber',
  ]);
  assert.deepEqual(raw.attributes[0], {
    handleId: 'k8s-pod-network.abc',
    secondary: { namespace: 'default' },
  });
  assert.deepEqual(decodeBlock(text), block);
  assert.throws(() => decodeBlock('{"cidr":"x"}'), /block.cidr/);
  assert.throws(() => decodeBlock('nope'), /not JSON/);
});

test('blockProblems finds inconsistencies and repairBlock fixes them', () => {
  const { block } = allocate(newBlock('10.0.0.0/29', 'host:n1'), 2, 'h');
  const bad = { ...block, unallocated: [0, 3, 3, 4, 5], allocations: [...block.allocations] };
  bad.allocations[7] = 9; // dangling attribute index; 6 is missing from unallocated
  const problems = blockProblems(bad);
  assert.ok(problems.some((p) => p.includes('both allocated and unallocated')));
  assert.ok(problems.some((p) => p.includes('twice')));
  assert.ok(problems.some((p) => p.includes('ordinal 6 is neither')));
  assert.ok(problems.some((p) => p.includes('attribute 9')));
  const fixed = repairBlock(bad);
  assert.deepEqual(blockProblems(fixed), []);
  assert.equal(usedCount(fixed), 3, 'allocations are kept, never dropped');
  assert.equal(handleCounts(fixed).get('h'), 2);
});
