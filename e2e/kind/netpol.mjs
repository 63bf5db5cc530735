#!/usr/bin/env node
// NetworkPolicy conformance cases (e2e/netpol/FORMAT.md) on a real cluster through kubectl:
// the standard layout (namespaces x/y/z, pods a/b/c serving TCP/UDP 80/81 with agnhost), then
// every case's steps — actions through the API server (kubectl), probes with
// `agnhost connect` from each pod to each pod — compared with the expected matrices.
// Tricolor policy actions (applyResource/deleteResource) go through `tricolorctl` in a node pod.
// Usage: node e2e/kind/netpol.mjs [case-file ...]  (default: every example). Needs kubectl.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const examples = join(here, '..', 'netpol', 'examples');
const files = process.argv.slice(2).length
  ? process.argv.slice(2)
  : readdirSync(examples)
      .filter((f) => f.endsWith('.json'))
      .map((f) => join(examples, f));
const NS = ['x', 'y', 'z'];
const PODS = ['a', 'b', 'c'];
const ALL = NS.flatMap((n) => PODS.map((p) => `${n}/${p}`));
const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.53';

const kubectl = (args, input) =>
  execFileSync('kubectl', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
const apply = (obj) => kubectl(['apply', '-f', '-'], JSON.stringify(obj));

function layout() {
  for (const n of NS)
    apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n, labels: { ns: n } } });
  const ports = [80, 81].flatMap((port) =>
    ['TCP', 'UDP'].map((protocol) => ({
      name: `serve-${port}-${protocol.toLowerCase()}`,
      containerPort: port,
      protocol,
    })),
  );
  for (const n of NS)
    for (const p of PODS)
      apply({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: p, namespace: n, labels: { pod: p } },
        spec: {
          terminationGracePeriodSeconds: 0,
          containers: [80, 81].map((port) => ({
            name: `serve-${port}`,
            image: AGNHOST,
            args: ['porter'],
            env: [
              { name: `SERVE_PORT_${port}`, value: 'foo' },
              { name: `SERVE_UDP_PORT_${port}`, value: 'foo' },
            ],
            ports: ports.filter((x) => x.containerPort === port),
          })),
        },
      });
  for (const n of NS) kubectl(['-n', n, 'wait', '--for=condition=Ready', 'pod', '--all', '--timeout=300s']);
}

function reset() {
  for (const n of NS) {
    kubectl(['-n', n, 'delete', 'networkpolicy', '--all', '--wait']);
    kubectl(['label', 'namespace', n, `ns=${n}`, '--overwrite']);
    for (const p of PODS) {
      const labels = JSON.parse(
        kubectl(['-n', n, 'get', 'pod', p, '-o', 'jsonpath={.metadata.labels}']) || '{}',
      );
      const drop = Object.keys(labels)
        .filter((k) => k !== 'pod')
        .map((k) => `${k}-`);
      kubectl(['-n', n, 'label', 'pod', p, 'pod=' + p, '--overwrite', ...drop]);
    }
  }
  // Tricolor policies the previous case applied (tricolorctl has no delete --all).
  for (const r of applied.splice(0))
    tricolorctl(['delete', r.kind, ...(r.namespace ? ['-n', r.namespace] : []), r.name], true);
}
const applied = [];

function tricolorctl(args, allowFail = false, input) {
  try {
    return kubectl(
      [
        '-n',
        'kube-system',
        'exec',
        '-i',
        'daemonset/tricolor-node',
        '-c',
        'felix',
        '--',
        'tricolorctl',
        ...args,
      ],
      input,
    );
  } catch (e) {
    if (!allowFail) throw e;
    return '';
  }
}

const ips = () =>
  Object.fromEntries(
    ALL.map((id) => {
      const [n, p] = id.split('/');
      return [id, kubectl(['-n', n, 'get', 'pod', p, '-o', 'jsonpath={.status.podIP}']).trim()];
    }),
  );

function substitute(obj, podIps) {
  const cidr = (ip, len) => {
    const v = ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    const n = (v & mask) >>> 0;
    return `${[24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.')}/${len}`;
  };
  return JSON.parse(
    JSON.stringify(obj)
      .replace(/\$\{podIP:([a-z]\/[a-z])\}/g, (_, id) => podIps[id])
      .replace(/\$\{podCIDR:([a-z]\/[a-z]):(\d+)\}/g, (_, id, l) => cidr(podIps[id], Number(l))),
  );
}

function act(a, podIps) {
  switch (a.op) {
    case 'createPolicy':
      return kubectl(['create', '-f', '-'], JSON.stringify(substitute(a.policy, podIps)));
    case 'updatePolicy':
      return kubectl(['replace', '-f', '-'], JSON.stringify(substitute(a.policy, podIps)));
    case 'deletePolicy':
      return kubectl(['-n', a.namespace, 'delete', 'networkpolicy', a.name]);
    case 'setPodLabels': {
      const [n, p] = a.pod.split('/');
      const cur = JSON.parse(
        kubectl(['-n', n, 'get', 'pod', p, '-o', 'jsonpath={.metadata.labels}']) || '{}',
      );
      const drop = Object.keys(cur)
        .filter((k) => !(k in a.labels))
        .map((k) => `${k}-`);
      return kubectl([
        '-n',
        n,
        'label',
        'pod',
        p,
        '--overwrite',
        ...Object.entries(a.labels).map(([k, v]) => `${k}=${v}`),
        ...drop,
      ]);
    }
    case 'setNamespaceLabels': {
      const cur = JSON.parse(
        kubectl(['get', 'namespace', a.namespace, '-o', 'jsonpath={.metadata.labels}']) || '{}',
      );
      const keep = 'kubernetes.io/metadata.name';
      const drop = Object.keys(cur)
        .filter((k) => k !== keep && !(k in a.labels))
        .map((k) => `${k}-`);
      const set = Object.entries(a.labels)
        .filter(([k]) => k !== keep)
        .map(([k, v]) => `${k}=${v}`);
      return kubectl(['label', 'namespace', a.namespace, '--overwrite', ...set, ...drop]);
    }
    case 'applyResource':
      applied.push({
        kind: a.resource.kind,
        namespace: a.resource.metadata.namespace,
        name: a.resource.metadata.name,
      });
      return tricolorctl(['apply', '-f', '-'], false, JSON.stringify(substitute(a.resource, podIps)));
    case 'deleteResource':
      return tricolorctl(['delete', a.kind, ...(a.namespace ? ['-n', a.namespace] : []), a.name]);
    default:
      throw new Error(`unknown action ${a.op}`);
  }
}

function probe(from, toIp, port, protocol) {
  const [n, p] = from.split('/');
  const target =
    protocol === 'ICMP'
      ? []
      : ['/agnhost', 'connect', `${toIp}:${port}`, '--timeout=2s', `--protocol=${protocol.toLowerCase()}`];
  const cmd = protocol === 'ICMP' ? ['ping', '-c', '1', '-W', '2', toIp] : target;
  try {
    kubectl(['-n', n, 'exec', p, '-c', 'serve-80', '--', ...cmd]);
    return true;
  } catch {
    return false;
  }
}

layout();
const podIps = ips();
let failed = 0;
let skipped = 0;
for (const f of files) {
  const c = JSON.parse(readFileSync(f, 'utf8'));
  if ((c.requires ?? []).includes('SCTP')) {
    console.log(`SKIP ${c.name}: needs SCTP (not set up by this runner)`);
    skipped++;
    continue;
  }
  reset();
  let ok = true;
  for (const [i, step] of c.steps.entries()) {
    for (const a of step.actions ?? []) act(a, podIps);
    // Policies take effect asynchronously (API → controllers → etcd → felix): give them time.
    execFileSync('sleep', ['5']);
    for (const pr of step.probes ?? []) {
      if (!pr.expect) continue;
      const wrong = [];
      for (const from of ALL)
        for (const to of ALL) {
          if (from === to) continue;
          const got = probe(from, podIps[to], pr.port, pr.protocol);
          if (got !== pr.expect[from][to]) wrong.push(`${from}→${to}: got ${got}`);
        }
      if (wrong.length) {
        ok = false;
        console.log(
          `FAIL ${c.name} step ${i + 1} ${pr.protocol}/${pr.port ?? ''}: ${wrong.slice(0, 10).join(', ')}${wrong.length > 10 ? ` (+${wrong.length - 10})` : ''}`,
        );
      }
    }
  }
  if (ok) console.log(`ok   ${c.name}`);
  else failed++;
}
console.log(`${files.length - failed - skipped} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed ? 1 : 0);
