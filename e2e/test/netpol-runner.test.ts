// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the cases' address tokens are literal ${...} text
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ActionError, restoreLayout, setPodLabels } from '../src/netpol/actions.js';
import { type Case, CaseError, parseCase, parseCases } from '../src/netpol/case.js';
import { PODS } from '../src/netpol/layout.js';
import { renderMatrix } from '../src/netpol/matrix.js';
import { modelContext } from '../src/netpol/model.js';
import { preflight } from '../src/netpol/preflight.js';
import { probeMatrix } from '../src/netpol/probe.js';
import { type CaseResult, exitCode, jsonReport, summarize, summaryLine } from '../src/netpol/report.js';
import { runCase } from '../src/netpol/run-case.js';
import { lagging, parseStatus, settleMs, waitUntilProgrammed } from '../src/netpol/settle.js';
import { substituteTokens } from '../src/netpol/tokens.js';
import { REPO_ROOT } from '../src/paths.js';

const all = (v: boolean) =>
  Object.fromEntries(PODS.map((f) => [f, Object.fromEntries(PODS.map((t) => [t, v]))]));
const caseText = (o: Record<string, unknown>) => JSON.stringify({ name: 'c', source: 's', steps: [], ...o });
const parseError = (o: Record<string, unknown> | string) => {
  try {
    parseCase(typeof o === 'string' ? o : caseText(o), 'bad.json');
  } catch (e) {
    assert.ok(e instanceof CaseError, String(e));
    return e.message;
  }
  return assert.fail('expected a CaseError');
};

test('case files: every malformed part is named with its file and path', () => {
  const step = (x: Record<string, unknown>) => ({ steps: [{ actions: [], probes: [], ...x }] });
  assert.equal(
    parseError('{'),
    "bad.json: not valid JSON: Expected property name or '}' in JSON at position 1 (line 1 column 2)",
  );
  assert.equal(parseError({ name: '' }), 'bad.json: name: must be a non-empty string, not ""');
  assert.equal(parseError({ extra: 1 }), 'bad.json: case.extra: is not a known field');
  assert.equal(
    parseError({ requires: ['IPv6'] }),
    'bad.json: requires[0]: "IPv6" is not a known feature (SCTP)',
  );
  assert.equal(
    parseError(step({ actions: [{ op: 'createPod' }] })),
    'bad.json: steps[0].actions[0].op: "createPod" is not one of createPolicy, updatePolicy, deletePolicy, setPodLabels, setNamespaceLabels, applyResource, deleteResource',
  );
  assert.equal(
    parseError(step({ actions: [{ op: 'setPodLabels', pod: 'q/a', labels: {} }] })),
    'bad.json: steps[0].actions[0].pod: "q/a" is not a pod of the layout (x/a, x/b, x/c, y/a, y/b, y/c, z/a, z/b, z/c)',
  );
  assert.equal(
    parseError(step({ actions: [{ op: 'deletePolicy', namespace: 'x' }] })),
    'bad.json: steps[0].actions[0].name: is required',
  );
  assert.equal(
    parseError(
      step({ actions: [{ op: 'deleteResource', kind: 'GlobalNetworkPolicy', name: 'g', namespace: 'x' }] }),
    ),
    'bad.json: steps[0].actions[0].namespace: must be absent for a GlobalNetworkPolicy',
  );
  assert.equal(
    parseError(step({ probes: [{ protocol: 'TCP', port: 8080 }] })),
    'bad.json: steps[0].probes[0].port: must be 80 or 81, not 8080',
  );
  assert.equal(
    parseError(step({ probes: [{ protocol: 'ICMP', port: 80 }] })),
    'bad.json: steps[0].probes[0].port: an ICMP probe has no port',
  );
  assert.equal(
    parseError(step({ probes: [{ protocol: 'SCTP', port: 80 }] })),
    'bad.json: steps[0].probes[0].protocol: SCTP probes need "requires": ["SCTP"] on the case',
  );
  const partial = all(true);
  delete partial['z/c']!['x/a'];
  assert.equal(
    parseError(step({ probes: [{ protocol: 'TCP', port: 80, expect: partial }] })),
    'bad.json: steps[0].probes[0].expect.z/c.x/a: must be true or false, not undefined',
  );
  assert.throws(
    () =>
      parseCases([
        { file: 'a.json', text: caseText({}) },
        { file: 'b.json', text: caseText({}) },
      ]),
    /b\.json: name: "c" is also the name of the case in a\.json/,
  );
  const ok = parseCase(
    caseText({
      requires: ['SCTP'],
      ...step({ probes: [{ protocol: 'SCTP', port: 81, expect: all(false) }] }),
    }),
    'ok.json',
  );
  assert.deepEqual(ok.requires, ['SCTP']);
});

test('preflight: policies are converted and validated before a cluster exists', () => {
  const c = parseCase(
    caseText({
      steps: [
        {
          actions: [
            {
              op: 'createPolicy',
              policy: {
                apiVersion: 'networking.k8s.io/v1',
                kind: 'NetworkPolicy',
                metadata: { name: 'p', namespace: 'x' },
                spec: { podSelector: {}, ingres: [] },
              },
            },
          ],
          probes: [],
        },
      ],
    }),
    'bad.json',
  );
  assert.throws(
    () => preflight(c),
    (e: Error) =>
      e instanceof CaseError &&
      /bad\.json: steps\[0\]\.actions\[0\]: invalid NetworkPolicy \(networking\.k8s\.io\/v1\): spec\.ingres: is not a known field/.test(
        e.message,
      ),
  );
  const t = parseCase(
    caseText({
      steps: [
        {
          actions: [
            {
              op: 'applyResource',
              resource: {
                apiVersion: 'tricolor.dev/v1',
                kind: 'GlobalNetworkPolicy',
                metadata: { name: 'g' },
                spec: { egress: [{ action: 'Deny', destination: { nets: ['${podIP:x/q}/32'] } }] },
              },
            },
          ],
          probes: [],
        },
      ],
    }),
    'tok.json',
  );
  assert.throws(
    () => preflight(t),
    /tok\.json: steps\[0\]\.actions\[0\]\.resource\.spec\.egress\[0\]\.destination\.nets\[0\]: "\$\{podIP:x\/q\}" names x\/q, which is not a pod of the layout/,
  );
});

test('address tokens: podIP and podCIDR in any string, nothing else', () => {
  const ips = new Map(PODS.map((p, i) => [p, `10.244.${i}.${i + 1}`]));
  assert.deepEqual(
    substituteTokens({ a: ['${podIP:y/b}/32', 'x ${podCIDR:x/b:4} ${podCIDR:x/b:24}'], n: 1 }, ips),
    { a: ['10.244.4.5/32', 'x 0.0.0.0/4 10.244.1.0/24'], n: 1 },
  );
  assert.equal(substituteTokens('${podCIDR:z/c:32}', ips), '10.244.8.9/32');
  assert.throws(
    () => substituteTokens({ k: '${podIp:x/a}' }, ips, 'policy'),
    /policy\.k: "\$\{podIp:x\/a\}" is not an address token/,
  );
  assert.throws(() => substituteTokens('${podCIDR:x/a:33}', ips), /prefix length 33 over 32/);
});

test('matrix rendering: . reachable, X not, ! where the observation differs from the expectation', () => {
  const observed = all(true);
  observed['x/a']!['y/b'] = false;
  observed['x/b']!['x/b'] = false;
  const expected = all(true);
  expected['z/c']!['x/a'] = false;
  observed['z/c']!['x/a'] = true;
  assert.equal(
    renderMatrix('case  step 1  TCP/80', observed, expected),
    [
      'case  step 1  TCP/80',
      '        x/a x/b x/c y/a y/b y/c z/a z/b z/c',
      '  x/a    .   .   .   .  !X   .   .   .   .',
      '  x/b    .   X   .   .   .   .   .   .   .',
      '  x/c    .   .   .   .   .   .   .   .   .',
      '  y/a    .   .   .   .   .   .   .   .   .',
      '  y/b    .   .   .   .   .   .   .   .   .',
      '  y/c    .   .   .   .   .   .   .   .   .',
      '  z/a    .   .   .   .   .   .   .   .   .',
      '  z/b    .   .   .   .   .   .   .   .   .',
      '  z/c   !.   .   .   .   .   .   .   .   .',
      '',
    ].join('\n'),
  );
});

test('JSON report shape, summary and exit codes', () => {
  const results: CaseResult[] = [
    {
      name: 'ok',
      steps: [
        {
          probes: [
            { protocol: 'TCP', port: 80, observed: all(true), expect: all(true) },
            { protocol: 'ICMP', observed: all(true), expect: all(true) },
          ],
        },
      ],
    },
    { name: 'sctp', skipped: 'kernel has no SCTP', steps: [] },
    { name: 'report-only', steps: [{ probes: [{ protocol: 'UDP', port: 81, observed: all(false) }] }] },
  ];
  const doc = JSON.parse(jsonReport(results));
  assert.deepEqual(Object.keys(doc), ['cases']);
  assert.deepEqual(doc.cases[0].steps[0].probes[0], { port: 80, protocol: 'TCP', observed: all(true) });
  assert.deepEqual(doc.cases[0].steps[0].probes[1], { protocol: 'ICMP', observed: all(true) });
  assert.deepEqual(doc.cases[1], { name: 'sctp', skipped: 'kernel has no SCTP', steps: [] });
  assert.equal(doc.cases[2].steps[0].probes[0].expect, undefined);
  const s = summarize(results);
  assert.equal(
    summaryLine(s),
    '3 cases: 1 passed, 0 failed, 1 skipped, 1 without expectations; 0 mismatched cells',
  );
  assert.equal(exitCode(s), 1, 'a skipped case never counts as passed');
  assert.equal(exitCode(summarize([results[0]!, results[2]!])), 0);
  const wrong = all(true);
  wrong['x/a']!['y/a'] = false;
  wrong['y/a']!['y/a'] = false; // from == to: never judged
  const failed = summarize([
    { name: 'bad', steps: [{ probes: [{ protocol: 'TCP', port: 80, observed: all(true), expect: wrong }] }] },
  ]);
  assert.deepEqual([failed.failed, failed.mismatchedCells, exitCode(failed)], [1, 1, 1]);
});

test('actions: label-only CAS updates keep the tricolor.dev labels; errors for missing or existing policies', async () => {
  const ips = new Map(PODS.map((p, i) => [p, `10.244.2.${i + 1}`]));
  const ctx = await modelContext(ips);
  const name = ctx.pods.endpointName('y/b');
  await setPodLabels(ctx.ds, 'y', name, { app: 'web', 'tricolor.dev/namespace': 'forged' });
  const wep = await ctx.ds.get('WorkloadEndpoint', name, 'y');
  assert.deepEqual(wep?.metadata.labels, {
    app: 'web',
    'tricolor.dev/namespace': 'y',
    'tricolor.dev/orchestrator': 'k8s',
  });
  assert.deepEqual(wep?.spec.profiles, ['kns.y', 'ksa.y.default']);
  assert.equal(wep?.spec.ports?.length, 6);
  const policy = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'p', namespace: 'y' },
    spec: { podSelector: {} },
  };
  const c: Case = {
    name: 'twice',
    source: '',
    requires: [],
    file: 'twice.json',
    steps: [
      {
        actions: [
          { op: 'createPolicy', policy },
          { op: 'createPolicy', policy },
        ],
        probes: [],
      },
    ],
  };
  await assert.rejects(
    runCase(c, ctx),
    (e: Error) =>
      e instanceof ActionError &&
      /twice\.json: steps\[0\]\.actions\[1\]: NetworkPolicy y\/p exists already/.test(e.message),
  );
  await assert.rejects(
    runCase(
      {
        ...c,
        steps: [
          { actions: [{ op: 'deleteResource', kind: 'GlobalNetworkPolicy', name: 'nope' }], probes: [] },
        ],
      },
      ctx,
    ),
    /GlobalNetworkPolicy nope does not exist/,
  );
  // Restoring the layout removes every policy and resets every label.
  await restoreLayout(
    ctx.ds,
    ctx.pods,
    (ns) => ({ ns, 'kubernetes.io/metadata.name': ns }),
    (p) => ({ pod: p.split('/')[1]! }),
  );
  assert.equal((await ctx.ds.list('NetworkPolicy')).items.length, 0);
  assert.deepEqual((await ctx.ds.get('WorkloadEndpoint', name, 'y'))?.metadata.labels, {
    pod: 'b',
    'tricolor.dev/namespace': 'y',
    'tricolor.dev/orchestrator': 'k8s',
  });
});

test('probing: 3 tries per cell, reachable if any succeeds; all cells in parallel', async () => {
  const tries = new Map<string, number>();
  const prober = (from: string) => ({
    async probe(_p: string, address: string, _port: number | undefined, timeoutMs: number) {
      assert.equal(timeoutMs, 2000);
      const k = `${from}>${address}`;
      tries.set(k, (tries.get(k) ?? 0) + 1);
      return address.endsWith('.2') ? tries.get(k) === 3 : !address.endsWith('.3');
    },
  });
  const ips = new Map(PODS.map((p, i) => [p, `10.0.0.${i + 1}`]));
  const m = await probeMatrix(new Map(PODS.map((p) => [p, prober(p)])), ips, { protocol: 'TCP', port: 80 });
  assert.equal(m['x/a']!['x/b'], true, 'the third try succeeded');
  assert.equal(m['x/a']!['x/c'], false, 'three failed tries');
  assert.equal(tries.get('x/a>10.0.0.3'), 3);
  assert.equal(tries.get('x/a>10.0.0.1'), 1);
  assert.deepEqual(Object.keys(m), PODS);
});

test('settle: felix status by default; a fixed time of at most 10 s from TRICOLOR_NETPOL_SETTLE_MS', () => {
  assert.equal(settleMs({}), undefined);
  assert.equal(settleMs({ TRICOLOR_NETPOL_SETTLE_MS: '500' }), 500);
  assert.throws(() => settleMs({ TRICOLOR_NETPOL_SETTLE_MS: '20000' }), /0-10000/);
});

test('settle: waits until every node reports the revision programmed, names the laggards on timeout', async () => {
  assert.deepEqual(parseStatus('{"ready":true,"inSync":true,"revision":"42"}'), {
    ready: true,
    revision: '42',
  });
  assert.equal(parseStatus('{"ready":true,"revision":42}'), undefined, 'a revision is a decimal string');
  assert.equal(parseStatus('not json'), undefined);
  // Revisions compare as numbers, not strings ("100" > "99").
  assert.deepEqual(
    lagging('100', [
      ['n1', { ready: true, revision: '99' }],
      ['n2', { ready: true, revision: '100' }],
    ]),
    ['n1 (ready true, revision 99)'],
  );
  assert.deepEqual(
    lagging('5', [
      ['n1', { ready: false, revision: '9' }],
      ['n2', undefined],
    ]),
    ['n1 (ready false, revision 9)', 'n2 (no status)'],
  );
  let polls = 0;
  const rising = { name: 'n1', status: async () => ({ ready: true, revision: String(10 + polls++) }) };
  await waitUntilProgrammed('13', [rising], 5000, 1);
  assert.equal(polls, 4, 'returned as soon as revision 13 was reported');
  const stuck = { name: 'n2', status: async () => ({ ready: true, revision: '7' }) };
  await assert.rejects(
    waitUntilProgrammed('8', [rising, stuck], 50, 5),
    /revision 8 .* n2 \(ready true, revision 7\)/,
  );
});

const MAIN = join(REPO_ROOT, 'e2e/dist/src/netpol/main.js');
const dir = mkdtempSync(join(tmpdir(), 'netpol-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the command: usage errors and bad case files exit 2 with a clear message, before any cluster', () => {
  const runMain = (args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
  const none = runMain([]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /no case files given/);
  assert.equal(runMain(['--frobnicate', 'x.json']).status, 2);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, caseText({ steps: [{ actions: [{ op: 'setPodLabels', pod: 'x/a' }], probes: [] }] }));
  const r = runMain(['--json', bad]);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /bad\.json: steps\[0\]\.actions\[0\]\.labels: is required/);
  assert.equal(runMain([join(dir, 'missing.json')]).status, 2);
  const help = runMain(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /usage: netpol-conformance\.sh \[--json\] \[--via-kubernetes\] CASE\.json/);
});
