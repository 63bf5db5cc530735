/** HttpKV at the edges: TLS client certificates, endpoint failover, lost answers, timeouts, errors. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { EtcdServer, freePort } from '@tricolor/testkit';
import {
  configFromEnv,
  Datastore,
  EtcdRequestError,
  EtcdUnavailableError,
  HttpKV,
  type Transport,
} from '../src/index.js';
import { sharedEtcd } from './shared-etcd.js';

const shared = sharedEtcd('t');

const exec = promisify(execFile);
const prefix = () => `/h-${randomUUID().slice(0, 8)}/`;

/** A local HTTP server for the duration of `fn`. */
async function withServer<T>(
  handler: http.RequestListener,
  fn: (url: string, server: http.Server) => Promise<T>,
): Promise<T> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    return await fn(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, server);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

/**
 * One etcd with TLS and client-certificate auth for the TLS tests. etcd 3.4's JSON gateway
 * presents the server certificate to etcd's own gRPC port, so that certificate must allow
 * clientAuth as well as serverAuth (testkit issues it so; see gatewayHint in src/http-kv.ts).
 * The first test re-issues it with serverAuth only to show the error an operator gets.
 */
let secure: EtcdServer;
before(async () => {
  secure = await EtcdServer.start({ tls: true });
});
after(async () => {
  await secure?.destroy();
});
const secureEndpoint = () => secure.endpoint.replace('127.0.0.1', 'localhost');
const secureEnv = (withClientCert: boolean, withCa = true) => ({
  ETCD_ENDPOINTS: secureEndpoint(),
  ...(withCa ? { ETCD_CA_CERT_FILE: secure.tls!.caFile } : {}),
  ...(withClientCert
    ? { ETCD_CERT_FILE: secure.tls!.clientCertFile, ETCD_KEY_FILE: secure.tls!.clientKeyFile }
    : {}),
});
/** Re-issues etcd's server certificate with the given extendedKeyUsage and restarts etcd. */
async function reissueServerCert(usage: string): Promise<void> {
  const t = secure.tls!;
  const ext = join(t.dir, 'server-reissued.ext');
  writeFileSync(ext, `subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=${usage}\n`);
  await exec('openssl', [
    'x509',
    '-req',
    '-in',
    join(t.dir, 'server.csr'),
    '-CA',
    t.caFile,
    '-CAkey',
    join(t.dir, 'ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    t.serverCertFile,
    '-extfile',
    ext,
  ]);
  await secure.kill();
  await secure.restart();
}

test("https: a server certificate without clientAuth breaks etcd 3.4's gateway, and the error says so", async () => {
  await reissueServerCert('serverAuth');
  const ds = Datastore.connect(configFromEnv(secureEnv(true)), { transport: 'http' });
  try {
    await assert.rejects(ds.kv.revision(), (e: Error) => {
      assert.ok(e instanceof EtcdUnavailableError, `${e.name}: ${e.message}`);
      assert.match(
        e.message,
        /HTTP 503: .*its server certificate must also allow clientAuth in extendedKeyUsage/,
      );
      return true;
    });
  } finally {
    ds.close();
    await reissueServerCert('serverAuth,clientAuth');
  }
});

test('https without a CA file: verification of the self-signed etcd fails, and says so', async () => {
  const ds = Datastore.connect(configFromEnv(secureEnv(true, false)), { transport: 'http' });
  try {
    await assert.rejects(ds.kv.revision(), (e: Error) => {
      assert.ok(e instanceof EtcdUnavailableError);
      assert.match(e.message, /self[- ]signed certificate|unable to verify|certificate/i);
      return true;
    });
  } finally {
    ds.close();
  }
});

for (const transport of ['grpc', 'http'] as Transport[]) {
  test(`[${transport}] TLS with client-certificate auth: works with the client cert, refused without`, async () => {
    assert.match(secureEndpoint(), /^https:/);
    const prefixed = { prefix: prefix() };
    const ds = Datastore.connect(configFromEnv(secureEnv(true), prefixed), { transport });
    const anonymous = Datastore.connect(
      configFromEnv(secureEnv(false), { ...prefixed, dialTimeoutMs: 1500 }),
      {
        transport,
        requestTimeoutMs: 3000,
      },
    );
    try {
      assert.equal(ds.transport, transport);
      await ds.create({
        kind: 'IPPool',
        apiVersion: 'tricolor.dev/v1',
        metadata: { name: 'tls' },
        spec: { cidr: '10.9.0.0/16' },
      });
      assert.equal((await ds.get('IPPool', 'tls'))?.spec.cidr, '10.9.0.0/16');
      const refused = await anonymous.get('IPPool', 'tls').then(
        () => undefined,
        (e: Error) => e,
      );
      assert.ok(refused, 'a client without a certificate must be refused');
      if (transport === 'http') {
        assert.ok(refused instanceof EtcdUnavailableError, `${refused.name}: ${refused.message}`);
        assert.match(refused.message, /^etcd unreachable: POST \/v3\/kv\/range failed on every endpoint/);
        assert.ok(refused.message.includes(new URL(secureEndpoint()).origin), refused.message);
      }
    } finally {
      ds.close();
      anonymous.close();
    }
  });
}

test('a dead first endpoint is skipped; the live one serves, and is asked first afterwards', async () => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  const ds = Datastore.connect(
    configFromEnv({}, { endpoints: [dead, shared.server.endpoint], prefix: prefix() }),
    {
      transport: 'http',
    },
  );
  try {
    const created = await ds.create({
      kind: 'IPPool',
      apiVersion: 'tricolor.dev/v1',
      metadata: { name: 'p' },
      spec: { cidr: '10.7.0.0/16' },
    });
    assert.equal((await ds.get('IPPool', 'p'))?.metadata.resourceVersion, created.metadata.resourceVersion);
    assert.equal((await ds.list('IPPool')).items.length, 1);
  } finally {
    ds.close();
  }
});

test('every endpoint dead: EtcdUnavailableError naming each endpoint and why', async () => {
  const a = `http://127.0.0.1:${await freePort()}`;
  const b = `http://127.0.0.1:${await freePort()}`;
  const kv = new HttpKV({ endpoints: [a, b], dialTimeoutMs: 1000 });
  try {
    await assert.rejects(kv.get('/x'), (e: Error) => {
      assert.ok(e instanceof EtcdUnavailableError);
      assert.match(e.message, /^etcd unreachable: POST \/v3\/kv\/range failed on every endpoint/);
      assert.ok(e.message.includes(`${a}: connect ECONNREFUSED`), e.message);
      assert.ok(e.message.includes(`${b}: connect ECONNREFUSED`), e.message);
      return true;
    });
  } finally {
    kv.close();
  }
});

test('an endpoint that accepts but never answers times out, and the next one serves', async () => {
  const hung = net.createServer((s) => s.resume()); // accepts, reads, never answers
  await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
  const hungUrl = `http://127.0.0.1:${(hung.address() as net.AddressInfo).port}`;
  const kv = new HttpKV({ endpoints: [hungUrl, shared.server.endpoint], requestTimeoutMs: 400 });
  const alone = new HttpKV({ endpoints: [hungUrl], requestTimeoutMs: 400 });
  try {
    const t0 = Date.now();
    assert.ok(BigInt(await kv.revision()) > 0n);
    assert.ok(Date.now() - t0 >= 350, 'the hung endpoint was tried first');
    await assert.rejects(alone.revision(), /no answer within 400 ms/);
  } finally {
    kv.close();
    alone.close();
    await new Promise((r) => hung.close(r));
  }
});

test('a write that landed but whose answer was lost is retried on the next endpoint and recognised', async () => {
  const p = prefix();
  const target = new URL(shared.server.endpoint);
  let swallowed = 0;
  // Forwards each request to etcd, then drops the connection instead of passing the answer back.
  await withServer(
    (req, res) => {
      const up = http.request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (upRes) => {
          upRes.resume();
          upRes.on('end', () => {
            swallowed++;
            res.socket?.destroy();
          });
        },
      );
      req.pipe(up);
    },
    async (lossy) => {
      const kv = new HttpKV({ endpoints: [lossy, shared.server.endpoint] });
      const direct = new HttpKV({ endpoints: [shared.server.endpoint] });
      try {
        const rev = await kv.create(`${p}k`, 'mine');
        assert.ok(rev, 'the retry met our own write: success, not "already exists"');
        assert.equal(swallowed, 1, 'the first attempt did reach etcd');
        assert.deepEqual(await direct.get(`${p}k`), {
          key: `${p}k`,
          value: 'mine',
          modRevision: rev,
          createRevision: rev,
        });
        // Someone else's value under the same key is still a conflict.
        assert.equal(await direct.create(`${p}k2`, 'theirs'), (await direct.get(`${p}k2`))!.modRevision);
        const kv2 = new HttpKV({ endpoints: [lossy, shared.server.endpoint] });
        try {
          assert.equal(await kv2.create(`${p}k2`, 'mine'), undefined);
        } finally {
          kv2.close();
        }
      } finally {
        kv.close();
        direct.close();
      }
    },
  );
});

test('an endpoint that is not etcd: EtcdRequestError with the URL and HTTP status', async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
    },
    async (url) => {
      const kv = new HttpKV({ endpoints: [url] });
      try {
        await assert.rejects(kv.get('/x'), (e: Error) => {
          assert.ok(e instanceof EtcdRequestError);
          assert.equal(e.status, 404);
          assert.equal(e.message, `etcd POST ${url}/v3/kv/range: HTTP 404: 404 page not found`);
          return true;
        });
      } finally {
        kv.close();
      }
    },
  );
});

test("etcd's own refusals come back with its message", async () => {
  const kv = new HttpKV({ endpoints: [shared.server.endpoint] });
  try {
    // A guard revision that is not a number: the gateway refuses the request body.
    await assert.rejects(kv.update('/x', 'v', 'not-a-number'), (e: Error) => {
      assert.ok(e instanceof EtcdRequestError, `${e.name}: ${e.message}`);
      assert.equal(e.status, 400);
      assert.match(e.message, new RegExp(`^etcd POST ${shared.server.endpoint}/v3/kv/txn: HTTP 400: .+`));
      return true;
    });
  } finally {
    kv.close();
  }
});

test('a closed store refuses further calls', async () => {
  const kv = new HttpKV({ endpoints: [shared.server.endpoint] });
  await kv.revision();
  kv.close();
  await assert.rejects(kv.revision(), /the datastore was closed/);
});

/** POSTs JSON to etcd's gateway directly (administration in tests, outside the code under test). */
function postJson(endpoint: string, path: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, endpoint), { method: 'POST' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

test('etcd user auth: a token for the right password, refusals that say why, and a stale token renewed', async () => {
  const authed = await EtcdServer.start();
  try {
    for (const [path, body] of [
      ['/v3/auth/role/add', { name: 'root' }],
      ['/v3/auth/user/add', { name: 'root', password: 'pw' }],
      ['/v3/auth/user/grant', { user: 'root', role: 'root' }],
      ['/v3/auth/enable', {}],
    ] as const)
      assert.equal(await postJson(authed.endpoint, path, body), 200, path);
    const cfg = (extra: Record<string, string>) =>
      configFromEnv({ ETCD_ENDPOINTS: authed.endpoint, ...extra }, { prefix: prefix() });
    const anon = Datastore.connect(cfg({}), { transport: 'http' });
    const wrong = Datastore.connect(cfg({ ETCD_USERNAME: 'root', ETCD_PASSWORD: 'nope' }), {
      transport: 'http',
    });
    const good = Datastore.connect(cfg({ ETCD_USERNAME: 'root', ETCD_PASSWORD: 'pw' }), {
      transport: 'http',
    });
    try {
      await assert.rejects(
        anon.kv.get('/x'),
        (e: Error) => e instanceof EtcdRequestError && /user name is empty/.test(e.message),
      );
      await assert.rejects(
        wrong.kv.get('/x'),
        (e: Error) =>
          e instanceof EtcdRequestError &&
          e.message.includes('/v3/auth/authenticate: HTTP 400') &&
          /invalid user ID or password/.test(e.message),
      );
      const rev = await good.kv.create(`${good.prefix}k`, 'v');
      assert.ok(rev);
      // A token etcd no longer knows (expired, or etcd restarted): renewed once, transparently.
      (good.kv as unknown as { token: Promise<string> }).token = Promise.resolve('stale.token.1');
      assert.equal((await good.kv.get(`${good.prefix}k`))?.modRevision, rev);
    } finally {
      anon.close();
      wrong.close();
      good.close();
    }
  } finally {
    await authed.destroy();
  }
});
