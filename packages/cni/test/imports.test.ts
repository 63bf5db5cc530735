/**
 * The plugin is a per-pod process: loading etcd3 (grpc-js + protobufjs) would cost it
 * 150–300 ms on every ADD. These tests run the real binary and record every CommonJS module
 * the process loaded (etcd3, grpc-js and protobufjs are CommonJS, and an ESM `import` of
 * them lands in the same cache), through a preload that dumps `require.cache` at exit. The
 * preload also records every module URL resolved (ES modules too): the plugin kubelet runs is
 * one bundled file (scripts/bundle.mjs), and it must load nothing else but Node.js's own.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { configFromEnv, Datastore } from '@tricolor/datastore';
import { EtcdServer } from '@tricolor/testkit';
import { PLUGIN_BUNDLE } from '../src/install.js';

/** What the installed launcher runs. */
const MAIN = PLUGIN_BUNDLE;
const GRPC_STACK = /[/\\]node_modules[/\\](etcd3|@grpc[/\\]grpc-js|protobufjs)[/\\]/;

let etcd: EtcdServer;
let dir: string;
let preload: string;
const prefix = `/imp-${randomUUID().slice(0, 8)}/`;

before(async () => {
  etcd = await EtcdServer.start();
  dir = mkdtempSync(join(tmpdir(), 'tricolor-cni-imports-'));
  preload = join(dir, 'record-modules.mjs');
  writeFileSync(
    preload,
    [
      "import { createRequire, registerHooks } from 'node:module';",
      "import { writeFileSync } from 'node:fs';",
      'const cache = createRequire(import.meta.url).cache;',
      'const urls = new Set();',
      'registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); urls.add(r.url); return r; } });',
      "process.on('exit', () => writeFileSync(process.env.RECORD_MODULES_TO, JSON.stringify([...new Set([...Object.keys(cache), ...urls])])));",
    ].join('\n'),
  );
  const ds = Datastore.connect(configFromEnv({}, { endpoints: [etcd.endpoint], prefix }));
  try {
    await ds.create({
      kind: 'IPPool',
      apiVersion: 'tricolor.dev/v1',
      metadata: { name: 'default' },
      spec: { cidr: '10.244.0.0/16' },
    });
  } finally {
    ds.close();
  }
});

after(async () => {
  await etcd?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs `args` under node with the preload; returns exit code, stdout and the modules loaded. */
function runRecorded(
  args: string[],
  env: Record<string, string>,
  stdin = '',
): Promise<{ code: number; stdout: string; modules: string[] }> {
  const out = join(dir, `modules-${randomUUID().slice(0, 8)}.json`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', pathToFileURL(preload).href, ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', RECORD_MODULES_TO: out, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve({ code: code ?? 1, stdout, modules: JSON.parse(readFileSync(out, 'utf8')) as string[] });
      } catch (e) {
        reject(new Error(`no module record (${(e as Error).message}); stderr: ${stderr}`));
      }
    });
    child.stdin.end(stdin);
  });
}

const netconf = () =>
  JSON.stringify({
    cniVersion: '1.1.0',
    name: 'k8s-pod-network',
    type: 'tricolor',
    nodename: 'node-a',
    etcd_endpoints: etcd.endpoint,
    datastore_prefix: prefix,
    ipam: { type: 'tricolor-ipam' },
  });

test('the plugin talks to etcd without ever loading etcd3, grpc-js or protobufjs', async () => {
  // STATUS opens the datastore and lists IPPools: the whole import graph of main.js plus a
  // real round trip to etcd over the HTTP transport.
  const status = await runRecorded([MAIN], { CNI_COMMAND: 'STATUS' }, netconf());
  assert.equal(status.code, 0, `STATUS failed: ${status.stdout}`);
  assert.deepEqual(
    status.modules.filter((m) => GRPC_STACK.test(m)),
    [],
    'no gRPC stack module in the plugin process',
  );
  // One file of ours and Node.js's own modules, nothing resolved from node_modules or dist/src.
  const bundle = pathToFileURL(PLUGIN_BUNDLE).href;
  assert.ok(status.modules.includes(bundle), `the bundle was not loaded: ${status.modules.join(', ')}`);
  assert.deepEqual(
    status.modules.filter((m) => m !== bundle && !m.startsWith('node:')),
    [],
    'the plugin process loads only its bundle',
  );
  // And against a dead etcd the error still comes from the HTTP transport, not gRPC.
  const down = await runRecorded(
    [MAIN],
    { CNI_COMMAND: 'STATUS' },
    JSON.stringify({ ...JSON.parse(netconf()), etcd_endpoints: 'http://127.0.0.1:1' }),
  );
  assert.equal(JSON.parse(down.stdout).code, 50);
  assert.match(
    JSON.parse(down.stdout).msg,
    /etcd unreachable: POST \/v3\/kv\/range failed on every endpoint/,
  );
  assert.deepEqual(
    down.modules.filter((m) => GRPC_STACK.test(m)),
    [],
  );
});

test('control: the same recorder does see etcd3 and grpc-js when the gRPC transport is used', async () => {
  const script = join(dir, 'grpc-user.mjs');
  const datastore = import.meta.resolve('@tricolor/datastore');
  writeFileSync(
    script,
    [
      `import { configFromEnv, Datastore } from ${JSON.stringify(datastore)};`,
      `const ds = Datastore.connect(configFromEnv({}, { endpoints: [${JSON.stringify(etcd.endpoint)}], prefix: ${JSON.stringify(prefix)} }));`,
      "console.log((await ds.list('IPPool')).items.length);",
      'ds.close();',
      'process.exit(0);',
    ].join('\n'),
  );
  const r = await runRecorded([script], {});
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), '1');
  const grpc = r.modules.filter((m) => GRPC_STACK.test(m));
  assert.ok(
    grpc.some((m) => /[/\\]etcd3[/\\]/.test(m)),
    'etcd3 is recorded when it is loaded',
  );
  assert.ok(grpc.some((m) => /grpc-js/.test(m)));
});
