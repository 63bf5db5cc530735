import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CniCode, CniError } from '../src/errors.js';
import { endpointName, handleId, hostInterfaceName } from '../src/names.js';
import { parseEnv, parseNetConf } from '../src/spec.js';
import { hostSideBatch, podSideBatch, randomPodMac } from '../src/veth.js';

const conf = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'tricolor', ...extra });

function codeOf(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CniError);
    return e.code;
  }
  assert.fail('expected a CniError');
}

test('network config: defaults and errors naming the field', () => {
  const c = parseNetConf(conf());
  assert.equal(c.mtu, 1500);
  assert.deepEqual(c.ipam, {
    type: 'tricolor-ipam',
    assign_ipv4: true,
    assign_ipv6: false,
    ipv4_pools: undefined,
    ipv6_pools: undefined,
  });
  assert.equal(
    codeOf(() => parseNetConf('{')),
    CniCode.DecodeFailure,
  );
  assert.equal(
    codeOf(() => parseNetConf(conf({ cniVersion: '9.9.9' }))),
    CniCode.IncompatibleVersion,
  );
  assert.throws(() => parseNetConf(conf({ mtu: 70000 })), /network config: mtu 70000 is not an MTU/);
  assert.throws(() => parseNetConf(conf({ type: 'calico' })), /network config: type must be "tricolor"/);
  assert.throws(() => parseNetConf(conf({ ipam: { assign_ipv4: false } })), /assigns no address/);
});

test('environment: commands, CNI_ARGS and required variables', () => {
  const env = {
    CNI_COMMAND: 'ADD',
    CNI_CONTAINERID: 'abc123',
    CNI_NETNS: '/var/run/netns/x',
    CNI_IFNAME: 'eth0',
    CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0',
  };
  const req = parseEnv(env);
  assert.equal(req.args.K8S_POD_NAME, 'web-0');
  assert.equal(
    codeOf(() => parseEnv({ ...env, CNI_COMMAND: 'FROB' })),
    CniCode.InvalidEnvironment,
  );
  assert.throws(() => parseEnv({ ...env, CNI_NETNS: '' }), /CNI_NETNS is required for ADD/);
  assert.doesNotThrow(
    () => parseEnv({ ...env, CNI_COMMAND: 'DEL', CNI_NETNS: '' }),
    'DEL works without a netns',
  );
  assert.throws(() => parseEnv({ ...env, CNI_ARGS: 'broken' }), /CNI_ARGS: "broken" is not KEY=VALUE/);
  assert.throws(() => parseEnv({ ...env, CNI_CONTAINERID: '../etc' }), /CNI_CONTAINERID/);
});

test('names are stable, short enough for Linux and Calico-like', () => {
  const a = hostInterfaceName('default', 'web-0');
  assert.match(a, /^cali[0-9a-f]{11}$/);
  assert.equal(a, hostInterfaceName('default', 'web-0'));
  assert.notEqual(a, hostInterfaceName('default', 'web-1'));
  assert.equal(handleId('k8s-pod-network', 'abc'), 'k8s-pod-network.abc');
  assert.equal(endpointName('node-1', 'web-0', 'eth0'), 'node--1-k8s-web--0-eth0');
});

test('the veth batches follow the data path of DESIGN.md', () => {
  const spec = {
    netns: '/x',
    ifname: 'eth0',
    hostIf: 'cali0123456789a',
    mtu: 1450,
    addresses: ['10.244.1.5/32'],
  };
  const mac = randomPodMac();
  assert.match(mac, /^[0-9a-f][26ae](:[0-9a-f]{2}){5}$/, 'locally administered, unicast');
  assert.notEqual(randomPodMac(), mac);
  assert.equal(
    podSideBatch(spec, 42, '02:00:00:00:00:01'),
    'link add eth0 address 02:00:00:00:00:01 mtu 1450 type veth peer name cali0123456789a mtu 1450 netns 42\nlink set eth0 up\naddr add 10.244.1.5/32 dev eth0\nroute add 169.254.1.1 dev eth0 scope link\nroute add default via 169.254.1.1 dev eth0\n',
  );
  assert.equal(
    hostSideBatch(spec, '02:00:00:00:00:01'),
    'link set cali0123456789a address ee:ee:ee:ee:ee:ee\nlink set cali0123456789a up\nroute replace 10.244.1.5/32 dev cali0123456789a scope link proto 80\nneigh replace 10.244.1.5 lladdr 02:00:00:00:00:01 dev cali0123456789a nud permanent\n',
  );
});
