import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isRoot } from '@tricolor/testkit';
import { PODS } from '../src/netpol/layout.js';
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

// Conformance, the measure of the policy work: every example case (e2e/netpol/examples, the
// FORMAT.md cases) on a real 3-node cluster with felix enforcing; any mismatched cell fails.
// Cases that need SCTP are skipped LOUDLY (as their own skipped subtests) where the kernel has
// none, never counted as passed.
test('netpol conformance: every example case on the kernel, no mismatched cell', {
  skip: isRoot() ? false : 'SKIPPED (not a pass): the conformance runner needs root',
  timeout: 900_000,
}, async (t) => {
  const sctp = await kernelHasSctp();
  const files = readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(EXAMPLES, f));
  const run: string[] = [];
  for (const file of files) {
    const c = JSON.parse(readFileSync(file, 'utf8')) as { name: string; requires?: string[] };
    if (c.requires?.includes('SCTP') && !sctp)
      await t.test(
        c.name,
        { skip: 'SKIPPED (not a pass): the case needs SCTP and this kernel has none' },
        () => {},
      );
    else run.push(file);
  }
  assert.ok(run.length >= 17, `example cases found: ${run.length}`);
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'e2e/dist/src/netpol/main.js'), ...run], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
  const summary = r.stdout.trimEnd().split('\n').pop() ?? '';
  t.diagnostic(summary);
  const failing = r.stdout
    .split('\n\n')
    .filter((block) => /mismatched cells\n/.test(block))
    .join('\n');
  assert.equal(r.code, 0, `conformance failed:\n${failing}\n${r.stderr.slice(-3000)}`);
  assert.match(summary, new RegExp(`^${run.length} cases: ${run.length} passed, 0 failed, 0 skipped`));
});
