import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './exec.js';

export interface TlsMaterial {
  dir: string;
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

/**
 * Makes a throw-away CA with a server certificate for 127.0.0.1/localhost and a client
 * certificate, with openssl, for tests of TLS with client-certificate authentication.
 */
export async function makeTlsMaterial(dir: string): Promise<TlsMaterial> {
  mkdirSync(dir, { recursive: true });
  const f = (n: string) => join(dir, n);
  const ossl = (args: string[]) => run('openssl', args);
  await ossl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=tricolor-test-ca',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
  ]);
  const leaf = async (name: string, cn: string, ext: string) => {
    await ossl([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      f(`${name}.key`),
      '-out',
      f(`${name}.csr`),
    ]);
    await run('sh', ['-c', `printf '%s\\n' "${ext}" > ${f(`${name}.ext`)}`]);
    await ossl([
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f('ca.crt'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      f(`${name}.crt`),
      '-extfile',
      f(`${name}.ext`),
    ]);
  };
  // clientAuth too: etcd's JSON gateway presents the server certificate to etcd's own gRPC
  // port, which (with --client-cert-auth) refuses a certificate that is not a client's.
  await leaf(
    'server',
    'localhost',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth',
  );
  await leaf('client', 'tricolor-client', 'extendedKeyUsage=clientAuth');
  return {
    dir,
    caFile: f('ca.crt'),
    serverCertFile: f('server.crt'),
    serverKeyFile: f('server.key'),
    clientCertFile: f('client.crt'),
    clientKeyFile: f('client.key'),
  };
}
