import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, configFromEnv } from '../src/index.js';

test('etcd config from the environment', () => {
  const cfg = configFromEnv({
    ETCD_ENDPOINTS: 'https://10.0.0.1:2379, https://10.0.0.2:2379',
    ETCD_CA_CERT_FILE: '/ca',
    ETCD_CERT_FILE: '/c',
    ETCD_KEY_FILE: '/k',
    TRICOLOR_DATASTORE_PREFIX: 'cluster-a',
  });
  assert.deepEqual(cfg.endpoints, ['https://10.0.0.1:2379', 'https://10.0.0.2:2379']);
  assert.equal(cfg.prefix, '/cluster-a/');
  assert.equal(configFromEnv({}).prefix, '/tricolor/');
  assert.deepEqual(configFromEnv({}).endpoints, ['http://127.0.0.1:2379']);
});

test('bad etcd config names the variable', () => {
  assert.throws(
    () => configFromEnv({ ETCD_ENDPOINTS: 'localhost:2379' }),
    (e: Error) => e instanceof ConfigError && /^ETCD_ENDPOINTS: "localhost:2379"/.test(e.message),
  );
  assert.throws(
    () => configFromEnv({ ETCD_ENDPOINTS: 'https://a:1', ETCD_CERT_FILE: '/c' }),
    /ETCD_CERT_FILE and ETCD_KEY_FILE/,
  );
  assert.throws(
    () => configFromEnv({ ETCD_ENDPOINTS: 'http://a:1', ETCD_CA_CERT_FILE: '/ca' }),
    /TLS files are set but the endpoints use http/,
  );
});
