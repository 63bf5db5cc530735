// values.schema.json against good and bad values: with Ajv (a draft-07 validator) and through
// the real Helm (`helm template` validates values as `helm install` does).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { CHART, chartDefaults, ETCD, merge, render } from './helpers.js';

const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8'));
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validate = ajv.compile(schema);
const defaults = chartDefaults();

function problems(values: unknown): string[] {
  return validate(values) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

describe('values.schema.json', () => {
  test('is draft-07', () => {
    assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  });

  test('the chart defaults need only etcd.endpoints', () => {
    assert.deepEqual(problems(merge(defaults, ETCD)), []);
    assert.deepEqual(problems(defaults), ['/etcd/endpoints must NOT have fewer than 1 items']);
  });

  const good: [string, object][] = [
    [
      'TLS with https endpoints',
      {
        etcd: {
          endpoints: ['https://10.0.0.1:2379', 'https://etcd-1.example:2379'],
          tls: { secretName: 'etcd-client' },
        },
      },
    ],
    [
      'plain http with TLS switched off',
      { etcd: { endpoints: ['http://10.0.0.1:2379'], tls: { enabled: false } } },
    ],
    ['VXLAN without BGP', { ipPool: { vxlanMode: 'Always' }, bird: { enabled: false } }],
    [
      'route reflectors and IPIP',
      {
        bgp: { mode: 'routeReflector', asNumber: 4200000000 },
        ipPool: { ipipMode: 'CrossSubnet', cidr: '192.168.0.0/16', blockSize: 24 },
      },
    ],
    [
      'monitors, literal bind address, fixed node IP',
      {
        metrics: {
          bindAddress: '0.0.0.0',
          serviceMonitor: { enabled: true, interval: '15s' },
          podMonitor: { enabled: true },
        },
        node: { ip: '192.168.26.105/24' },
      },
    ],
    [
      'percent maxUnavailable and @hourly GC',
      { maxUnavailable: '10%', controllers: { ipamGC: { schedule: '@hourly' } } },
    ],
  ];
  for (const [name, v] of good) {
    test(`accepts ${name}`, () => {
      assert.deepEqual(problems(merge(merge(defaults, ETCD), v)), []);
    });
  }

  // [what, override, the path Ajv and Helm name, Helm's message]
  const bad: [string, object, string, string][] = [
    ['a misspelt top-level key', { felx: {} }, '', "additional properties 'felx' not allowed"],
    [
      'a misspelt nested key',
      { felix: { healthport: 1 } },
      '/felix',
      "additional properties 'healthport' not allowed",
    ],
    [
      'an etcd URL without scheme',
      { etcd: { endpoints: ['10.0.0.1:2379'] } },
      '/etcd/endpoints/0',
      "'10.0.0.1:2379' does not match pattern",
    ],
    [
      'TLS switched on with a string',
      { etcd: { tls: { enabled: 'yes' } } },
      '/etcd/tls/enabled',
      'got string, want boolean',
    ],
    [
      'a port out of range',
      { felix: { metricsPort: 70000 } },
      '/felix/metricsPort',
      'maximum: got 70,000, want 65,535',
    ],
    ['a port as text', { bird: { healthPort: 'http' } }, '/bird/healthPort', 'got string, want integer'],
    [
      'a bad pool CIDR',
      { ipPool: { cidr: '10.244.0.0/33' } },
      '/ipPool/cidr',
      "'10.244.0.0/33' does not match pattern",
    ],
    [
      'a block size too small',
      { ipPool: { blockSize: 16 } },
      '/ipPool/blockSize',
      'minimum: got 16, want 20',
    ],
    [
      'an unknown encapsulation',
      { ipPool: { vxlanMode: 'Sometimes' } },
      '/ipPool/vxlanMode',
      "value must be one of 'Never', 'Always', 'CrossSubnet'",
    ],
    [
      'IPIP and VXLAN together',
      { ipPool: { ipipMode: 'Always', vxlanMode: 'Always' } },
      '/ipPool/vxlanMode',
      "value must be 'Never'",
    ],
    [
      'an unknown BGP mode',
      { bgp: { mode: 'full-mesh' } },
      '/bgp/mode',
      "value must be one of 'mesh', 'routeReflector'",
    ],
    ['AS 0', { bgp: { asNumber: 0 } }, '/bgp/asNumber', 'minimum: got 0, want 1'],
    [
      'a container without requests',
      { felix: { resources: { requests: null } } },
      '/felix/resources',
      "missing property 'requests'",
    ],
    [
      'requests without memory',
      { bird: { resources: { requests: { memory: null } } } },
      '/bird/resources/requests',
      "missing property 'memory'",
    ],
    ['a bad node IP', { node: { ip: '192.168.1.5' } }, '/node/ip', "'192.168.1.5' does not match pattern"],
    [
      'a relative CNI dir',
      { cni: { binDir: 'opt/cni/bin' } },
      '/cni/binDir',
      "'opt/cni/bin' does not match pattern",
    ],
    [
      'a bad log level',
      { felix: { logSeverity: 'verbose' } },
      '/felix/logSeverity',
      "value must be one of 'debug', 'info', 'warn', 'error'",
    ],
    [
      'a bad metrics bind address',
      { metrics: { bindAddress: 'all' } },
      '/metrics/bindAddress',
      "'all' does not match pattern",
    ],
    [
      'a bad cron schedule',
      { controllers: { ipamGC: { schedule: 'every 10 minutes' } } },
      '/controllers/ipamGC/schedule',
      "'every 10 minutes' does not match pattern",
    ],
    ['maxUnavailable 0', { maxUnavailable: 0 }, '/maxUnavailable', "'anyOf' failed"],
  ];
  for (const [name, v, path, helmMessage] of bad) {
    test(`rejects ${name}`, () => {
      const values = merge(merge(defaults, ETCD), v);
      const found = problems(values);
      assert.ok(
        found.some((p) => p.startsWith(`${path} `)),
        `Ajv should name ${path || '(root)'}; it said ${JSON.stringify(found)}`,
      );
      const r = render([ETCD, v]);
      assert.equal(r.ok, false, 'helm must refuse these values');
      assert.match(
        r.stderr,
        /values don't meet the specifications of the schema\(s\) in the following chart\(s\):\ntricolor:\n- /,
      );
      // Helm 4 names the value by its JSON pointer, as Ajv does.
      const line = `- at '${path}': ${helmMessage}`;
      assert.ok(r.stderr.includes(line), `expected ${JSON.stringify(line)} in:\n${r.stderr}`);
    });
  }

  test('install without etcd endpoints fails and says which value is missing', () => {
    const r = render([]);
    assert.equal(r.ok, false);
    assert.match(r.stderr, /- at '\/etcd\/endpoints': minItems: got 0, want 1/);
  });
});
