import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CniCode, CniError } from '../src/errors.js';
import { DEFAULT_NODENAME_FILE, resolveNodename } from '../src/node.js';
import { type NetConf, parseNetConf } from '../src/spec.js';

const conf = (extra: Record<string, unknown> = {}): NetConf =>
  parseNetConf(JSON.stringify({ cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'tricolor', ...extra }));

const noFile = (path: string): string => {
  throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
};

function failure(fn: () => unknown): CniError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CniError, String(e));
    return e;
  }
  assert.fail('expected a CniError');
}

test('node name: the config wins, else the file felix writes, never the hostname', () => {
  const read: string[] = [];
  const file = (p: string) => {
    read.push(p);
    return 'node-7.example\n';
  };
  assert.equal(resolveNodename(conf({ nodename: 'node-1' }), file), 'node-1');
  assert.deepEqual(read, [], 'the file is not read when the config names the node');
  assert.equal(resolveNodename(conf(), file), 'node-7.example');
  assert.deepEqual(read, [DEFAULT_NODENAME_FILE]);
  assert.equal(DEFAULT_NODENAME_FILE, '/var/lib/tricolor/nodename');
  assert.equal(resolveNodename(conf({ nodename_file: '/run/x/nodename' }), file), 'node-7.example');
  assert.equal(read.at(-1), '/run/x/nodename');
});

test('node name: no config entry and no file is "try again later", naming the file and who writes it', () => {
  const e = failure(() => resolveNodename(conf(), noFile));
  assert.equal(e.code, CniCode.TryAgainLater);
  assert.match(
    e.message,
    /no "nodename" and \/var\/lib\/tricolor\/nodename does not exist \(tricolor-felix writes it/,
  );
  const bad = failure(() => resolveNodename(conf(), () => 'Not A Node Name\n'));
  assert.equal(bad.code, CniCode.InvalidNetworkConfig);
  assert.match(bad.message, /"Not A Node Name" is not a node name/);
  const empty = failure(() => resolveNodename(conf(), () => ''));
  assert.equal(empty.code, CniCode.InvalidNetworkConfig);
});

test('nodename_file must be an absolute path', () => {
  assert.throws(
    () => conf({ nodename_file: 'nodename' }),
    /network config: nodename_file must be an absolute file path/,
  );
});
