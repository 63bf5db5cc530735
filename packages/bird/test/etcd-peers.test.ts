/** The pure etcd → peers derivation: mesh, route reflectors, BGPPeers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BGPPeer, DEFAULT_BGP_CONFIGURATION, validateBGPPeer, validateNode } from '@tricolor/datastore';
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

test('TCP MD5 passwords: the mesh password on every mesh session, a BGPPeer password on its own; an unreadable one starts nothing', () => {
  const warnings: string[] = [];
  const nodes = [node('a', '10.0.0.1'), node('b', '10.0.0.2'), node('c', '10.0.0.3')];
  const cfg = {
    ...DEFAULT_BGP_CONFIGURATION,
    nodeMeshPassword: { secretKeyRef: { name: 'bgp', key: 'mesh' } },
  };
  const tor = (name: string, peerIP: string, password: BGPPeer['spec']['password']) =>
    ({
      kind: 'BGPPeer',
      apiVersion: 'tricolor.dev/v1',
      metadata: { name },
      spec: { peerIP, asNumber: 65000, password, keepOriginalNextHop: false },
    }) as BGPPeer;
  const secrets: Record<string, string> = { 'bgp/mesh': 'mesh-pw' };
  const resolve = (field: string, p: NonNullable<BGPPeer['spec']['password']>) => {
    if (typeof p === 'string') return p;
    const v = secrets[`${p.secretKeyRef.name}/${p.secretKeyRef.key}`];
    if (v === undefined) throw new Error(`${field}.secretKeyRef: cannot read the password: ENOENT`);
    return v;
  };
  const peers = peersFromResources(
    'a',
    nodes,
    cfg,
    [
      tor('tor-inline', '10.0.0.254', 'tor-pw'),
      tor('tor-missing', '10.0.0.253', { secretKeyRef: { name: 'bgp', key: 'tor' } }),
      tor('tor-open', '10.0.0.252', undefined),
    ],
    (m) => warnings.push(m),
    resolve,
  );
  assert.deepEqual(
    peers.map((p) => [p.address, p.password]),
    [
      ['10.0.0.2', 'mesh-pw'],
      ['10.0.0.252', undefined],
      ['10.0.0.254', 'tor-pw'],
      ['10.0.0.3', 'mesh-pw'],
    ],
  );
  assert.deepEqual(warnings, [
    'BGPPeer tor-missing: spec.password.secretKeyRef: cannot read the password: ENOENT; its sessions are not started',
  ]);
  // The mesh password unreadable: no mesh session at all, never an unsigned one.
  warnings.length = 0;
  delete secrets['bgp/mesh'];
  assert.deepEqual(
    peersFromResources('a', nodes, cfg, [], (m) => warnings.push(m), resolve),
    [],
  );
  assert.match(
    warnings[0]!,
    /^BGPConfiguration default: spec\.nodeMeshPassword\.secretKeyRef: .*not started$/,
  );
});
