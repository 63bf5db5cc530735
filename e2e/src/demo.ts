#!/usr/bin/env node
/**
 * The README's main command: brings up a Tricolor cluster in network namespaces, creates
 * pods through the CNI plugin, shows BGP sessions, routes and a ping matrix, tears down.
 *   tricolor-demo [--nodes N] [--pods-per-node M] [--mode mesh|rr|vxlan|ipip] [--keep] [--json]
 *   tricolor-demo status | down          (for a cluster left by --keep)
 *   tricolor-demo env [--node NAME]      (its environment for the CLIs: eval "$(… env)")
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isRoot, kernelHasLinkKind } from '@tricolor/testkit';
import { Cluster, downFromState, MODES, type Mode } from './cluster.js';
import { DemoEnvError, type DemoManifest, renderDemoEnv } from './demo-env.js';
import { REPO_ROOT } from './paths.js';
import { textTable } from './text-table.js';

/** Where a kept cluster is recorded; TRICOLOR_DEMO_STATE_DIR moves it (tests keep their own). */
const STATE_DIR = process.env.TRICOLOR_DEMO_STATE_DIR || join(REPO_ROOT, '.tricolor-run');
const STATE_FILE = join(STATE_DIR, 'cluster.json');
const MANIFEST_FILE = join(STATE_DIR, 'manifest.json');
const SCRIPT = './scripts/demo.sh';
/** The project's Node.js (scripts/setup.sh puts it there when the system's is older). */
const NODE_BIN = join(REPO_ROOT, '.tools', 'node', 'bin');

const USAGE =
  'usage: demo [--nodes N] [--pods-per-node M] [--mode mesh|rr|vxlan|ipip] [--keep] [--json]\n' +
  '       demo status | down\n' +
  '       demo env [--node NAME]   the environment for the CLIs: eval "$(./scripts/demo.sh env)"\n';

function usage(): never {
  process.stderr.write(USAGE);
  process.exit(2);
}

function demoEnv(node?: string): string {
  const manifest = JSON.parse(readFileSync(MANIFEST_FILE, 'utf8')) as DemoManifest;
  return renderDemoEnv(manifest, {
    node,
    nodeBin: existsSync(join(NODE_BIN, 'node')) ? NODE_BIN : undefined,
    script: SCRIPT,
  });
}

function parseCommandLine() {
  try {
    return parseArgs({
      allowPositionals: true,
      strict: true,
      options: {
        nodes: { type: 'string', default: '3' },
        'pods-per-node': { type: 'string', default: '2' },
        mode: { type: 'string', default: 'mesh' },
        keep: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        node: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    process.stderr.write(`demo: ${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

async function show(cluster: Cluster, out: (s: string) => void): Promise<boolean> {
  for (const node of cluster.nodes.values()) {
    out(`\n== ${node.name} (${node.ip})`);
    if (node.bird) out((await cluster.birdc(node.name, ['show', 'protocols'])).trimEnd());
    const routes = (await cluster.routes(node.name)).filter(
      (r) => r.dst.startsWith('10.244.') || r.type === 'blackhole',
    );
    for (const r of routes) {
      out(
        `  ${r.type === 'blackhole' ? 'blackhole ' : ''}${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` dev ${r.dev}` : ''}${r.protocol ? ` proto ${r.protocol}` : ''}`,
      );
    }
  }
  const matrix = await cluster.pingMatrix();
  const pods = [...cluster.pods.values()];
  const rows = [['from \\ to', ...pods.map((p) => p.name)]];
  for (const a of pods)
    rows.push([
      `${a.name} (${a.node})`,
      ...pods.map((b) => (a === b ? '-' : matrix.get(`${a.name}→${b.name}`) ? 'ok' : 'FAIL')),
    ]);
  out(`\nping matrix (${pods.map((p) => `${p.name}=${p.ip}`).join(', ')}):\n${textTable(rows)}`);
  const failed = [...matrix.values()].filter((v) => !v).length;
  out(`\n${matrix.size - failed} of ${matrix.size} pod pairs reach each other`);
  return failed === 0;
}

async function main(): Promise<number> {
  const { values, positionals } = parseCommandLine();
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const command = positionals[0] ?? 'up';
  if (positionals.length > 1) usage();
  if (values.node !== undefined && command !== 'env') usage();
  if (command === 'env') {
    if (!existsSync(MANIFEST_FILE)) {
      process.stderr.write(`demo: no kept cluster; start one with ${SCRIPT} --keep\n`);
      return 1;
    }
    try {
      process.stdout.write(demoEnv(values.node));
    } catch (e) {
      if (!(e instanceof DemoEnvError)) throw e;
      process.stderr.write(`demo env: --node: ${e.message}\n`);
      return 1;
    }
    return 0;
  }
  if (!isRoot()) {
    process.stderr.write(
      'demo: must run as root (it creates network namespaces, routes and iptables rules)\n',
    );
    return 1;
  }
  if (command === 'down') {
    if (!existsSync(STATE_FILE)) {
      process.stderr.write('demo: no kept cluster (nothing to tear down)\n');
      return 0;
    }
    await downFromState(STATE_FILE);
    const { rmSync } = await import('node:fs');
    rmSync(STATE_DIR, { recursive: true, force: true });
    process.stderr.write('demo: cluster torn down\n');
    return 0;
  }
  if (command === 'status') {
    if (!existsSync(STATE_FILE)) {
      process.stderr.write('demo: no kept cluster; start one with --keep\n');
      return 1;
    }
    process.stdout.write(readFileSync(MANIFEST_FILE, 'utf8'));
    return 0;
  }
  if (command !== 'up') usage();
  const nodes = Number(values.nodes);
  const perNode = Number(values['pods-per-node']);
  const mode = values.mode as Mode;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 50) usage();
  if (!Number.isInteger(perNode) || perNode < 0 || perNode > 200) usage();
  if (!MODES.includes(mode)) usage();
  if (mode === 'ipip' && !kernelHasLinkKind('ipip')) {
    process.stderr.write('demo: this kernel cannot create ipip devices; use --mode mesh, rr or vxlan\n');
    return 1;
  }
  if (existsSync(STATE_FILE)) {
    process.stderr.write(`demo: a kept cluster exists (${STATE_FILE}); run "demo down" first\n`);
    return 1;
  }
  const log = (l: string) => process.stderr.write(`${l}\n`);
  const out = (l: string) => (values.json ? log(l) : process.stdout.write(`${l}\n`));
  const t0 = Date.now();
  const cluster = await Cluster.up({
    nodes,
    mode,
    log,
    routeReflectors: mode === 'rr' ? 1 : 0,
    // As a production node runs: felix's own refresh intervals and etcd's own progress
    // notifications (the tests' faster ones cost every node CPU while idle).
    felixRefreshSeconds: null,
    watchProgressNotifyMs: null,
    podsPerNode: perNode,
  });
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    log('demo: interrupted, tearing down');
    void cluster.down().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let ok = false;
  try {
    for (const node of cluster.nodes.values()) {
      for (let i = 0; i < perNode; i++) {
        const pod = await cluster.createPod(node.name, `${node.name.replace('node-', 'pod-')}-${i + 1}`);
        log(`${pod.name}: ${pod.ip} on ${pod.node} (CNI ADD ${pod.addMs.toFixed(0)} ms)`);
      }
    }
    log(`cluster up with ${cluster.pods.size} pods in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // Routes arrive by BGP (or VXLAN programming) shortly after the ADD; give them a moment.
    await cluster
      .waitFor(
        async () => [...(await cluster.pingMatrix()).values()].every(Boolean),
        30_000,
        'all pods to reach each other',
      )
      .catch(() => undefined);
    ok = await show(cluster, out);
    const manifest = await cluster.manifest();
    if (values.json) process.stdout.write(`${JSON.stringify(manifest)}\n`);
    if (values.keep && !interrupted) {
      mkdirSync(STATE_DIR, { recursive: true });
      const { writeFileSync } = await import('node:fs');
      writeFileSync(MANIFEST_FILE, `${JSON.stringify(manifest, null, 2)}\n`);
      cluster.keep(STATE_FILE);
      log(`demo: cluster kept; "${SCRIPT} status" shows it, "${SCRIPT} down" removes it`);
      // How to point the CLIs at it (on stderr with --json, whose stdout is the manifest).
      out(
        `\nThe cluster is kept. Point the CLIs at it with: eval "$(${SCRIPT} env)"\n\n${demoEnv().trimEnd()}`,
      );
      return ok ? 0 : 1;
    }
  } catch (e) {
    log(`demo: ${(e as Error).message}`);
    ok = false;
  }
  if (!values.keep || !ok) await cluster.down();
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`demo: ${(e as Error).stack}\n`);
    process.exit(1);
  },
);
