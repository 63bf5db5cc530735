/** The pure etcd → peers derivation: mesh, passive rule, route reflectors, BGPPeers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_BGP_CONFIGURATION, validateBGPPeer, validateNode } from '@tricolor/datastore';
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

test('full mesh of all nodes; the lower address of a pair is passive', () => {
  const nodes = [node('a', '10.0.0.1'), node('b', '10.0.0.2'), node('c', '10.0.0.3')];
  const p = peersFromResources('b', nodes, DEFAULT_BGP_CONFIGURATION, []);
  assert.deepEqual(
    p.map((x) => [x.address, x.as, x.passive]),
    [
      ['10.0.0.1', 64512, false],
      ['10.0.0.3', 64512, true],
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
  assert.deepEqual(
    peersFromResources('b', nodes, cfg, [toRr]).map((x) => [x.address, !!x.rrClient]),
    [['10.0.0.1', false]],
  );
  assert.deepEqual(
    peersFromResources('rr', nodes, cfg, [toRr]).map((x) => [x.address, x.rrClient]),
    [
      ['10.0.0.2', true],
      ['10.0.0.3', true],
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
