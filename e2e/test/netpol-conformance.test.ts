import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isRoot, run } from '@tricolor/testkit';
import { type Matrix, parseCases } from '../src/netpol/case.js';
import { PODS } from '../src/netpol/layout.js';
import { mismatches, probeLabel } from '../src/netpol/matrix.js';
import { modelContext } from '../src/netpol/model.js';
import { runCase } from '../src/netpol/run-case.js';
import { kernelHasSctp } from '../src/netpol/runner.js';
import { REPO_ROOT } from '../src/paths.js';

/** Namespaces share the run's unique prefix (nodes, pods, the segment): none may be left. */
function assertNoNamespacesLeft(nodeNamespaces: string[]): void {
  const prefixes = new Set(nodeNamespaces.map((n) => `${n.split('-')[0]}-`));
  const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => [...prefixes].some((p) => n.startsWith(p)));
  assert.deepEqual(left, [], 'the runner tears down every namespace it made');
}

// The runner itself against the kernel: the layout with no policy, every pair reachable over
// TCP, UDP and ICMP.
test('netpol runner on a real cluster: no policy, every pod reaches every pod over TCP/80, UDP/81 and ICMP', {
  skip: isRoot() ? false : 'SKIPPED (not a pass): the conformance runner needs root',
  timeout: 300_000,
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'netpol-run-'));
  try {
    const all = Object.fromEntries(PODS.map((f) => [f, Object.fromEntries(PODS.map((t) => [t, true]))]));
    const file = join(dir, 'no-policy.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'no-policy-all-reachable',
        source: 'Tricolor: the standard layout without any policy',
        steps: [
          {
            actions: [],
            probes: [
              { port: 80, protocol: 'TCP', expect: all },
              { port: 81, protocol: 'UDP', expect: all },
              { protocol: 'ICMP', expect: all },
            ],
          },
        ],
      }),
    );
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'e2e/dist/src/netpol/main.js'), '--json', file], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as {
      cases: {
        name: string;
        steps: { probes: { port?: number; protocol: string; observed: unknown }[] }[];
      }[];
    };
    assert.equal(doc.cases.length, 1);
    assert.deepEqual(
      doc.cases[0]!.steps[0]!.probes.map((p) => [p.protocol, p.port]),
      [
        ['TCP', 80],
        ['UDP', 81],
        ['ICMP', undefined],
      ],
    );
    for (const p of doc.cases[0]!.steps[0]!.probes) assert.deepEqual(p.observed, all, `${p.protocol} matrix`);
    assert.match(r.stderr, /x\/a: 10\.244\.\d+\.\d+ on node-1/);
    const nodeNamespaces = [...r.stderr.matchAll(/in netns (\S+),/g)].map((m) => m[1]!);
    assert.equal(nodeNamespaces.length, 3);
    assertNoNamespacesLeft(nodeNamespaces);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('netpol runner: SIGINT during a run tears everything down and exits 130', {
  skip: isRoot() ? false : 'SKIPPED (not a pass): the conformance runner needs root',
  timeout: 180_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netpol-int-'));
  try {
    const file = join(dir, 'c.json');
    writeFileSync(
      file,
      JSON.stringify({ name: 'c', source: 's', steps: [{ actions: [], probes: [{ protocol: 'ICMP' }] }] }),
    );
    const child = spawn(process.execPath, [join(REPO_ROOT, 'e2e/dist/src/netpol/main.js'), '--json', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        // The layout is up and the case runs (what Ctrl-C in a long run meets).
        if (/netpol: layout up/.test(stderr) && !child.killed) child.kill('SIGINT');
      });
      child.once('exit', (c) => resolve(c));
    });
    assert.equal(code, 130, stderr);
    assert.equal(stdout, '');
    assert.match(stderr, /SIGINT: tearing down/);
    const nodeNamespaces = [...stderr.matchAll(/in netns (\S+),/g)].map((m) => m[1]!);
    assert.equal(nodeNamespaces.length, 3);
    assertNoNamespacesLeft(nodeNamespaces);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const EXAMPLES = join(REPO_ROOT, 'e2e/netpol/examples');
const DIFFERENTIAL = join(REPO_ROOT, 'e2e/netpol/differential');

const caseFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(dir, f));

interface SuiteRun {
  code: number;
  stderr: string;
  /** Observed matrices by case name (the runner's --json document). */
  observed: Map<string, Matrix[][]>;
  /** Pod addresses as the run logged them. */
  ips: Map<string, string>;
  /** Example cases left out because they need SCTP and the kernel has none. */
  sctpSkipped: string[];
}

/**
 * One run of the runner for the two tests below (one cluster, about 7 minutes): every
 * example case, then every differential case.
 */
let suite: Promise<SuiteRun> | undefined;
function runSuite(): Promise<SuiteRun> {
  suite ??= (async () => {
    const sctp = await kernelHasSctp();
    const sctpSkipped: string[] = [];
    const files: string[] = [];
    for (const file of [...caseFiles(EXAMPLES), ...caseFiles(DIFFERENTIAL)]) {
      const c = JSON.parse(readFileSync(file, 'utf8')) as { name: string; requires?: string[] };
      if (c.requires?.includes('SCTP') && !sctp) sctpSkipped.push(c.name);
      else files.push(file);
    }
    const r = await run(
      process.execPath,
      [join(REPO_ROOT, 'e2e/dist/src/netpol/main.js'), '--json', ...files],
      {
        allowFail: true,
        timeoutMs: 880_000,
      },
    );
    const observed = new Map<string, Matrix[][]>();
    if (r.stdout.trim()) {
      const doc = JSON.parse(r.stdout) as {
        cases: { name: string; steps: { probes: { observed: Matrix }[] }[] }[];
      };
      for (const c of doc.cases)
        observed.set(
          c.name,
          c.steps.map((s) => s.probes.map((p) => p.observed)),
        );
    }
    const ips = new Map([...r.stderr.matchAll(/^([xyz]\/[abc]): (\S+) on /gm)].map((m) => [m[1]!, m[2]!]));
    return { code: r.code, stderr: r.stderr, observed, ips, sctpSkipped };
  })();
  return suite;
}

const loadDir = (dir: string) =>
  parseCases(caseFiles(dir).map((f) => ({ file: f, text: readFileSync(f, 'utf8') })));

// Conformance, the measure of the policy work: every example case (e2e/netpol/examples, the
// FORMAT.md cases) on a real 3-node cluster with felix enforcing; any mismatched cell fails.
// Cases that need SCTP are skipped LOUDLY (as their own skipped subtests) where the kernel has
// none, never counted as passed.
test('netpol conformance: every example case on the kernel, no mismatched cell', {
  skip: isRoot() ? false : 'SKIPPED (not a pass): the conformance runner needs root',
  timeout: 900_000,
}, async (t) => {
  const r = await runSuite();
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  const examples = loadDir(EXAMPLES);
  assert.ok(examples.length >= 17, `example cases found: ${examples.length}`);
  const bad: string[] = [];
  for (const c of examples) {
    if (r.sctpSkipped.includes(c.name)) {
      await t.test(
        c.name,
        { skip: 'SKIPPED (not a pass): the case needs SCTP and this kernel has none' },
        () => {},
      );
      continue;
    }
    const seen = r.observed.get(c.name);
    assert.ok(seen, `${c.name} was run`);
    for (const [si, step] of c.steps.entries())
      for (const [pi, probe] of step.probes.entries())
        for (const m of mismatches(seen[si]![pi]!, probe.expect))
          bad.push(
            `${c.name} step ${si + 1} ${probeLabel(probe)} ${m.from} → ${m.to}: expected ${m.expected ? 'reachable' : 'blocked'}, observed ${m.observed ? 'reachable' : 'blocked'}`,
          );
  }
  assert.deepEqual(bad, []);
});

// felix against the evaluator: cases without expectations (e2e/netpol/differential: egress
// ipBlock with except, endPort on UDP, named ports on egress, matchExpressions, relabels of
// pods and namespaces, empty versus missing from/ports, a policy's selector changed, Calico's
// order, Log, Deny with notNets, ICMP type and code, Pass, has()/in {}) run on the same
// cluster, and every cell the kernel observed must be what @tricolor/policy's evaluator — the
// semantics the example expectations are checked against — computes for the same addresses.
test('netpol differential: the kernel (felix) observes what the policy evaluator computes, cell by cell', {
  skip: isRoot() ? false : 'SKIPPED (not a pass): the conformance runner needs root',
  timeout: 900_000,
}, async () => {
  const r = await runSuite();
  assert.equal(r.ips.size, PODS.length, r.stderr.slice(-3000));
  const differences: string[] = [];
  let reached = 0;
  let blocked = 0;
  for (const c of loadDir(DIFFERENTIAL)) {
    const seen = r.observed.get(c.name);
    assert.ok(seen, `${c.name} was run`);
    const model = await runCase(c, await modelContext(r.ips));
    for (const [si, s] of model.steps.entries())
      for (const [pi, p] of s.probes.entries()) {
        const kernel = seen[si]![pi]!;
        for (const from of PODS)
          for (const to of PODS) {
            if (from === to) continue;
            if (kernel[from]![to]) reached++;
            else blocked++;
            if (kernel[from]![to] !== p.observed[from]![to])
              differences.push(
                `${c.name} step ${si + 1} ${probeLabel(p)} ${from} → ${to}: kernel ${kernel[from]![to] ? 'reached' : 'blocked'}, evaluator ${p.observed[from]![to] ? 'allows' : 'denies'}`,
              );
          }
      }
  }
  assert.deepEqual(differences, []);
  // Both verdicts occur: the cases test policy, not an open or a closed network.
  assert.ok(reached > 100 && blocked > 100, `reached ${reached}, blocked ${blocked}`);
});

// The same example cases the way a cluster makes them (--via-kubernetes): namespaces, pods,
// labels and NetworkPolicies in the API server (testkit's fake; no kube-apiserver runs here),
// pods read from it by the CNI plugin, tricolor-kube-controllers carrying it all into etcd,
// felix enforcing. Any mismatched cell fails, as above.
test('netpol conformance through the Kubernetes API and tricolor-kube-controllers: every example case, no mismatched cell', {
  skip: isRoot() ? false : 'SKIPPED (not a pass): the conformance runner needs root',
  timeout: 900_000,
}, async (t) => {
  const sctp = await kernelHasSctp();
  const files: string[] = [];
  for (const file of caseFiles(EXAMPLES)) {
    const c = JSON.parse(readFileSync(file, 'utf8')) as { name: string; requires?: string[] };
    if (c.requires?.includes('SCTP') && !sctp)
      await t.test(
        c.name,
        { skip: 'SKIPPED (not a pass): the case needs SCTP and this kernel has none' },
        () => {},
      );
    else files.push(file);
  }
  const r = await run(
    process.execPath,
    [join(REPO_ROOT, 'e2e/dist/src/netpol/main.js'), '--via-kubernetes', ...files],
    { allowFail: true, timeoutMs: 880_000 },
  );
  assert.match(r.stderr, /through the Kubernetes API and tricolor-kube-controllers/);
  assert.equal(r.code, 0, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  assert.match(r.stdout, new RegExp(`${files.length} cases: ${files.length} passed, 0 failed`));
});
