/** The pure etcd → peers derivation: mesh, route reflectors, BGPPeers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type BGPPeer,
  DEFAULT_BGP_CONFIGURATION,
  type Node,
  validateBGPPeer,
  validateNode,
} from '@tricolor/datastore';
import { peersFromResources } from '../src/config/etcd.js';

const node = (
  name: string,
  ip: string,
  extra: Record<string, unknown> = {},
  labels: Record<string, string> = {},
) =>
  validateNode({
    kind: 'Node',
    apiVersion: 'tricolor.dev/v1',
    metadata: { name, labels },
    spec: { bgp: { ipv4Address: `${ip}/24`, ...extra } },
  });

test('full mesh of all nodes; both sides of a pair connect', () => {
  const nodes = [node('a', '10.0.0.1'), node('b', '10.0.0.2'), node('c', '10.0.0.3')];
  const p = peersFromResources('b', nodes, DEFAULT_BGP_CONFIGURATION, []);
  assert.deepEqual(
    p.map((x) => [x.address, x.as, x.passive]),
    [
      ['10.0.0.1', 64512, undefined],
      ['10.0.0.3', 64512, undefined],
    ],
  );
  assert.deepEqual(
    peersFromResources('b', nodes, { ...DEFAULT_BGP_CONFIGURATION, nodeToNodeMeshEnabled: false }, []),
    [],
  );
});

test('route reflectors leave the mesh and serve the nodes that select them', () => {
  const nodes = [
    node('rr', '10.0.0.1', { routeReflectorClusterID: '244.0.0.1' }, { rr: 'yes' }),
    node('b', '10.0.0.2'),
    node('c', '10.0.0.3'),
  ];
  const toRr = validateBGPPeer({
    kind: 'BGPPeer',
    apiVersion: 'tricolor.dev/v1',
    metadata: { name: 'to-rr' },
    spec: { peerSelector: "rr == 'yes'" },
  });
  const cfg = { ...DEFAULT_BGP_CONFIGURATION, nodeToNodeMeshEnabled: false };
  // Clients connect to the reflector; the reflector waits for them.
  assert.deepEqual(
    peersFromResources('b', nodes, cfg, [toRr]).map((x) => [x.address, !!x.rrClient, !!x.passive]),
    [['10.0.0.1', false, false]],
  );
  assert.deepEqual(
    peersFromResources('rr', nodes, cfg, [toRr]).map((x) => [x.address, x.rrClient, x.passive]),
    [
      ['10.0.0.2', true, true],
      ['10.0.0.3', true, true],
    ],
  );
  const router = validateBGPPeer({
    kind: 'BGPPeer',
    apiVersion: 'tricolor.dev/v1',
    metadata: { name: 'tor' },
    spec: { peerIP: '192.0.2.1:1790', asNumber: 65001, node: 'c' },
  });
  assert.deepEqual(
    peersFromResources('c', nodes, cfg, [toRr, router]).map((x) => [x.address, x.port, x.as]),
    [
      ['10.0.0.1', undefined, 64512],
      ['192.0.2.1', 1790, 65001],
    ],
  );
  assert.equal(peersFromResources('b', nodes, cfg, [router]).length, 0);
});

test('TCP MD5 passwords are refused loudly, never silently ignored', () => {
  const warnings: string[] = [];
  const nodes = [
    {
      kind: 'Node',
      apiVersion: 'tricolor.dev/v1',
      metadata: { name: 'a' },
      spec: { bgp: { ipv4Address: '10.0.0.1/24' } },
    },
    {
      kind: 'Node',
      apiVersion: 'tricolor.dev/v1',
      metadata: { name: 'b' },
      spec: { bgp: { ipv4Address: '10.0.0.2/24' } },
    },
  ] as Node[];
  const cfg = { ...DEFAULT_BGP_CONFIGURATION, nodeMeshPassword: 's3cret' };
  const router = {
    kind: 'BGPPeer',
    apiVersion: 'tricolor.dev/v1',
    metadata: { name: 'tor' },
    spec: { peerIP: '10.0.0.254', asNumber: 65000, password: 'x', keepOriginalNextHop: false },
  } as BGPPeer;
  const peers = peersFromResources('a', nodes, cfg, [router], (m) => warnings.push(m));
  assert.deepEqual(peers, [], 'no session may start without the authentication asked for');
  assert.equal(warnings.length, 2);
  assert.match(warnings[0]!, /nodeMeshPassword \(TCP MD5\) is not supported/);
  assert.match(warnings[1]!, /BGPPeer tor: password/);
  assert.equal(
    peersFromResources('a', nodes, DEFAULT_BGP_CONFIGURATION, []).length,
    1,
    'without passwords the mesh forms',
  );
});
