import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EtcdServer } from '@tricolor/testkit';
import { configFromEnv, Datastore } from '../src/index.js';

test('TLS with client-certificate auth: works with the client cert, refused without', async () => {
  const etcd = await EtcdServer.start({ tls: true });
  const tls = etcd.tls!;
  const env = {
    ETCD_ENDPOINTS: etcd.endpoint.replace('127.0.0.1', 'localhost'),
    ETCD_CA_CERT_FILE: tls.caFile,
    ETCD_CERT_FILE: tls.clientCertFile,
    ETCD_KEY_FILE: tls.clientKeyFile,
  };
  assert.match(env.ETCD_ENDPOINTS, /^https:/);
  const ds = Datastore.connect(configFromEnv(env));
  const anonymous = Datastore.connect(
    configFromEnv(
      { ETCD_ENDPOINTS: env.ETCD_ENDPOINTS, ETCD_CA_CERT_FILE: tls.caFile },
      { dialTimeoutMs: 1500 },
    ),
  );
  try {
    await ds.create({
      kind: 'IPPool',
      apiVersion: 'tricolor.dev/v1',
      metadata: { name: 'tls' },
      spec: { cidr: '10.9.0.0/16' },
    });
    assert.equal((await ds.get('IPPool', 'tls'))?.spec.cidr, '10.9.0.0/16');
    await assert.rejects(anonymous.get('IPPool', 'tls'), 'a client without a certificate must be refused');
  } finally {
    ds.close();
    anonymous.close();
    await etcd.destroy();
  }
});
