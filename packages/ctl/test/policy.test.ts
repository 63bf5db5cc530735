// Kubernetes NetworkPolicies through `apply`/`delete -f`, and `policy explain`, on the compiled
// binary against a real etcd: what an operator sees.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EtcdServer } from '@tricolor/testkit';
import { ctl, uniquePrefix } from './helpers.js';

let etcd: EtcdServer;
before(async () => {
  etcd = await EtcdServer.start();
});
after(async () => {
  await etcd.destroy();
});

const pod = (ns: string, name: string, ip: string, labels: Record<string, string>) => ({
  kind: 'WorkloadEndpoint',
  apiVersion: 'tricolor.dev/v1',
  metadata: {
    name: `node--1-k8s-${name}-eth0`,
    namespace: ns,
    labels: { ...labels, 'tricolor.dev/namespace': ns, 'tricolor.dev/orchestrator': 'k8s' },
  },
  spec: {
    node: 'node-1',
    orchestrator: 'k8s',
    workload: `${ns}/${name}`,
    endpoint: 'eth0',
    interfaceName: `cali${name.padEnd(11, '0').slice(0, 11)}`,
    ipNetworks: [`${ip}/32`],
    profiles: [`kns.${ns}`],
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
  },
});

const knp = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'db-from-api', namespace: 'shop' },
  spec: {
    podSelector: { matchLabels: { role: 'db' } },
    ingress: [{ from: [{ podSelector: { matchLabels: { role: 'api' } } }], ports: [{ port: 'http' }] }],
  },
};

test('apply -f takes a Kubernetes NetworkPolicy and stores it as knp.default.<name>; delete -f removes it', async () => {
  const p = uniquePrefix();
  const a = await ctl(etcd.endpoint, p, ['apply', '-f', '-'], JSON.stringify(knp));
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /knp\.default\.db-from-api/);
  const g = await ctl(etcd.endpoint, p, ['get', 'np', 'knp.default.db-from-api', '-n', 'shop', '-o', 'json']);
  assert.equal(g.code, 0, g.stderr);
  const stored = JSON.parse(g.stdout);
  assert.equal(stored.spec.order, 1000);
  assert.deepEqual(stored.spec.types, ['Ingress']);
  assert.deepEqual(stored.spec.ingress[0].destination.ports, ['http']);
  // A Kubernetes field misspelt is named, nothing is stored.
  const bad = {
    ...knp,
    metadata: { name: 'typo', namespace: 'shop' },
    spec: { ...knp.spec, podSelectr: {} },
  };
  const b = await ctl(etcd.endpoint, p, ['apply', '-f', '-'], JSON.stringify(bad));
  assert.equal(b.code, 1);
  assert.match(b.stderr, /spec\.podSelectr/);
  assert.equal((await ctl(etcd.endpoint, p, ['get', 'np', 'knp.default.typo', '-n', 'shop'])).code, 3);
  const d = await ctl(etcd.endpoint, p, ['delete', '-f', '-'], JSON.stringify(knp));
  assert.equal(d.code, 0, d.stderr);
  assert.equal((await ctl(etcd.endpoint, p, ['get', 'np', 'knp.default.db-from-api', '-n', 'shop'])).code, 3);
});

test('policy explain: the applying policies in order, the deciding rule, the verdict — and after a change', async () => {
  const p = uniquePrefix();
  const setup = [
    pod('shop', 'api', '10.60.0.1', { role: 'api' }),
    pod('shop', 'web', '10.60.0.2', { role: 'web' }),
    pod('shop', 'db', '10.60.0.3', { role: 'db' }),
    knp,
  ];
  assert.equal((await ctl(etcd.endpoint, p, ['apply', '-f', '-'], JSON.stringify(setup))).code, 0);
  const explain = (from: string, to: string, ...flags: string[]) =>
    ctl(etcd.endpoint, p, ['policy', 'explain', from, to, ...flags]);
  const ok = await explain('shop/api', 'shop/db', '--port', '8080');
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /knp\.default\.db-from-api/);
  assert.match(ok.stdout, /verdict: ALLOW/);
  const denied = await explain('shop/web', 'shop/db', '--port', '8080');
  assert.match(denied.stdout, /verdict: DENY/);
  const otherPort = await explain('shop/api', 'shop/db', '--port', '5432', '-o', 'json');
  const x = JSON.parse(otherPort.stdout);
  assert.equal(x.verdict, 'Deny');
  assert.equal(x.ingress.decision.by, 'end-of-policies');
  // A Tricolor policy with a lower order denying api first takes over.
  const deny = {
    kind: 'NetworkPolicy',
    metadata: { name: 'deny-api', namespace: 'shop' },
    spec: {
      order: 10,
      selector: "role == 'db'",
      ingress: [{ action: 'Deny', source: { selector: "role == 'api'" } }],
    },
  };
  assert.equal((await ctl(etcd.endpoint, p, ['apply', '-f', '-'], JSON.stringify(deny))).code, 0);
  const now = await explain('shop/api', 'shop/db', '--port', '8080');
  assert.match(now.stdout, /verdict: DENY/);
  assert.match(now.stdout, /deny-api/);
  const unknown = await explain('shop/nobody', 'shop/db');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /shop\/nobody/);
});
