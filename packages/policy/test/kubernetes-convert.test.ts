import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ValidationError } from '@tricolor/datastore';
import { convertKubernetesNetworkPolicy, labelSelectorToSelector, simplifyPorts } from '../src/index.js';

// Cases follow Calico's Kubernetes conversion tests (libcalico-go lib/backend/k8s/conversion,
// conversion_test.go, "Test selector conversion" and "Test NetworkPolicy conversion"): the facts
// (selector texts, rule splitting, ordering, defaults), with Tricolor's label names.
const K8S = "tricolor.dev/orchestrator == 'k8s'";

test('label selectors convert as Calico converts them', () => {
  const table: [string, Parameters<typeof labelSelectorToSelector>[0], 'pod' | 'namespace', string][] = [
    ['empty pod selector', {}, 'pod', K8S],
    ['empty namespace selector', {}, 'namespace', 'all()'],
    ['nil pod selector', undefined, 'pod', K8S],
    ['nil namespace selector', undefined, 'namespace', ''],
    [
      'DoesNotExist',
      { matchExpressions: [{ key: 'toast', operator: 'DoesNotExist' }] },
      'namespace',
      '! has(toast)',
    ],
    ['Exists', { matchExpressions: [{ key: 'toast', operator: 'Exists' }] }, 'namespace', 'has(toast)'],
    [
      'In',
      { matchExpressions: [{ key: 'toast', operator: 'In', values: ['butter', 'jam'] }] },
      'namespace',
      "toast in { 'butter', 'jam' }",
    ],
    [
      'NotIn',
      { matchExpressions: [{ key: 'toast', operator: 'NotIn', values: ['marmite', 'milk'] }] },
      'namespace',
      "toast not in { 'marmite', 'milk' }",
    ],
    [
      'DoesNotExist on pods',
      { matchExpressions: [{ key: 'toast', operator: 'DoesNotExist' }] },
      'pod',
      `${K8S} && ! has(toast)`,
    ],
    [
      'matchLabels sorted, then expressions in order',
      {
        matchLabels: { label2: 'value2', label: 'value' },
        matchExpressions: [
          { key: 'b', operator: 'Exists' },
          { key: 'a', operator: 'In', values: ['x'] },
        ],
      },
      'pod',
      `${K8S} && label == 'value' && label2 == 'value2' && has(b) && a in { 'x' }`,
    ],
  ];
  for (const [name, sel, kind, want] of table) assert.equal(labelSelectorToSelector(sel, kind), want, name);
});

const knp = (spec: Record<string, unknown>, name = 'test.policy') => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace: 'default' },
  spec,
});

test('policy envelope: knp.default.<name>, same namespace, order 1000, pod selector with the orchestrator', () => {
  const p = convertKubernetesNetworkPolicy(
    knp({ podSelector: { matchLabels: { label: 'value', label2: 'value2' } }, policyTypes: ['Ingress'] }),
  );
  assert.equal(p.kind, 'NetworkPolicy');
  assert.equal(p.metadata.name, 'knp.default.test.policy');
  assert.equal(p.metadata.namespace, 'default');
  assert.equal(p.spec.order, 1000);
  assert.equal(p.spec.selector, `${K8S} && label == 'value' && label2 == 'value2'`);
  assert.deepEqual(p.spec.ingress, []);
  assert.deepEqual(p.spec.egress, []);
  assert.deepEqual(p.spec.types, ['Ingress']);
});

test('policy types: as given; defaulted as the API server does (Ingress, plus Egress with egress rules)', () => {
  const types = (spec: Record<string, unknown>) =>
    convertKubernetesNetworkPolicy(knp({ podSelector: {}, ...spec })).spec.types;
  assert.deepEqual(types({ policyTypes: ['Egress'] }), ['Egress']);
  assert.deepEqual(types({ policyTypes: ['Egress', 'Ingress'] }), ['Ingress', 'Egress']);
  assert.deepEqual(types({}), ['Ingress']);
  assert.deepEqual(types({ egress: [] }), ['Ingress']);
  assert.deepEqual(types({ egress: [{}] }), ['Ingress', 'Egress']);
  assert.deepEqual(types({ ingress: [{}] }), ['Ingress']);
  assert.deepEqual(types({ policyTypes: [], egress: [{}] }), ['Ingress', 'Egress']);
  // Egress rules without Egress in policyTypes are converted but never apply.
  const p = convertKubernetesNetworkPolicy(knp({ podSelector: {}, egress: [{}], policyTypes: ['Ingress'] }));
  assert.deepEqual([p.spec.types, p.spec.egress.length], [['Ingress'], 1]);
  // A default-deny egress policy: Egress, no rules at all.
  const deny = convertKubernetesNetworkPolicy(
    knp({ podSelector: {}, policyTypes: ['Egress'] }, 'test-policy'),
  );
  assert.equal(deny.metadata.name, 'knp.default.test-policy');
  assert.equal(deny.spec.selector, K8S);
  assert.deepEqual([deny.spec.ingress, deny.spec.egress, deny.spec.types], [[], [], ['Egress']]);
});

test('rules: one per protocol (sorted) and peer, ports merged per protocol, TCP by default', () => {
  const p = convertKubernetesNetworkPolicy(
    knp({
      podSelector: { matchLabels: { label: 'value' } },
      ingress: [
        {
          ports: [
            { port: 90, protocol: 'UDP' },
            { port: 80, protocol: 'TCP' },
          ],
          from: [
            { podSelector: { matchLabels: { k: 'v' } } },
            { podSelector: { matchLabels: { k2: 'v2' } } },
          ],
        },
      ],
      policyTypes: ['Ingress'],
    }),
  );
  assert.deepEqual(
    p.spec.ingress.map((r) => [r.protocol, r.source.selector, r.destination.ports]),
    [
      ['TCP', `${K8S} && k == 'v'`, [80]],
      ['TCP', `${K8S} && k2 == 'v2'`, [80]],
      ['UDP', `${K8S} && k == 'v'`, [90]],
      ['UDP', `${K8S} && k2 == 'v2'`, [90]],
    ],
  );
  // A numbered and a named port of the default protocol in one rule; a DoesNotExist peer.
  const q = convertKubernetesNetworkPolicy(
    knp({
      podSelector: {},
      ingress: [
        {
          ports: [{ port: 80 }, { port: 'foo' }],
          from: [{ podSelector: { matchExpressions: [{ key: 'toast', operator: 'DoesNotExist' }] } }],
        },
      ],
    }),
  );
  assert.deepEqual(q.spec.ingress, [
    {
      action: 'Allow',
      protocol: 'TCP',
      source: { selector: `${K8S} && ! has(toast)` },
      destination: { ports: [80, 'foo'] },
    },
  ]);
  // An empty port entry means TCP on every port; a port without number makes the protocol all-ports.
  const r = convertKubernetesNetworkPolicy(
    knp({
      podSelector: {},
      ingress: [{ ports: [{}] }, { ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'UDP' }] }],
    }),
  );
  assert.deepEqual(r.spec.ingress, [
    { action: 'Allow', protocol: 'TCP', source: {}, destination: {} },
    { action: 'Allow', protocol: 'UDP', source: {}, destination: {} },
  ]);
});

test('peers: podSelector, namespaceSelector (nil, empty, set), both, ipBlock with except', () => {
  const ingressOf = (from: unknown[]) =>
    convertKubernetesNetworkPolicy(
      knp({ podSelector: { matchLabels: { label: 'value' } }, ingress: [{ from }] }),
    ).spec.ingress;
  assert.deepEqual(
    ingressOf([{ namespaceSelector: { matchLabels: { namespaceRole: 'dev', namespaceFoo: 'bar' } } }]),
    [
      {
        action: 'Allow',
        source: { selector: K8S, namespaceSelector: "namespaceFoo == 'bar' && namespaceRole == 'dev'" },
        destination: {},
      },
    ],
  );
  assert.deepEqual(ingressOf([{ podSelector: {} }]), [
    { action: 'Allow', source: { selector: K8S }, destination: {} },
  ]);
  assert.deepEqual(ingressOf([{ namespaceSelector: { matchLabels: {} } }]), [
    { action: 'Allow', source: { selector: K8S, namespaceSelector: 'all()' }, destination: {} },
  ]);
  assert.deepEqual(
    ingressOf([
      {
        namespaceSelector: { matchLabels: { namespaceRole: 'dev', namespaceFoo: 'bar' } },
        podSelector: { matchLabels: { podA: 'B', podC: 'D' } },
      },
    ]),
    [
      {
        action: 'Allow',
        source: {
          selector: `${K8S} && podA == 'B' && podC == 'D'`,
          namespaceSelector: "namespaceFoo == 'bar' && namespaceRole == 'dev'",
        },
        destination: {},
      },
    ],
  );
  assert.deepEqual(
    ingressOf([{ ipBlock: { cidr: '192.168.0.0/16', except: ['192.168.3.0/24', '192.168.4.0/24'] } }]),
    [
      {
        action: 'Allow',
        source: { nets: ['192.168.0.0/16'], notNets: ['192.168.3.0/24', '192.168.4.0/24'] },
        destination: {},
      },
    ],
  );
  // Egress peers land on the destination, beside the ports.
  const e = convertKubernetesNetworkPolicy(
    knp({
      podSelector: {},
      egress: [
        {
          to: [{ ipBlock: { cidr: '10.0.0.5/8' } }],
          ports: [{ protocol: 'TCP', port: 32000, endPort: 32768 }],
        },
      ],
      policyTypes: ['Egress'],
    }),
  );
  assert.deepEqual(e.spec.egress, [
    {
      action: 'Allow',
      protocol: 'TCP',
      source: {},
      destination: { nets: ['10.0.0.0/8'], ports: ['32000:32768'] },
    },
  ]);
});

test('empty versus missing: from/to/ports empty or absent mean everything; no rules mean nothing', () => {
  const conv = (spec: Record<string, unknown>) =>
    convertKubernetesNetworkPolicy(knp({ podSelector: {}, ...spec })).spec;
  const allowAll = [{ action: 'Allow', source: {}, destination: {} }];
  assert.deepEqual(conv({ ingress: [{}] }).ingress, allowAll);
  assert.deepEqual(conv({ ingress: [{ from: [] }] }).ingress, allowAll);
  assert.deepEqual(conv({ ingress: [{ from: [], ports: [] }] }).ingress, allowAll);
  assert.deepEqual(conv({ ingress: [] }).ingress, []);
  assert.deepEqual(conv({ egress: [], policyTypes: ['Egress'] }).egress, []);
});

test('ports are merged into ranges as Calico simplifies them', () => {
  assert.deepEqual(simplifyPorts([80, 81, 82, 9090, 'foo']), ['foo', '80:82', 9090]);
  assert.deepEqual(simplifyPorts([80, '75:80', 70]), [70, '75:80']);
  assert.deepEqual(simplifyPorts([53]), [53]);
});

function issues(raw: unknown): string[] {
  try {
    convertKubernetesNetworkPolicy(raw);
  } catch (e) {
    assert.ok(e instanceof ValidationError, String(e));
    return e.issues.map((i) => `${i.field}: ${i.message}`);
  }
  return assert.fail('expected a validation error');
}

test('input is validated strictly: unknown spec fields named, Kubernetes metadata and status tolerated', () => {
  const ok = convertKubernetesNetworkPolicy({
    ...knp({ podSelector: {} }),
    metadata: {
      name: 'p',
      namespace: 'default',
      uid: 'f0e1d2c3-0000-4000-8000-000000000000',
      resourceVersion: '123',
      generation: 1,
      creationTimestamp: '2024-01-01T00:00:00Z',
      managedFields: [{ manager: 'kubectl' }],
      annotations: { a: 'b' },
    },
    status: {},
  });
  assert.equal(ok.metadata.name, 'knp.default.p');
  // As an informer hands it over (@kubernetes/client-node): no apiVersion/kind on list items,
  // Date timestamps, members present but undefined.
  const fromInformer = convertKubernetesNetworkPolicy({
    metadata: { name: 'p', namespace: 'default', creationTimestamp: new Date(0), labels: undefined },
    spec: {
      podSelector: { matchLabels: undefined },
      ingress: [{ from: undefined, ports: [{ port: 80, endPort: undefined }] }],
      egress: undefined,
    },
    status: undefined,
  });
  assert.deepEqual(fromInformer.spec.ingress, [
    { action: 'Allow', protocol: 'TCP', source: {}, destination: { ports: [80] } },
  ]);
  assert.deepEqual(issues(knp({ podSelector: {}, ingres: [{}] })), [
    'spec.ingres: is not a known field (did you mean ingress?)',
  ]);
  assert.deepEqual(
    issues(
      knp({
        podSelector: { matchLabel: { a: 'b' } },
        ingress: [
          {
            from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['11.0.0.0/16'] }, podSelector: {} }, {}],
            ports: [
              { port: 'HTTP' },
              { port: 70000 },
              { port: 'web', endPort: 90 },
              { protocol: 'ICMP' },
              { port: 80, endPort: 79 },
            ],
          },
        ],
        policyTypes: ['Ingress', 'Sideways'],
      }),
    ),
    [
      'spec.ingress[0].from[0].ipBlock.except[0]: "11.0.0.0/16" must be a strict subset of cidr 10.0.0.0/8',
      'spec.ingress[0].from[0].ipBlock: cannot be given together with podSelector or namespaceSelector',
      'spec.ingress[0].from[1]: must give podSelector, namespaceSelector or ipBlock',
      'spec.ingress[0].ports[0].port: "HTTP" is not a port number or name (1-15 lower-case letters, digits and "-")',
      'spec.ingress[0].ports[1].port: 70000 is not a port (1-65535)',
      'spec.ingress[0].ports[2].endPort: needs a numeric port',
      'spec.ingress[0].ports[3].protocol: "ICMP" is not one of TCP, UDP, SCTP',
      'spec.ingress[0].ports[4].endPort: 79 is below port 80',
      'spec.policyTypes[1]: "Sideways" is not Ingress or Egress',
      'spec.podSelector.matchLabel: is not a known field (did you mean matchLabels?)',
    ],
  );
  assert.deepEqual(
    issues({
      apiVersion: 'networking.k8s.io/v1beta1',
      kind: 'NetworkPolicy',
      metadata: { name: 'p' },
      spec: {},
    }),
    [
      'apiVersion: must be networking.k8s.io/v1',
      'metadata.namespace: is required',
      'spec.podSelector: is required ({} selects every pod of the namespace)',
    ],
  );
  assert.deepEqual(
    issues(
      knp({
        podSelector: {
          matchExpressions: [
            { key: 'a', operator: 'In' },
            { key: 'b', operator: 'Exists', values: ['x'] },
            { key: 'c', operator: 'Like' },
          ],
        },
      }),
    ),
    [
      'spec.podSelector.matchExpressions[0].values: must be non-empty when operator is In',
      'spec.podSelector.matchExpressions[1].values: must be empty when operator is Exists',
      'spec.podSelector.matchExpressions[2].operator: "Like" is not one of In, NotIn, Exists, DoesNotExist',
    ],
  );
});
