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
    ['spec.cidr: "10.0.0.0/33" is not a valid CIDR: prefix length 33 over 32'],
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
    'spec.cidr: "x" is not a valid CIDR: not an IPv4 or IPv6 address',
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
      'spec.ipNetworks[0]: "10.1.1.1/40" is not a valid CIDR: prefix length 40 over 32',
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

test('strict input: an unknown field anywhere is an error naming it, with a suggestion for typos', () => {
  assert.deepEqual(
    issuesOf(() => validateIPPool(pool({ cidr: '10.0.0.0/16', natOutgoin: true }))),
    ['spec.natOutgoin: is not a known field (did you mean natOutgoing?)'],
  );
  assert.deepEqual(
    issuesOf(() => validateResource({ ...pool({ cidr: '10.0.0.0/16' }), extra: 1 })),
    ['extra: is not a known field'],
  );
  assert.deepEqual(
    issuesOf(() =>
      validateNetworkPolicy({
        kind: 'NetworkPolicy',
        metadata: { name: 'p', namespace: 'x', nmae: 'q' },
        spec: {
          ingress: [{ action: 'Allow', source: { selektor: "a == 'b'", nets: ['10.0.0.0/8'] } }],
          egress: [{ action: 'Allow', icmp: { type: 8, cod: 0 }, protocol: 'ICMP' }],
        },
      }),
    ),
    [
      'metadata.nmae: is not a known field (did you mean name?)',
      'spec.ingress[0].source.selektor: is not a known field (did you mean selector?)',
      'spec.egress[0].icmp.cod: is not a known field (did you mean code?)',
    ],
  );
  // Every kind gets it: the check lives in the one field checker.
  for (const raw of [
    { kind: 'Node', metadata: { name: 'n' }, spec: { bgp: { ipv4Adress: '10.0.0.1/24' } } },
    { kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { asnumber: 64512 } },
    { kind: 'BGPPeer', metadata: { name: 'p' }, spec: { peerIP: '10.0.0.1', asNumber: 1, passwd: 'x' } },
    { kind: 'FelixConfiguration', metadata: { name: 'default' }, spec: { mtuu: 1400 } },
    { kind: 'Profile', metadata: { name: 'kns.x' }, spec: { labelsToApply: {}, labels: {} } },
    {
      kind: 'WorkloadEndpoint',
      metadata: { name: 'w', namespace: 'x' },
      spec: {
        node: 'n',
        workload: 'x/a',
        interfaceName: 'cali1',
        ports: [{ name: 'web', port: 80, hostPort: 1 }],
      },
    },
    { kind: 'GlobalNetworkPolicy', metadata: { name: 'g' }, spec: { tier: 'security' } },
  ]) {
    const issues = issuesOf(() => validateResource(raw));
    assert.equal(issues.length, 1, `${raw.kind}: ${issues.join('; ')}`);
    assert.match(issues[0]!, /is not a known field/);
  }
  // Kubernetes bookkeeping in metadata is known (kubectl output applied back), and not stored.
  const p = validateIPPool({
    ...pool({ cidr: '10.0.0.0/16' }),
    metadata: {
      name: 'p',
      uid: 'u',
      resourceVersion: '5',
      creationTimestamp: '2024-01-01T00:00:00Z',
      generation: 3,
      managedFields: [{ manager: 'kubectl' }],
      ownerReferences: [],
      finalizers: ['x'],
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
    },
  });
  assert.deepEqual(Object.keys(p.metadata).sort(), [
    'annotations',
    'creationTimestamp',
    'name',
    'resourceVersion',
    'uid',
  ]);
  // Node status is the agents' free-form report.
  assert.ok(
    validateNode({
      kind: 'Node',
      metadata: { name: 'n' },
      spec: {},
      status: { felix: { ready: true, x: 1 } },
    }),
  );
});

test('CIDR errors say what is wrong', () => {
  const cidrIssue = (cidr: string) => issuesOf(() => validateIPPool(pool({ cidr })))[0];
  assert.equal(
    cidrIssue('10.300.0.0/16'),
    'spec.cidr: "10.300.0.0/16" is not a valid CIDR: octet 300 out of range (0-255)',
  );
  assert.equal(
    cidrIssue('10.0.0.0/33'),
    'spec.cidr: "10.0.0.0/33" is not a valid CIDR: prefix length 33 over 32',
  );
  assert.equal(
    cidrIssue('10.0.0.1/24'),
    'spec.cidr: "10.0.0.1/24" is not a valid CIDR: host bits set (0.0.0.1 beyond the /24; the network is 10.0.0.0/24)',
  );
  assert.equal(
    cidrIssue('10.0.0/16'),
    'spec.cidr: "10.0.0/16" is not a valid CIDR: an IPv4 address has 4 octets, not 3',
  );
  assert.equal(
    cidrIssue('10.0.0.0/x'),
    'spec.cidr: "10.0.0.0/x" is not a valid CIDR: prefix length "x" is not a number',
  );
  assert.equal(
    cidrIssue('fd00::/129'),
    'spec.cidr: "fd00::/129" is not a valid CIDR: prefix length 129 over 128',
  );
  assert.equal(
    cidrIssue('fd00::1/64'),
    'spec.cidr: "fd00::1/64" is not a valid CIDR: host bits set (::1 beyond the /64; the network is fd00::/64)',
  );
  assert.equal(
    cidrIssue('010.0.0.0/8'),
    'spec.cidr: "010.0.0.0/8" is not a valid CIDR: octet 010 has a leading zero (ambiguous: octal?)',
  );
});

const policy = (spec: Record<string, unknown>, kind = 'NetworkPolicy') => ({
  kind,
  apiVersion: 'tricolor.dev/v1',
  metadata: kind === 'NetworkPolicy' ? { name: 'p', namespace: 'x' } : { name: 'p' },
  spec,
});

test("policy types default as Calico's: both with both rule lists, Egress with egress rules only, else Ingress", () => {
  const types = (spec: Record<string, unknown>) => validateNetworkPolicy(policy(spec)).spec.types;
  assert.deepEqual(types({}), ['Ingress']);
  assert.deepEqual(types({ ingress: [{ action: 'Allow' }] }), ['Ingress']);
  assert.deepEqual(types({ egress: [{ action: 'Allow' }] }), ['Egress']);
  assert.deepEqual(types({ ingress: [{ action: 'Allow' }], egress: [{ action: 'Deny' }] }), [
    'Ingress',
    'Egress',
  ]);
  assert.deepEqual(types({ types: ['Egress'], ingress: [{ action: 'Allow' }] }), ['Egress']);
  assert.deepEqual(types({ types: [] }), []);
  assert.deepEqual(
    issuesOf(() => validateNetworkPolicy(policy({ types: ['Ingress', 'Ingress'] }))),
    ['spec.types: lists a type twice'],
  );
});

test('rules: protocols by name or number, ports, ranges and named ports, ICMP, ipVersion, service accounts', () => {
  const p = validateResource(
    policy(
      {
        order: 10.5,
        selector: "app == 'db'",
        namespaceSelector: "ns == 'x'",
        serviceAccountSelector: "role == 'api'",
        ingress: [
          {
            action: 'Allow',
            protocol: 'tcp',
            destination: { ports: [80, '81', '8080:8090', 'serve-80-tcp'] },
          },
          { action: 'Deny', protocol: 17, notProtocol: 'TCP', source: { notPorts: ['1:1023'] } },
          { action: 'Log', protocol: 'ICMP', icmp: { type: 8, code: 0 }, ipVersion: 4 },
          { action: 'Pass', protocol: 'ICMPv6', notICMP: { type: 128 } },
          {
            action: 'Allow',
            source: {
              nets: ['10.1.0.0/16'],
              notNets: ['10.1.2.0/24'],
              notSelector: 'has(x)',
              serviceAccounts: { names: ['default'], selector: "team == 'a'" },
            },
            metadata: { annotations: { why: 'because' } },
          },
        ],
      },
      'GlobalNetworkPolicy',
    ),
  );
  assert.equal(p.kind, 'GlobalNetworkPolicy');
  const spec = p.spec as import('../src/index.js').PolicySpec;
  assert.equal(spec.order, 10.5);
  assert.equal(spec.namespaceSelector, "ns == 'x'");
  assert.equal(spec.serviceAccountSelector, "role == 'api'");
  assert.deepEqual(spec.ingress[0], {
    action: 'Allow',
    protocol: 'TCP',
    source: {},
    destination: { ports: [80, 81, '8080:8090', 'serve-80-tcp'] },
  });
  assert.equal(spec.ingress[1]?.protocol, 17);
  assert.equal(spec.ingress[1]?.notProtocol, 'TCP');
  assert.deepEqual(spec.ingress[2]?.icmp, { type: 8, code: 0 });
  assert.deepEqual(spec.ingress[3]?.notICMP, { type: 128 });
  assert.deepEqual(spec.ingress[4]?.source.serviceAccounts, { names: ['default'], selector: "team == 'a'" });
  assert.deepEqual(spec.ingress[4]?.metadata, { annotations: { why: 'because' } });
  // The validated form validates again to itself (it is what the store writes and reads back).
  assert.deepEqual(validateResource(p), p);

  assert.deepEqual(
    issuesOf(() =>
      validateNetworkPolicy(
        policy({
          order: 'first',
          ingress: [
            { action: 'Allow', protocol: 'HTTP' },
            { action: 'Allow', protocol: 'TCP', destination: { ports: [70000, '90:80', 'Web', true] } },
            { action: 'Allow', protocol: 'UDP', icmp: { type: 8 } },
            { action: 'Allow', protocol: 'ICMP', icmp: { code: 1 }, ipVersion: 6 },
            { action: 'Allow', ipVersion: 6, source: { nets: ['10.0.0.0/8'] } },
            { action: 'Allow', source: { selector: 'a ==' } },
          ],
        }),
      ),
    ),
    [
      'spec.ingress[0].protocol: "HTTP" is not a protocol (TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or a number 1-255)',
      'spec.ingress[1].destination.ports[0]: 70000 is not a port: a number 0-65535, a range like "8080:8090" or a port name (1-15 lower-case letters, digits and "-")',
      'spec.ingress[1].destination.ports[1]: "90:80" is not a port: a number 0-65535, a range like "8080:8090" or a port name (1-15 lower-case letters, digits and "-")',
      'spec.ingress[1].destination.ports[2]: "Web" is not a port: a number 0-65535, a range like "8080:8090" or a port name (1-15 lower-case letters, digits and "-")',
      'spec.ingress[1].destination.ports[3]: true is not a port: a number 0-65535, a range like "8080:8090" or a port name (1-15 lower-case letters, digits and "-")',
      'spec.ingress[2].protocol: must be ICMP or ICMPv6 when icmp or notICMP is given',
      'spec.ingress[3].icmp.code: needs a type',
      'spec.ingress[3].ipVersion: must be 4 (or absent) with protocol ICMP',
      'spec.ingress[4].source.nets[0]: "10.0.0.0/8" is not an IPv6 network, as the rule\'s ipVersion requires',
      'spec.ingress[5].source.selector: "a ==" is not a valid selector: expected a quoted value at end',
      'spec.order: "first" is not a number',
    ],
  );
  // namespaceSelector on a namespaced NetworkPolicy's spec is not a field it has.
  assert.deepEqual(
    issuesOf(() => validateNetworkPolicy(policy({ namespaceSelector: 'all()' }))),
    ['spec.namespaceSelector: is not a known field'],
  );
});

test("BGP passwords: Calico's secretKeyRef or the text itself, at most 80 bytes, Secret names and keys checked", () => {
  const peer = (password: unknown) =>
    validateBGPPeer({
      kind: 'BGPPeer',
      metadata: { name: 'tor' },
      spec: { peerIP: '192.0.2.1', asNumber: 65001, password },
    });
  assert.deepEqual(peer({ secretKeyRef: { name: 'bgp-secrets', key: 'tor.password' } }).spec.password, {
    secretKeyRef: { name: 'bgp-secrets', key: 'tor.password' },
  });
  assert.equal(peer('s3cret').spec.password, 's3cret');
  const mesh = validateBGPConfiguration({
    kind: 'BGPConfiguration',
    metadata: { name: 'default' },
    spec: { nodeMeshPassword: { secretKeyRef: { name: 'bgp-secrets', key: 'mesh' } } },
  });
  assert.deepEqual(mesh.spec.nodeMeshPassword, { secretKeyRef: { name: 'bgp-secrets', key: 'mesh' } });
  assert.deepEqual(
    issuesOf(() => peer('é'.repeat(41))),
    ['spec.password: is 82 bytes; TCP MD5 keys are at most 80'],
  );
  assert.deepEqual(
    issuesOf(() => peer({ secretKeyRef: { name: '../etc', key: '..' } })),
    [
      'spec.password.secretKeyRef.name: "../etc" is not a Secret name (lower-case letters, digits, "-" and ".")',
      'spec.password.secretKeyRef.key: ".." is not a Secret key (letters, digits, "-", "_" and ".", not starting with "..")',
    ],
  );
  assert.deepEqual(
    issuesOf(() => peer({ secretKeyRef: { name: 'a' } })),
    ['spec.password.secretKeyRef.key: is required'],
  );
  assert.deepEqual(
    issuesOf(() => peer({ secretRef: { name: 'a', key: 'b' } })),
    ['spec.password.secretKeyRef: is required', 'spec.password.secretRef: is not a known field'],
  );
  assert.deepEqual(
    issuesOf(() => peer(7)),
    ['spec.password: must be a string, not 7'],
  );
});
