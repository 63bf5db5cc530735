// The pure parts of tricolorctl, without etcd: command-line splitting, merge patch, label
// semantics, input documents, the IPAM views and the node status layout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ParseArgsOptionDescriptor } from 'node:util';
import { parseIp } from '@tricolor/datastore';
import { allocate, hostAffinity, newBlock } from '@tricolor/ipam';
import { GLOBAL_OPTIONS, sizeFlag, splitCommandLine, UsageError } from '../src/args.js';
import { ALL_OPTIONS, COMMANDS, GROUPS } from '../src/commands/index.js';
import { documents } from '../src/input.js';
import { borrowedAllocations, findAllocation } from '../src/ipam-view.js';
import { KIND_NAMES, kindArg } from '../src/kinds.js';
import { applyLabelChanges, parseLabelChanges } from '../src/labels.js';
import { mergePatch } from '../src/merge-patch.js';
import { type BirdProtocol, peerState, peerType, renderNodeStatus } from '../src/node-status.js';
import { ProblemList } from '../src/resources.js';

const split = (argv: string[]) => splitCommandLine(argv, ALL_OPTIONS, (w) => GROUPS.has(w));

test('command words are found wherever the flags are; global flags are taken anywhere', () => {
  assert.deepEqual(split(['get', 'wep', '-A', '-o', 'wide']).words, ['get']);
  assert.deepEqual(
    split(['-n', 'kube-system', 'get', 'wep']).words,
    ['get'],
    'a flag value is not a command',
  );
  const s = split(['--etcd-endpoints', 'http://e:2379', 'ipam', '--prefix=/p/', 'show', '--ip', '10.0.0.1']);
  assert.deepEqual(s.words, ['ipam', 'show']);
  assert.deepEqual(s.rest, ['--etcd-endpoints', 'http://e:2379', '--prefix=/p/', '--ip', '10.0.0.1']);
  assert.equal(s.globals.etcdEndpoints, 'http://e:2379');
  assert.equal(s.globals.prefix, '/p/');
  assert.deepEqual(split(['node', 'status', '-h']).words, ['node', 'status']);
  assert.equal(split(['node', 'status', '-h']).globals.help, true);
  assert.deepEqual(
    split(['label', 'ns', 'default', 'a=b']).words,
    ['label'],
    'only groups take a second word',
  );
  assert.throws(() => split(['get', '--prefix=']), /--prefix: needs a value/);
});

test("every command's options agree in type and short name across commands (one parse finds the words)", () => {
  const seen = new Map<string, string>();
  for (const [name, c] of Object.entries(COMMANDS)) {
    for (const [flag, o] of Object.entries<ParseArgsOptionDescriptor>({ ...c.options, ...GLOBAL_OPTIONS })) {
      const sig = `${o.type}/${o.short ?? ''}`;
      const before = seen.get(flag);
      assert.ok(
        before === undefined || before === sig,
        `${name}: --${flag} is ${sig} here, ${before} elsewhere`,
      );
      seen.set(flag, sig);
    }
  }
  const shorts = new Map<string, string>();
  for (const [flag, o] of Object.entries(ALL_OPTIONS)) {
    if (!o.short) continue;
    assert.ok(!shorts.has(o.short) || shorts.get(o.short) === flag, `-${o.short} means two flags`);
    shorts.set(o.short, flag);
  }
});

test('kinds answer to calicoctl names and short names, case-insensitively', () => {
  for (const [short, kind] of [
    ['wep', 'WorkloadEndpoint'],
    ['np', 'NetworkPolicy'],
    ['gnp', 'GlobalNetworkPolicy'],
    ['ippool', 'IPPool'],
    ['bgppeer', 'BGPPeer'],
    ['bgpconfig', 'BGPConfiguration'],
    ['felixconfig', 'FelixConfiguration'],
    ['node', 'Node'],
    ['profile', 'Profile'],
    ['IPPools', 'IPPool'],
  ])
    assert.equal(kindArg(short), kind);
  assert.throws(() => kindArg('pod'), /"pod" is not a kind \(one of ippool, node/);
  const all = Object.values(KIND_NAMES).flat();
  assert.equal(new Set(all).size, all.length, 'no name means two kinds');
});

test('merge patch follows RFC 7386 (its appendix A examples)', () => {
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, result] of cases) assert.deepEqual(mergePatch(target, patch), result);
  const target = { spec: { x: 1 } };
  mergePatch(target, { spec: { x: 2 } });
  assert.deepEqual(target, { spec: { x: 1 } }, 'the target is not changed');
});

test('labels: key=value sets, key- removes, --overwrite needed to change a value (kubectl semantics)', () => {
  const changes = parseLabelChanges(['a=1', 'b-', 'c='], ['d']);
  assert.deepEqual(changes, [
    { key: 'a', value: '1' },
    { key: 'b', remove: true },
    { key: 'c', value: '' },
    { key: 'd', remove: true },
  ]);
  assert.throws(() => parseLabelChanges(['a']), /"a" is neither key=value nor key-/);
  assert.throws(() => parseLabelChanges(['a=1', 'a-']), /a is given more than once/);
  assert.throws(() => parseLabelChanges([]), /no labels given/);

  const cur = { a: '1', b: '2' };
  assert.deepEqual(applyLabelChanges(cur, [{ key: 'a', value: '1' }], false), {
    labels: cur,
    changed: false,
    notFound: [],
  });
  assert.throws(
    () => applyLabelChanges(cur, [{ key: 'a', value: '9' }], false),
    /'a' already has a value \(1\), and --overwrite is false/,
  );
  assert.deepEqual(applyLabelChanges(cur, [{ key: 'a', value: '9' }], true).labels, { a: '9', b: '2' });
  const rm = applyLabelChanges(
    cur,
    [
      { key: 'b', remove: true },
      { key: 'z', remove: true },
    ],
    false,
  );
  assert.deepEqual(rm, { labels: { a: '1' }, changed: true, notFound: ['z'] });
  assert.deepEqual(cur, { a: '1', b: '2' }, 'the input is not changed');
});

test('input documents: YAML streams, JSON values, arrays and Lists flattened, limits while composing', () => {
  const docs = (text: string, max = 100) => [...documents(text, 'f.yaml', max)].map((d) => d.value);
  assert.deepEqual(docs('a: 1\n---\nb: 2\n---\n'), [{ a: 1 }, { b: 2 }]);
  assert.deepEqual(docs('[{"a":1},{"b":2}]'), [{ a: 1 }, { b: 2 }]);
  assert.deepEqual(
    docs('{"a":1}\n---\n{"b":2}\n'),
    [{ a: 1 }, { b: 2 }],
    'several JSON documents read as YAML',
  );
  assert.deepEqual(docs('kind: List\nitems: [{a: 1}, [{b: 2}]]\n'), [{ a: 1 }, { b: 2 }]);
  assert.deepEqual(docs('---\n---\n'), []);
  assert.throws(() => docs('a: 1\n---\nb: 2\n---\nc: 3\n', 2), /f\.yaml: more than 2 documents/);
  assert.throws(() => docs('[1,2,3]', 2), /more than 2 documents/);
  assert.throws(
    () => docs(`${'---\n'.repeat(50)}`, 10),
    /more than 10 documents/,
    'empty documents count too',
  );
  assert.throws(
    () => docs('a: 1\n---\nb: [unclosed\n'),
    /f\.yaml: document 2 \(line \d+, column \d+\): Flow sequence/,
  );
  // An alias bomb stops at the alias limit instead of expanding.
  const bomb = `a: &a [x, x, x, x, x, x, x, x, x, x]\n${Array.from(
    { length: 9 },
    (_, i) =>
      `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10)
        .fill(`*${String.fromCharCode(97 + i)}`)
        .join(', ')}]`,
  ).join('\n')}\n`;
  assert.throws(() => docs(bomb), /alias/i);
});

test('at most N validation errors are printed, then a count of the rest', () => {
  const p = new ProblemList(3);
  for (let i = 1; i <= 500; i++) p.add(`f: document ${i}`, [{ field: 'spec.cidr', message: 'bad' }]);
  const msg = (p.error() as UsageError).message.split('\n');
  assert.deepEqual(msg.slice(0, 3), [
    'f: document 1: spec.cidr: bad',
    'f: document 2: spec.cidr: bad',
    'f: document 3: spec.cidr: bad',
  ]);
  assert.match(
    msg[3]!,
    /and 497 more error\(s\) in 497 document\(s\) not shown \(500 invalid in all; --max-errors N/,
  );
  assert.equal(msg.length, 4);
  const several = new ProblemList(10);
  several.add('f: document 1 (IPPool x)', [
    { field: 'spec.cidr', message: 'is required' },
    { field: 'spec.natOutgoin', message: 'unknown field' },
  ]);
  assert.equal(
    (several.error() as UsageError).message,
    'f: document 1 (IPPool x):\n  spec.cidr: is required\n  spec.natOutgoin: unknown field',
  );
  assert.equal(new ProblemList(1).error(), undefined);
});

test('size flags take bytes or units', () => {
  assert.equal(sizeFlag('max-input-bytes', '4Mi'), 4 * 1024 * 1024);
  assert.equal(sizeFlag('max-input-bytes', '500k'), 500_000);
  assert.equal(sizeFlag('max-input-bytes', '1024'), 1024);
  assert.throws(() => sizeFlag('max-input-bytes', 'lots'), /--max-input-bytes: "lots" is not a size/);
  assert.throws(() => sizeFlag('max-input-bytes', '0'), UsageError);
});

test('IPAM views: the holder of an address, and addresses borrowed from other nodes', () => {
  let b = newBlock('10.244.1.0/26', hostAffinity('node-1'));
  b = allocate(b, 2, 'k8s-pod-network.c1', {
    namespace: 'default',
    pod: 'web',
    node: 'node-1',
    timestamp: '2026-01-02T03:04:05.000Z',
  }).block;
  b = allocate(b, 1, 'k8s-pod-network.c2', { namespace: 'ns2', pod: 'db', node: 'node-2' }).block;
  b = allocate(b, 1, 'vxlan-tunnel-addr-node-3', { node: 'node-3' }).block;
  b = allocate(b, 1, 'old-handle', {}).block;
  const found = findAllocation([b], parseIp('10.244.1.1')!);
  assert.equal(found.block?.cidr, '10.244.1.0/26');
  assert.deepEqual(found.allocation, {
    ip: '10.244.1.1',
    hostCidr: '10.244.1.1/32',
    block: '10.244.1.0/26',
    blockOwner: 'node-1',
    handle: 'k8s-pod-network.c1',
    type: 'pod',
    node: 'node-1',
    namespace: 'default',
    pod: 'web',
    allocatedAt: '2026-01-02T03:04:05.000Z',
    borrowed: false,
    attributes: { namespace: 'default', pod: 'web', node: 'node-1', timestamp: '2026-01-02T03:04:05.000Z' },
  });
  const free = findAllocation([b], parseIp('10.244.1.40')!);
  assert.equal(free.block?.cidr, '10.244.1.0/26');
  assert.equal(free.allocation, undefined);
  assert.deepEqual(findAllocation([b], parseIp('10.9.9.9')!), {});
  const { borrowed, unclassified } = borrowedAllocations([b]);
  assert.deepEqual(
    borrowed.map((x) => [x.ip, x.node, x.blockOwner, x.type, x.pod]),
    [
      ['10.244.1.2', 'node-2', 'node-1', 'pod', 'db'],
      ['10.244.1.3', 'node-3', 'node-1', 'vxlanTunnelAddress', null],
    ],
  );
  assert.equal(unclassified, 1, 'an allocation without a node cannot be classified');
});

test("node status: calicoctl's layout from bird's show status / show protocols", () => {
  const now = Date.parse('2026-05-02T12:00:00Z');
  const peer = (over: Partial<BirdProtocol>): BirdProtocol => ({
    name: 'Mesh_192_168_200_12',
    address: '192.168.200.12',
    as: 64512,
    type: 'iBGP',
    state: 'Established',
    since: '2026-05-02T11:57:48.000Z',
    prefixesReceived: 1,
    prefixesSent: 2,
    updatesIn: 3,
    updatesOut: 4,
    routerId: '192.168.200.12',
    holdTime: 90,
    ...over,
  });
  const peers = [
    peer({}),
    peer({
      name: 'Node_192_168_200_13',
      address: '192.168.200.13',
      state: 'Active',
      lastError: 'connect ECONNREFUSED',
    }),
    peer({ name: 'Node_fd00__1', address: 'fd00::1', rrClient: true }),
  ];
  assert.equal(peerType(peers[0]!), 'node-to-node mesh');
  assert.equal(peerType(peers[1]!), 'node specific');
  assert.equal(peerType(peers[2]!), 'node specific (rr client)');
  assert.equal(peerState(peers[0]!), 'up');
  assert.equal(peerState(peers[1]!), 'start');
  const text = renderNodeStatus(
    '/run/bird.ctl',
    { routerId: '192.168.200.11', as: 64512, uptimeSeconds: 3725 },
    peers.slice(0, 2),
    false,
    now,
  );
  assert.equal(
    text,
    [
      'Tricolor bird is running: router id 192.168.200.11, AS 64512, up 1h2m',
      "(read from bird's control socket /run/bird.ctl)",
      '',
      'IPv4 BGP status',
      'PEER ADDRESS     PEER TYPE           STATE   SINCE                         INFO',
      '192.168.200.12   node-to-node mesh   up      2026-05-02 11:57:48 (2m12s)   Established',
      '192.168.200.13   node specific       start   2026-05-02 11:57:48 (2m12s)   Active; connect ECONNREFUSED',
      '',
      'IPv6 BGP status',
      'No IPv6 peers found.',
      '',
    ].join('\n'),
  );
  const wide = renderNodeStatus('/s', { routerId: '1.1.1.1', as: 1, uptimeSeconds: 1 }, peers, true, now);
  assert.match(wide, /IMPORTED\s+EXPORTED\s+UPDATES IN\/OUT/);
  assert.match(wide, /fd00::1\s+node specific \(rr client\)\s+up/);
  assert.match(wide, /Mesh_192_168_200_12\s+64512\s+192\.168\.200\.12\s+90\s+1\s+2\s+3\/4/);
});
