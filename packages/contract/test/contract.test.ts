import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipamKeys, parseCidr } from '@tricolor/datastore';
import {
  decodeAffinity,
  decodeAffinityEntry,
  HOST_SIDE_MAC,
  ownedBlocksFromAffinities,
  POD_GATEWAY_V6,
  workloadSysctls,
} from '../src/index.js';

test('the IPv6 gateway is the EUI-64 link-local address of the host-side MAC', () => {
  const b = HOST_SIDE_MAC.split(':').map((x) => Number.parseInt(x, 16));
  b[0] = b[0]! ^ 0x02; // universal/local bit flipped
  const eui = [b[0], b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]] as number[];
  const groups = [0, 2, 4, 6].map((i) => ((eui[i]! << 8) | eui[i + 1]!).toString(16));
  assert.equal(POD_GATEWAY_V6, `fe80::${groups.join(':')}`);
});

test('affinity states: one mapping for everyone; unknown or unreadable values give no ownership', () => {
  assert.equal(decodeAffinity('{"state":"confirmed"}'), 'confirmed');
  assert.equal(decodeAffinity('{"state":"pendingDeletion"}'), 'pendingDeletion');
  assert.equal(decodeAffinity('{"state":"weird"}'), 'pending');
  assert.equal(decodeAffinity('not json'), 'pending');
  const p = '/t/';
  const key = (node: string, block: string) => ipamKeys.affinity(p, node, parseCidr(block)!);
  assert.deepEqual(decodeAffinityEntry(p, key('n1', '10.244.1.0/26'), '{"state":"confirmed"}'), {
    node: 'n1',
    block: '10.244.1.0/26',
    state: 'confirmed',
    key: key('n1', '10.244.1.0/26'),
  });
  assert.equal(decodeAffinityEntry(p, '/t/ipam/v2/handle/x', '{}'), undefined);
  const owned = ownedBlocksFromAffinities(
    'n1',
    [
      { key: key('n1', 'fd00::/122'), value: '{"state":"confirmed"}' },
      { key: key('n1', '10.244.2.0/26'), value: '{"state":"confirmed"}' },
      { key: key('n1', '10.244.3.0/26'), value: '{"state":"pending"}' },
      { key: key('n1', '10.244.4.0/26'), value: '{"state":"bogus"}' },
      { key: key('n2', '10.244.1.0/26'), value: '{"state":"confirmed"}' },
    ],
    p,
  );
  assert.deepEqual(owned, ['10.244.2.0/26', 'fd00::/122']);
});

test('per-interface sysctls: four for IPv4, three more for IPv6', () => {
  assert.equal(workloadSysctls('cali1', false).length, 4);
  assert.deepEqual(workloadSysctls('cali1', true).slice(4), [
    ['net/ipv6/conf/cali1/proxy_ndp', '1'],
    ['net/ipv6/conf/cali1/forwarding', '1'],
    ['net/ipv6/conf/cali1/accept_ra', '0'],
  ]);
});
