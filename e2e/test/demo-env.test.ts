// The demo's environment for the CLIs: `demo env` rendered from a manifest (no root), and
// the whole operator session on a real kept cluster: ./scripts/demo.sh --keep, eval "$(demo
// env)", tricolorctl node status, tricolor-birdc, get wep -A, ipam show --ip, demo down.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isRoot, run, runSync } from '@tricolor/testkit';
import { type DemoManifest, renderDemoEnv, shellQuote } from '../src/demo-env.js';
import { REPO_ROOT } from '../src/paths.js';

const MANIFEST: DemoManifest = {
  etcd: 'http://127.0.0.1:41234',
  mode: 'mesh',
  nodes: [
    { name: 'node-1', address: '192.168.200.11', birdControl: "/tmp/c'1/node-1/bird.ctl" },
    { name: 'node-2', address: '192.168.200.12', birdControl: '/tmp/c1/node-2/bird.ctl' },
  ],
  pods: [{ name: 'pod-1-1', node: 'node-1', ip: '10.244.1.1' }],
};

/** Runs shell text with bash and prints the variables the CLIs read. */
async function evalIn(envText: string, start: Record<string, string>): Promise<Record<string, string>> {
  const names = [
    'ETCD_ENDPOINTS',
    'ETCD_CA_CERT_FILE',
    'ETCD_CERT_FILE',
    'ETCD_KEY_FILE',
    'BIRD_CONTROL',
    'TRICOLOR_DEMO_NODE',
    'PATH',
    'TRICOLOR_DATASTORE_PREFIX',
  ];
  const script = `eval ${shellQuote(envText)}\neval ${shellQuote(envText)}\n${names.map((n) => `echo "${n}=\${${n}-<unset>}"`).join('\n')}\n`;
  const r = await run('bash', ['--norc', '-c', script], { env: { PATH: '/usr/bin:/bin', ...start } });
  return Object.fromEntries(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

test('demo env: exports for the CLIs that eval in a POSIX shell, idempotently', async () => {
  const text = renderDemoEnv(MANIFEST, { nodeBin: '/repo/.tools/node/bin', script: './scripts/demo.sh' });
  const vars = await evalIn(text, { ETCD_CA_CERT_FILE: '/stale/ca.crt', TRICOLOR_DATASTORE_PREFIX: '/old/' });
  assert.equal(vars.ETCD_ENDPOINTS, 'http://127.0.0.1:41234');
  assert.equal(vars.ETCD_CA_CERT_FILE, '<unset>', 'a plain-http demo clears TLS files left from elsewhere');
  assert.equal(vars.TRICOLOR_DATASTORE_PREFIX, '<unset>');
  assert.equal(vars.BIRD_CONTROL, "/tmp/c'1/node-1/bird.ctl", 'quoting survives any path');
  assert.equal(vars.TRICOLOR_DEMO_NODE, 'node-1');
  assert.equal(vars.PATH, '/repo/.tools/node/bin:/usr/bin:/bin', 'the project Node.js first, once');
  assert.match(
    text,
    /^# Tricolor demo cluster \(mesh, 2 nodes, 1 pods\); bird of node-1 \(192\.168\.200\.11\)\./,
  );

  const tls = renderDemoEnv(
    {
      ...MANIFEST,
      etcd: 'https://127.0.0.1:41234',
      etcdTls: { caFile: '/t/ca.crt', certFile: '/t/c.crt', keyFile: '/t/c.key' },
      prefix: '/p/',
    },
    { node: 'node-2', script: './scripts/demo.sh' },
  );
  const t = await evalIn(tls, {});
  assert.deepEqual(
    [
      t.ETCD_ENDPOINTS,
      t.ETCD_CA_CERT_FILE,
      t.ETCD_CERT_FILE,
      t.ETCD_KEY_FILE,
      t.TRICOLOR_DATASTORE_PREFIX,
      t.BIRD_CONTROL,
    ],
    ['https://127.0.0.1:41234', '/t/ca.crt', '/t/c.crt', '/t/c.key', '/p/', '/tmp/c1/node-2/bird.ctl'],
  );
  assert.equal(t.PATH, '/usr/bin:/bin', 'no project Node.js directory: PATH untouched');
  const vx = renderDemoEnv(
    { ...MANIFEST, mode: 'vxlan', nodes: [{ name: 'node-1', address: 'a', birdControl: null }] },
    { script: 's' },
  );
  assert.match(vx, /# vxlan mode: no BGP speaker runs on node-1\nunset BIRD_CONTROL/);
  assert.throws(
    () => renderDemoEnv(MANIFEST, { node: 'node-9', script: 's' }),
    /no node "node-9" in the kept cluster \(nodes: node-1, node-2\)/,
  );
});

const why = isRoot() ? false : 'SKIPPED (not a pass): the demo needs root (network namespaces)';
if (why) process.stderr.write(`\n*** ${why} ***\n`);

describe('the README session on a kept demo cluster', { skip: why }, () => {
  test('demo --keep, eval "$(demo env)", the CLIs answer from the cluster, demo down', {
    timeout: 600_000,
  }, async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'demo-state-'));
    const demo = join(REPO_ROOT, 'scripts', 'demo.sh');
    const env = { ...process.env, TRICOLOR_DEMO_STATE_DIR: stateDir };
    let namespaces: string[] = [];
    try {
      const up = await run('bash', ['--norc', demo, '--keep', '--nodes', '2', '--pods-per-node', '1'], {
        env,
        allowFail: true,
        timeoutMs: 400_000,
      });
      assert.equal(up.code, 0, `${up.stdout}\n${up.stderr.slice(-3000)}`);
      assert.match(up.stdout, /2 of 2 pod pairs reach each other/);
      const envOut = await run('bash', ['--norc', demo, 'env'], { env });
      assert.ok(
        up.stdout.includes(
          `The cluster is kept. Point the CLIs at it with: eval "$(./scripts/demo.sh env)"\n\n${envOut.stdout.trimEnd()}`,
        ),
        'demo --keep prints the environment that demo env repeats',
      );
      // The demo's etcd talks TLS with client certificates: the CLIs get the files too.
      assert.match(envOut.stdout, /^export ETCD_ENDPOINTS='https:\/\/127\.0\.0\.1:\d+'$/m);
      for (const v of ['ETCD_CA_CERT_FILE', 'ETCD_CERT_FILE', 'ETCD_KEY_FILE']) {
        const file = new RegExp(`^export ${v}='([^']+)'$`, 'm').exec(envOut.stdout)?.[1];
        assert.ok(file && existsSync(file), `${v} names a file that exists: ${file}`);
      }
      assert.match(envOut.stdout, /^export BIRD_CONTROL='.*\/node-1\/bird\.ctl'$/m);
      const node2 = await run('bash', ['--norc', demo, 'env', '--node', 'node-2'], { env });
      assert.match(node2.stdout, /^export BIRD_CONTROL='.*\/node-2\/bird\.ctl'$/m);
      const bad = await run('bash', ['--norc', demo, 'env', '--node', 'node-7'], { env, allowFail: true });
      assert.equal(bad.code, 1);
      assert.match(
        bad.stderr,
        /demo env: --node: no node "node-7" in the kept cluster \(nodes: node-1, node-2\)/,
      );
      const manifest = JSON.parse((await run('bash', ['--norc', demo, 'status'], { env })).stdout) as {
        pods: { name: string; ip: string; node: string; netns: string }[];
        nodes: { netns: string }[];
      };
      namespaces = [...manifest.pods.map((p) => p.netns), ...manifest.nodes.map((n) => n.netns)];
      const pod = manifest.pods.find((p) => p.node === 'node-1')!;

      // The README's session, in a shell that starts with the system's PATH only.
      const session = [
        'set -e',
        `cd ${shellQuote(REPO_ROOT)}`,
        'eval "$(./scripts/demo.sh env)"',
        'echo "== node"; node --version',
        'echo "== node status"; npx tricolorctl node status',
        'echo "== birdc"; npx tricolor-birdc show protocols',
        'echo "== weps"; npx tricolorctl get wep -A -o wide',
        `echo "== ipam"; npx tricolorctl ipam show --ip ${pod.ip}`,
      ].join('\n');
      const s = await run('bash', ['--norc', '-c', session], {
        env: {
          PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
          HOME: process.env.HOME ?? '/root',
          TRICOLOR_DEMO_STATE_DIR: stateDir,
        },
        allowFail: true,
      });
      assert.equal(s.code, 0, `${s.stdout}\n${s.stderr}`);
      const part = (name: string) => s.stdout.split(`== ${name}\n`)[1]!.split('\n== ')[0]!;
      if (existsSync(join(REPO_ROOT, '.tools', 'node', 'bin', 'node')))
        assert.equal(
          part('node').trim(),
          process.version,
          "the environment puts the project's Node.js first",
        );
      assert.match(part('node status'), /^Tricolor bird is running: router id 192\.168\.200\.11, AS 64512/);
      assert.match(part('node status'), /\n192\.168\.200\.12\s+node-to-node mesh\s+up\s.*Established\n/);
      assert.match(part('birdc'), /Mesh_192_168_200_12\s+192\.168\.200\.12\s+64512\s+Established/);
      assert.match(part('weps'), /^NAMESPACE\s+NAME\s+WORKLOAD\s+NODE\s+NETWORKS\s+INTERFACE\s+PROFILES/);
      for (const p of manifest.pods)
        assert.match(
          part('weps'),
          new RegExp(`default/${p.name}\\s+${p.node}\\s+${p.ip.replace(/\./g, '\\.')}/32\\s+cali`),
        );
      assert.match(part('ipam'), new RegExp(`^IP ${pod.ip.replace(/\./g, '\\.')} is in use\\n`));
      assert.match(part('ipam'), new RegExp(`Pod: {7}default/${pod.name}\\n {2}Node: {6}node-1\\n`));
      assert.match(part('ipam'), /Since: {5}\d{4}-\d\d-\d\dT/);
      assert.match(part('ipam'), /Endpoint: {2}workloadendpoint\/default\/\S+ \(cali[0-9a-f]{11}\)/);
    } finally {
      const down = await run('bash', ['--norc', demo, 'down'], { env, allowFail: true });
      assert.equal(down.code, 0, down.stderr);
      const left = runSync('ip', ['netns', 'list']);
      for (const ns of namespaces) assert.ok(!left.includes(ns), `namespace ${ns} is gone`);
      assert.ok(!existsSync(join(stateDir, 'cluster.json')), 'the state is gone');
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
