import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  namespaceProfileName,
  serviceAccountProfileName,
  ValidationError,
  validateBGPConfiguration,
  validateBGPPeer,
  validateIPPool,
  validateNetworkPolicy,
  validateNode,
  validateProfile,
  validateResource,
  validateWorkloadEndpoint,
} from '../src/index.js';

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ValidationError, `expected ValidationError, got ${e}`);
    return e.issues.map((i) => `${i.field}: ${i.message}`);
  }
  assert.fail('expected a validation error');
}

const pool = (spec: Record<string, unknown>) => ({
  kind: 'IPPool',
  apiVersion: 'tricolor.dev/v1',
  metadata: { name: 'p' },
  spec,
});

test('IPPool: defaults, and errors that name the field', () => {
  const p = validateIPPool(pool({ cidr: '10.244.0.0/16' }));
  assert.deepEqual(p.spec, {
    cidr: '10.244.0.0/16',
    blockSize: 26,
    ipipMode: 'Never',
    vxlanMode: 'Never',
    natOutgoing: false,
    disabled: false,
    disableBGPExport: false,
    nodeSelector: 'all()',
  });
  assert.equal(validateIPPool(pool({ cidr: 'fd00:10::/64' })).spec.blockSize, 122);
  assert.deepEqual(
    issuesOf(() => validateIPPool(pool({ cidr: '10.0.0.0/33' }))),
    ['spec.cidr: "10.0.0.0/33" is not a valid CIDR (host bits must be zero)'],
  );
  assert.match(
    new ValidationError('IPPool', [{ field: 'spec.cidr', message: '"10.0.0.0/33" is not a valid CIDR' }])
      .message,
    /spec\.cidr: "10\.0\.0\.0\/33" is not a valid CIDR/,
  );
  assert.deepEqual(
    issuesOf(() => validateIPPool(pool({ cidr: '10.0.0.0/16', blockSize: 19 }))),
    ['spec.blockSize: 19 is below the minimum 20'],
  );
  assert.deepEqual(
    issuesOf(() => validateIPPool(pool({ cidr: '10.0.0.0/28', blockSize: 26 }))),
    ['spec.blockSize: 26 is larger than the pool 10.0.0.0/28 itself'],
  );
  assert.deepEqual(
    issuesOf(() => validateIPPool(pool({ cidr: '10.0.0.0/16', ipipMode: 'Sometimes' }))),
    ['spec.ipipMode: "Sometimes" is not one of Never, Always, CrossSubnet'],
  );
  assert.deepEqual(
    issuesOf(() => validateIPPool(pool({ cidr: '10.0.0.0/16', natOutgoing: 'yes' }))),
    ['spec.natOutgoing: "yes" is not true or false'],
  );
  assert.deepEqual(
    issuesOf(() => validateIPPool(pool({}))),
    ['spec.cidr: is required'],
  );
  assert.deepEqual(
    issuesOf(() => validateIPPool({ ...pool({ cidr: '10.0.0.0/16' }), metadata: { name: 'Bad_Name' } })),
    ['metadata.name: "Bad_Name" is not a valid name (lower-case letters, digits, "-" and ".")'],
  );
});

test('every problem of a resource is reported at once', () => {
  const issues = issuesOf(() => validateIPPool(pool({ cidr: 'x', blockSize: 'big', vxlanMode: 1 })));
  assert.deepEqual(issues, [
    'spec.cidr: "x" is not a valid CIDR (host bits must be zero)',
    'spec.blockSize: "big" is not an integer',
    'spec.vxlanMode: must be a string, not 1',
  ]);
});

test('Node, BGPConfiguration and BGPPeer validation', () => {
  const node = validateNode({
    kind: 'Node',
    metadata: { name: 'node-1', labels: { 'route-reflector': 'true' } },
    spec: { bgp: { ipv4Address: '192.168.26.105/24', routeReflectorClusterID: '244.0.0.1' } },
  });
  assert.equal(node.spec.bgp?.ipv4Address, '192.168.26.105/24');
  assert.deepEqual(
    issuesOf(() =>
      validateNode({
        kind: 'Node',
        metadata: { name: 'n' },
        spec: { bgp: { ipv4Address: '192.168.1.5', asNumber: 0 } },
      }),
    ),
    [
      'spec.bgp.ipv4Address: "192.168.1.5" is not an IPv4 address with prefix length (like 192.168.1.5/24)',
      'spec.bgp.asNumber: 0 is below the minimum 1',
    ],
  );
  const cfg = validateBGPConfiguration({ kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: {} });
  assert.equal(cfg.spec.asNumber, 64512);
  assert.equal(cfg.spec.nodeToNodeMeshEnabled, true);
  assert.deepEqual(
    issuesOf(() =>
      validateBGPConfiguration({
        kind: 'BGPConfiguration',
        metadata: { name: 'default' },
        spec: { holdTime: 2 },
      }),
    ),
    ['spec.holdTime: must be 0 or at least 3 seconds (RFC 4271)'],
  );
  assert.deepEqual(
    issuesOf(() =>
      validateBGPPeer({
        kind: 'BGPPeer',
        metadata: { name: 'p' },
        spec: { peerIP: '192.0.2.1:99999', asNumber: 64512 },
      }),
    ),
    ['spec.peerIP: port 99999 is out of range'],
  );
  assert.deepEqual(
    issuesOf(() =>
      validateBGPPeer({ kind: 'BGPPeer', metadata: { name: 'p' }, spec: { peerSelector: 'has(rr' } }),
    ),
    [`spec.peerSelector: "has(rr" is not a valid selector: expected ')' at end`],
  );
  const rr = validateBGPPeer({
    kind: 'BGPPeer',
    metadata: { name: 'to-rr' },
    spec: { nodeSelector: '!has(rr)', peerSelector: 'has(rr)' },
  });
  assert.equal(rr.spec.peerSelector, 'has(rr)');
});

test('WorkloadEndpoint and NetworkPolicy validation', () => {
  const wep = validateWorkloadEndpoint({
    kind: 'WorkloadEndpoint',
    metadata: { name: 'n1-k8s-web-eth0', namespace: 'default' },
    spec: {
      node: 'n1',
      workload: 'default/web',
      interfaceName: 'cali0123456789a',
      mac: 'ee:ee:ee:ee:ee:ee',
      ipNetworks: ['10.244.1.5/32'],
    },
  });
  assert.equal(wep.spec.orchestrator, 'k8s');
  assert.deepEqual(
    issuesOf(() =>
      validateWorkloadEndpoint({
        kind: 'WorkloadEndpoint',
        metadata: { name: 'w' },
        spec: {
          node: 'n',
          workload: 'x',
          interfaceName: 'way-too-long-interface',
          ipNetworks: ['10.1.1.1/40'],
        },
      }),
    ),
    [
      'metadata.namespace: is required for WorkloadEndpoint',
      'spec.interfaceName: "way-too-long-interface" is not a Linux interface name (1-15 characters)',
      'spec.ipNetworks[0]: "10.1.1.1/40" is not a valid CIDR',
    ],
  );
  const pol = validateNetworkPolicy({
    kind: 'NetworkPolicy',
    metadata: { name: 'allow-web', namespace: 'default' },
    spec: {
      selector: "app == 'web'",
      ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [80, '8080:8090'] } }],
    },
  });
  assert.deepEqual(pol.spec.types, ['Ingress']);
  assert.deepEqual(
    issuesOf(() =>
      validateNetworkPolicy({
        kind: 'NetworkPolicy',
        metadata: { name: 'x', namespace: 'd' },
        spec: { egress: [{ action: 'Maybe', destination: { ports: [80] } }] },
      }),
    ),
    [
      'spec.egress[0].action: "Maybe" is not one of Allow, Deny, Log, Pass',
      'spec.egress[0].protocol: must be TCP, UDP, SCTP or UDPLite when ports are given',
    ],
  );
});

test('validateResource dispatches on kind and rejects unknown kinds', () => {
  assert.equal(validateResource(pool({ cidr: '10.0.0.0/16' })).kind, 'IPPool');
  assert.deepEqual(
    issuesOf(() => validateResource({ kind: 'Pod' })),
    [
      'kind: "Pod" is not one of IPPool, Node, BGPConfiguration, BGPPeer, WorkloadEndpoint, NetworkPolicy, GlobalNetworkPolicy, Profile, FelixConfiguration',
    ],
  );
});

test('Profile: labels its endpoints inherit and rules, cluster-scoped, named by namespace or service account', () => {
  const p = validateProfile({
    kind: 'Profile',
    metadata: { name: namespaceProfileName('x') },
    spec: { labelsToApply: { ns: 'x' }, ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] },
  });
  assert.equal(p.metadata.name, 'kns.x');
  assert.deepEqual(p.spec.labelsToApply, { ns: 'x' });
  assert.equal(p.spec.ingress[0]?.action, 'Allow');
  assert.equal(serviceAccountProfileName('x', 'default'), 'ksa.x.default');
  assert.deepEqual(validateProfile({ kind: 'Profile', metadata: { name: 'kns.y' } }).spec, {
    labelsToApply: {},
    ingress: [],
    egress: [],
  });
  assert.deepEqual(
    issuesOf(() =>
      validateResource({
        kind: 'Profile',
        metadata: { name: 'kns.x', namespace: 'x' },
        spec: { labelsToApply: { 'bad key!': 'v' }, ingress: [{ action: 'Maybe' }] },
      }),
    ),
    [
      'metadata.namespace: must be empty: Profile is not namespaced',
      'spec.labelsToApply.bad key!: is not a valid label key',
      'spec.ingress[0].action: "Maybe" is not one of Allow, Deny, Log, Pass',
    ],
  );
});

test('WorkloadEndpoint: named container ports and the service account', () => {
  const base = {
    kind: 'WorkloadEndpoint',
    metadata: { name: 'n1-k8s-a-eth0', namespace: 'x' },
    spec: { node: 'n1', workload: 'x/a', interfaceName: 'cali0123456789a', ipNetworks: ['10.0.0.1/32'] },
  };
  const w = validateWorkloadEndpoint({
    ...base,
    spec: {
      ...base.spec,
      serviceAccountName: 'default',
      ports: [
        { name: 'serve-80-tcp', protocol: 'TCP', port: 80 },
        { name: 'dns', protocol: 'UDP', port: 53 },
        { name: 'web', port: 8080 },
      ],
    },
  });
  assert.equal(w.spec.serviceAccountName, 'default');
  assert.deepEqual(w.spec.ports, [
    { name: 'serve-80-tcp', protocol: 'TCP', port: 80 },
    { name: 'dns', protocol: 'UDP', port: 53 },
    { name: 'web', protocol: 'TCP', port: 8080 },
  ]);
  assert.deepEqual(
    issuesOf(() =>
      validateWorkloadEndpoint({
        ...base,
        spec: {
          ...base.spec,
          ports: [
            { name: 'Web', port: 80 },
            { name: '8080', port: 80 },
            { name: 'a-', port: 80 },
            { name: 'ok', protocol: 'ICMP', port: 0 },
          ],
        },
      }),
    ),
    [
      'spec.ports[0].name: "Web" is not a port name (1-15 lower-case letters, digits and "-", at least one letter)',
      'spec.ports[1].name: "8080" is not a port name (1-15 lower-case letters, digits and "-", at least one letter)',
      'spec.ports[2].name: "a-" is not a port name (1-15 lower-case letters, digits and "-", at least one letter)',
      'spec.ports[3].protocol: "ICMP" is not one of TCP, UDP, SCTP',
      'spec.ports[3].port: 0 is below the minimum 1',
    ],
  );
});
