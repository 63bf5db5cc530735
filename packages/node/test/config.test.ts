import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NodeConfigError, nodeConfigFromEnv } from '../src/index.js';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));

test("every daemon's variables are read: felix's, bird's and the datastore's, with the defaults each has alone", () => {
  const c = nodeConfigFromEnv({
    NODENAME: 'node-1',
    IP: '10.0.0.1/24',
    ETCD_ENDPOINTS: 'http://10.0.0.100:2379',
    FELIX_HEALTHPORT: '19099',
    BIRD_CONTROL: '/run/t/bird.ctl',
    BIRD_METRICSPORT: '19092',
    BIRD_LOGLEVEL: 'debug',
  });
  assert.deepEqual(c.etcd.endpoints, ['http://10.0.0.100:2379']);
  assert.equal(c.felix.static.nodeName, 'node-1');
  assert.equal(c.felix.static.healthPort, 19099);
  assert.equal(c.felix.static.metricsPort, 9091);
  assert.equal(c.bird.controlPath, '/run/t/bird.ctl');
  assert.deepEqual(c.bird.health, { host: '127.0.0.1', port: 9098 });
  assert.deepEqual(c.bird.metrics, { host: '127.0.0.1', port: 19092 });
  assert.equal(c.bird.logLevel, 'debug');
});

test('bad configuration: every problem at once, each naming its variable', () => {
  assert.throws(
    () =>
      nodeConfigFromEnv({
        NODENAME: 'node-1',
        ETCD_ENDPOINTS: 'ftp://10.0.0.100:2379',
        FELIX_ROUTEREFRESHINTERVAL: 'soon',
        FELIX_HEALTHPORT: '70000',
      }),
    (e: unknown) => {
      assert.ok(e instanceof NodeConfigError);
      assert.equal(e.problems.length, 3, e.message);
      assert.match(e.message, /ETCD_ENDPOINTS: "ftp:\/\/10\.0\.0\.100:2379" must use http or https/);
      assert.match(e.message, /FELIX_ROUTEREFRESHINTERVAL: "soon"/);
      assert.match(e.message, /FELIX_HEALTHPORT: "70000"/);
      return true;
    },
  );
});

test('tricolor-node exits 2 on bad configuration, naming the variable, before connecting anywhere', () => {
  const r = spawnSync(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, NODENAME: 'node-1', FELIX_IPTABLESREFRESHINTERVAL: '-1' },
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^tricolor-node: invalid configuration:\n {2}FELIX_IPTABLESREFRESHINTERVAL: "-1"/);
  const flags = spawnSync(process.execPath, [MAIN, '--peer', '10.0.0.2'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(flags.status, 2);
  assert.match(flags.stderr, /unexpected argument\(s\) --peer 10\.0\.0\.2/);
});
