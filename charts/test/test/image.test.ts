// The node image's file tree, assembled by images/node/layout.sh (the script the Dockerfile
// runs) from this repository, and its entrypoints run from that tree. No Docker here: the
// base image, apt packages and `npm ci --omit=dev` inside the build are not exercised.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT } from './helpers.js';

const RUNTIME = [
  'datastore',
  'ipam',
  'bgp-parser-ts',
  'felix',
  'bird',
  'node',
  'cni',
  'ctl',
  'kube-controllers',
];
let work: string;
let out: string;
let layoutStderr = '';

function run(cmd: string, args: string[], env: Record<string, string> = {}, input?: string) {
  return spawnSync(cmd, args, {
    encoding: 'utf8',
    timeout: 120_000, // a deadline against hangs; copying Node.js and the app takes seconds on a busy machine
    input,
    env: { PATH: `${out}/usr/local/bin:${process.env.PATH}`, HOME: work, ...env },
  });
}

function built(pkg: string): boolean {
  return existsSync(join(ROOT, 'packages', pkg, 'dist', 'src'));
}

describe('node image layout', () => {
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'tricolor-image-'));
    out = join(work, 'rootfs');
    const r = spawnSync(join(ROOT, 'images', 'node', 'layout.sh'), [out], {
      encoding: 'utf8',
      env: { ...process.env, LAYOUT_ALLOW_MISSING: '1' },
    });
    layoutStderr = r.stderr;
    assert.equal(r.status, 0, `layout.sh failed:\n${r.stderr}`);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('has a launcher for every bin the runtime packages declare, and only production dependencies', (t) => {
    const missing = RUNTIME.filter((p) => !built(p));
    if (missing.length)
      t.diagnostic(`LOUD: not built, left out of the layout: ${missing.join(', ')}\n${layoutStderr}`);
    const bins = readdirSync(join(out, 'usr', 'local', 'bin'));
    for (const p of RUNTIME) {
      const pj = JSON.parse(readFileSync(join(ROOT, 'packages', p, 'package.json'), 'utf8'));
      for (const name of Object.keys(pj.bin ?? {})) assert.ok(bins.includes(name), `no launcher for ${name}`);
    }
    for (const b of [
      'tricolor-felix',
      'tricolor-bird',
      'tricolor-birdc',
      'tricolor-node',
      'tricolor-cni',
      'tricolorctl',
      'tricolor-install-cni',
    ])
      assert.ok(bins.includes(b), `no ${b}`);
    // The launchers run `node FILE`, which skips a bin's shebang: its Node.js flags are theirs too.
    const shebang = readFileSync(join(ROOT, 'packages', 'bird', 'bin', 'tricolor-bird.js'), 'utf8').split(
      '\n',
    )[0]!;
    const flags = /^#!\/usr\/bin\/env -S node (.+)$/.exec(shebang)?.[1];
    assert.ok(flags, `tricolor-bird's shebang carries no Node.js flags: ${shebang}`);
    const birdLauncher = readFileSync(join(out, 'usr', 'local', 'bin', 'tricolor-bird'), 'utf8');
    assert.ok(birdLauncher.includes(`exec node ${flags} "`), birdLauncher);
    const nm = join(out, 'opt', 'tricolor', 'node_modules');
    for (const prod of ['fastify', 'prom-client', 'pino', 'etcd3', 'yaml'])
      assert.ok(existsSync(join(nm, prod)), `${prod} missing`);
    for (const dev of ['typescript', '@biomejs', 'fast-check'])
      assert.ok(!existsSync(join(nm, dev)), `dev dependency ${dev} shipped`);
    assert.match(
      readFileSync(join(out, 'opt', 'tricolor', 'BUILD_ID'), 'utf8'),
      /^\d+\.\d+\.\d+-[0-9a-f]{16}\n$/,
    );
  });

  // [bin, package, args, env, expected exit, what the output must contain]
  const entrypoints: [string, string, string[], Record<string, string>, number, RegExp][] = [
    ['tricolor-cni', 'cni', ['--help'], {}, 0, /usage: tricolor-cni/],
    // felix has no --help (it would start); a bad variable makes it stop at config validation,
    // after loading all of its code and dependencies.
    [
      'tricolor-felix',
      'felix',
      [],
      { FELIX_HEALTHPORT: 'not-a-port', NODENAME: 'node-1' },
      2,
      /FELIX_HEALTHPORT: "not-a-port" must be an integer/,
    ],
    ['tricolor-bird', 'bird', ['--help'], {}, 0, /usage: tricolor-bird/],
    // tricolor-node reads felix's and bird's variables before starting either.
    [
      'tricolor-node',
      'node',
      [],
      { FELIX_HEALTHPORT: 'not-a-port', NODENAME: 'node-1' },
      2,
      /FELIX_HEALTHPORT: "not-a-port" must be an integer/,
    ],
    ['tricolor-birdc', 'bird', ['--help'], {}, 0, /usage/i],
    ['tricolorctl', 'ctl', ['--help'], {}, 0, /apply -f/],
  ];
  for (const [bin, pkg, args, env, code, expect] of entrypoints) {
    test(`${bin} ${args.join(' ')} runs from the image tree`, () => {
      assert.ok(built(pkg), `packages/${pkg} is not built: run npm run build (npm test does)`);
      const r = run(bin, args, env);
      assert.equal(r.error, undefined, `${bin}: ${r.error?.message}`);
      assert.equal(r.status, code, `${bin} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout + r.stderr, expect);
    });
  }

  test("bird's TCP MD5 (koffi's prebuilt binary, no install script, no compiler) works from the image tree", () => {
    assert.ok(built('bird'), 'packages/bird is not built: run npm run build (npm test does)');
    const md5 = join(out, 'opt', 'tricolor', 'packages', 'bird', 'dist', 'src', 'session', 'tcp-md5.js');
    const r = run(process.execPath, [
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(md5)}); console.log(m.tcpMd5Unavailable() ?? 'available')`,
    ]);
    assert.equal(r.status, 0, r.stderr);
    // The FFI must load; a kernel without TCP_MD5SIG is the only acceptable other answer.
    assert.match(r.stdout, /^(available|this kernel has no TCP MD5 support \(CONFIG_TCP_MD5SIG\))\n$/);
  });

  test('tricolor-install-cni puts a working plugin, its conflist and the etcd certificate on the host', () => {
    assert.ok(built('cni'), 'packages/cni is not built: run npm run build (npm test does)');
    const host = join(work, 'host');
    const tls = join(work, 'tls');
    mkdirSync(tls, { recursive: true });
    writeFileSync(join(tls, 'ca.crt'), 'CA');
    writeFileSync(join(tls, 'tls.key'), 'KEY');
    const env = {
      HOST_ROOT: host,
      NODENAME: 'node-1',
      ETCD_ENDPOINTS: 'https://10.0.0.1:2379',
      ETCD_CA_CERT_FILE: join(tls, 'ca.crt'),
      ETCD_KEY_FILE: join(tls, 'tls.key'),
      ETCD_CERT_FILE: join(tls, 'ca.crt'),
      CNI_MTU: '1450',
    };
    const r = run('tricolor-install-cni', [], env);
    assert.equal(r.status, 0, r.stderr);
    const id = readFileSync(join(out, 'opt', 'tricolor', 'BUILD_ID'), 'utf8').trim();
    const conf = JSON.parse(readFileSync(join(host, 'etc', 'cni', 'net.d', '10-tricolor.conflist'), 'utf8'));
    const plugin = conf.plugins[0];
    assert.equal(plugin.type, 'tricolor');
    assert.equal(plugin.nodename, 'node-1');
    assert.equal(plugin.mtu, 1450);
    assert.equal(plugin.etcd_endpoints, 'https://10.0.0.1:2379');
    // Certificate paths are host paths, and the files are there, readable by root only.
    assert.equal(plugin.etcd_ca_cert_file, '/etc/cni/net.d/tricolor-tls/ca.crt');
    assert.equal(plugin.etcd_key_file, '/etc/cni/net.d/tricolor-tls/tls.key');
    assert.equal(readFileSync(join(host, 'etc', 'cni', 'net.d', 'tricolor-tls', 'tls.key'), 'utf8'), 'KEY');
    assert.equal(statSync(join(host, 'etc', 'cni', 'net.d', 'tricolor-tls', 'tls.key')).mode & 0o077, 0);
    // The launcher points at the copy on the host.
    const launcher = readFileSync(join(host, 'opt', 'cni', 'bin', 'tricolor'), 'utf8');
    assert.ok(launcher.includes(`/opt/tricolor/${id}/node`), launcher);
    assert.ok(
      launcher.includes(`/opt/tricolor/${id}/app/packages/cni/dist/bundle/tricolor-cni.js`),
      launcher,
    );
    assert.ok(statSync(join(host, 'opt', 'cni', 'bin', 'tricolor')).mode & 0o100, 'launcher not executable');
    // The copied Node.js runs the copied plugin: CNI VERSION, as a container runtime calls it.
    const copy = join(host, 'opt', 'tricolor', id);
    const v = spawnSync(
      join(copy, 'node'),
      [join(copy, 'app', 'packages', 'cni', 'dist', 'bundle', 'tricolor-cni.js')],
      {
        encoding: 'utf8',
        input: '{"cniVersion":"1.0.0"}',
        env: { CNI_COMMAND: 'VERSION', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
        timeout: 120_000, // a deadline against hangs; copying Node.js and the app takes seconds on a busy machine
      },
    );
    assert.equal(v.status, 0, v.stderr);
    assert.ok(JSON.parse(v.stdout).supportedVersions.includes('1.0.0'), v.stdout);
    // A second run (pod restart) reuses the copy.
    const again = run('tricolor-install-cni', [], env);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(readdirSync(join(host, 'opt', 'tricolor')), [id]);
  });

  test('the Dockerfile builds on node:24-bookworm, runs on -slim with the kernel tools, via layout.sh with npm ci --omit=dev', () => {
    const df = readFileSync(join(ROOT, 'images', 'node', 'Dockerfile'), 'utf8');
    const froms = [...df.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    assert.deepEqual(froms, ['node:24-bookworm', 'node:24-bookworm-slim']);
    for (const p of ['iproute2', 'iptables', 'ipset', 'conntrack'])
      assert.match(df, new RegExp(`install .*\\b${p}\\b`));
    assert.match(df, /LAYOUT_DEPS=ci images\/node\/layout\.sh \/out/);
    assert.match(readFileSync(join(ROOT, 'images', 'node', 'layout.sh'), 'utf8'), /npm ci --omit=dev/);
    assert.match(df, /COPY --from=build \/out\/ \//);
    // The plugin's one-file bundle is built there (the launcher runs it).
    assert.match(df, /node packages\/cni\/scripts\/bundle\.mjs/);
  });
});
