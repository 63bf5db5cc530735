// The fake API server against the real @kubernetes/client-node: its typed API calls, its
// informers (list + watch) and its raw Watch, so what the controllers meet here is what they
// meet on a real cluster — including the informer's habit of stopping for good after a
// dropped connection.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { FakeApiServer, waitFor } from '../src/index.js';

const ns = (name: string, labels?: Record<string, string>) => ({
  kind: 'Namespace',
  metadata: { name, ...(labels ? { labels } : {}) },
});
const pod = (
  name: string,
  namespace = 'default',
  labels: Record<string, string> = {},
  nodeName = 'node-1',
) => ({
  kind: 'Pod',
  metadata: { name, namespace, labels },
  spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }] },
});

function client(srv: FakeApiServer): { kc: k8s.KubeConfig; core: k8s.CoreV1Api } {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(srv.kubeconfig());
  return { kc, core: kc.makeApiClient(k8s.CoreV1Api) };
}

/** An informer over all pods that records what it reports. */
function podInformer(srv: FakeApiServer, labelSelector?: string) {
  const { kc, core } = client(srv);
  const inf = k8s.makeInformer(
    kc,
    '/api/v1/pods',
    () => core.listPodForAllNamespaces(labelSelector ? { labelSelector } : {}),
    labelSelector,
  );
  const log: string[] = [];
  const errors: unknown[] = [];
  inf.on('add', (p) => log.push(`add ${p.metadata!.name}`));
  inf.on('update', (p) => log.push(`update ${p.metadata!.name} ${JSON.stringify(p.metadata!.labels ?? {})}`));
  inf.on('delete', (p) => log.push(`delete ${p.metadata!.name}`));
  inf.on('error', (e) => errors.push(e));
  return {
    inf,
    log,
    errors,
    names: () =>
      inf
        .list()
        .map((p) => p.metadata!.name)
        .sort(),
  };
}

/** The informer reports its own stop() as an AbortError; anything else is a real error. */
const realErrors = (errors: unknown[]) => errors.filter((e) => (e as Error).name !== 'AbortError');
const lists = (srv: FakeApiServer) => srv.requests.filter((r) => r.path === '/api/v1/pods' && !r.watch);
const watches = (srv: FakeApiServer) => srv.requests.filter((r) => r.path === '/api/v1/pods' && r.watch);

/** A raw watch over node:http: the lines exactly as the server sent them. */
function rawWatch(
  srv: FakeApiServer,
  query: string,
  ms: number,
): Promise<{
  status: number;
  events: {
    type: string;
    object: { metadata?: { resourceVersion?: string; name?: string }; code?: number; reason?: string };
  }[];
}> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${srv.url}/api/v1/pods?watch=true&${query}`,
      { headers: { authorization: `Bearer ${srv.token}` } },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        // Only complete lines: the connection may be cut in the middle of a (split) event.
        const done = () =>
          resolve({
            status: res.statusCode ?? 0,
            events: text
              .split('\n')
              .slice(0, -1)
              .filter(Boolean)
              .map((l) => JSON.parse(l)),
          });
        res.on('end', done);
        setTimeout(() => {
          req.destroy();
          done();
        }, ms);
      },
    );
    req.on('error', (e) => (e.message.includes('socket hang up') ? undefined : reject(e)));
    req.end();
  });
}

describe('fake API server with the real client-node', () => {
  let srv: FakeApiServer;
  before(async () => {
    srv = await FakeApiServer.start({ splitEvents: true, bookmarkIntervalMs: 100 });
    srv.create(ns('default'));
    srv.create(ns('other'));
  });
  after(() => srv.close());

  test('typed API: create, get, conflict on a stale resourceVersion, merge and JSON patches, delete', async () => {
    const { core } = client(srv);
    const created = await core.createNamespacedPod({ namespace: 'default', body: pod('w1') as k8s.V1Pod });
    assert.ok(created.metadata?.uid, 'the server assigns a uid');
    assert.equal(created.spec?.serviceAccountName, 'default', 'defaulted as the real API server does');
    await assert.rejects(
      core.createNamespacedPod({ namespace: 'default', body: pod('w1') as k8s.V1Pod }),
      (e: k8s.ApiException<string>) => e.code === 409 && /AlreadyExists/.test(e.body),
    );
    const stale = structuredClone(created);
    const merged = await core.patchNamespacedPod(
      { name: 'w1', namespace: 'default', body: { metadata: { labels: { app: 'web' } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    assert.equal(merged.metadata?.labels?.app, 'web');
    assert.notEqual(merged.metadata?.resourceVersion, created.metadata?.resourceVersion);
    await assert.rejects(
      core.replaceNamespacedPod({ name: 'w1', namespace: 'default', body: stale }),
      (e: k8s.ApiException<string>) => e.code === 409 && /the object has been modified/.test(e.body),
    );
    const jp = await core.patchNamespacedPod({
      name: 'w1',
      namespace: 'default',
      body: [{ op: 'add', path: '/metadata/labels/tier', value: 'front' }],
    });
    assert.deepEqual(jp.metadata?.labels, { app: 'web', tier: 'front' });
    assert.equal(
      (await core.readNamespacedPod({ name: 'w1', namespace: 'default' })).metadata?.labels?.tier,
      'front',
    );
    await core.deleteNamespacedPod({ name: 'w1', namespace: 'default' });
    await assert.rejects(
      core.readNamespacedPod({ name: 'w1', namespace: 'default' }),
      (e: k8s.ApiException<string>) => e.code === 404,
    );
  });

  test('a pod in a missing namespace is refused; deleting a namespace deletes what is in it', async () => {
    assert.throws(() => srv.create(pod('x', 'nowhere')), /namespaces "nowhere" not found/);
    srv.create(ns('doomed'));
    srv.create(pod('d1', 'doomed'));
    srv.delete('Namespace', undefined, 'doomed');
    assert.equal(srv.get('Pod', 'doomed', 'd1'), undefined);
  });

  test('requests without the bearer token get 401', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromString(srv.kubeconfig().replace(srv.token, 'wrong'));
    await assert.rejects(
      kc.makeApiClient(k8s.CoreV1Api).listNamespace(),
      (e: k8s.ApiException<string>) => e.code === 401,
    );
  });

  test('an informer lists, then follows the watch (events split across chunks)', async () => {
    srv.create(pod('a1', 'default', { app: 'a' }));
    const { inf, log, names } = podInformer(srv);
    await inf.start();
    assert.deepEqual(names(), ['a1']);
    srv.create(pod('a2', 'other', { app: 'a' }));
    srv.patch('Pod', 'default', 'a1', { metadata: { labels: { app: 'b' } } });
    srv.delete('Pod', 'other', 'a2');
    await waitFor('watch events', () => log.includes('delete a2'), 5000, 20);
    assert.deepEqual(log, ['add a1', 'add a2', 'update a1 {"app":"b"}', 'delete a2']);
    assert.match(
      watches(srv).at(-1)!.query.resourceVersion!,
      /^\d+$/,
      "the watch starts at the list's resourceVersion",
    );
    await inf.stop();
    srv.delete('Pod', 'default', 'a1');
  });

  test('a dropped watch connection stops the informer for good (error, no reconnect); start() resumes from its resourceVersion', async () => {
    const { inf, log, errors, names } = podInformer(srv);
    await inf.start();
    const listed = lists(srv).length;
    const watched = watches(srv).length;
    assert.equal(srv.dropWatches(), 1);
    await waitFor('informer error', () => errors.length > 0, 5000, 20);
    assert.match(String((errors[0] as Error).message), /terminated|premature close|other side closed/i);
    srv.create(pod('late', 'default'));
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(watches(srv).length, watched, 'the informer did not reconnect by itself');
    assert.deepEqual(names(), []);
    await inf.start();
    await waitFor('resumed', () => log.includes('add late'), 5000, 20);
    assert.equal(lists(srv).length, listed, 'resumed from its resourceVersion without a re-list');
    await inf.stop();
    srv.delete('Pod', 'default', 'late');
  });

  test('410 Expired in the watch stream (after compaction) makes the informer re-list, and deletions missed meanwhile are reported', async () => {
    srv.create(pod('keep', 'default'));
    srv.create(pod('gone', 'default'));
    const { inf, log, errors, names } = podInformer(srv);
    await inf.start();
    // A live watch told its resourceVersion expired: re-list, no error.
    let listed = lists(srv).length;
    srv.expireWatches();
    // (stop() during the re-list would leave the library's next watch running: wait for it.)
    await waitFor('re-list', () => lists(srv).length > listed && srv.openWatches === 1, 5000, 20);
    // Stopped, it misses a deletion, and the history is compacted: started again, its watch from
    // the old resourceVersion gets 410, and the re-list reports the deletion.
    await inf.stop();
    srv.delete('Pod', 'default', 'gone');
    srv.compact();
    listed = lists(srv).length;
    await inf.start();
    await waitFor('deletion reported by the re-list', () => log.includes('delete gone'), 5000, 20);
    assert.equal(lists(srv).length, listed + 1);
    assert.deepEqual(names(), ['keep']);
    assert.deepEqual(realErrors(errors), []);
    await inf.stop();
    srv.delete('Pod', 'default', 'keep');
  });

  test('a watch from a compacted resourceVersion gets 200 and one ERROR event with 410 Expired', async () => {
    const old = srv.store.resourceVersion;
    srv.create(pod('c1'));
    srv.compact();
    const r = await rawWatch(srv, `resourceVersion=${old}`, 1000);
    assert.equal(r.status, 200);
    assert.equal(r.events.length, 1);
    assert.equal(r.events[0]!.type, 'ERROR');
    assert.equal(r.events[0]!.object.code, 410);
    assert.equal(r.events[0]!.object.reason, 'Expired');
    srv.delete('Pod', 'default', 'c1');
  });

  test('an HTTP 410 answer to the watch request also makes the informer re-list', async () => {
    const { inf, errors } = podInformer(srv);
    await inf.start();
    const listed = lists(srv).length;
    srv.failNext({ status: 410, watch: true });
    srv.endWatches();
    await waitFor('re-list after 410', () => lists(srv).length > listed && srv.openWatches === 1, 5000, 20);
    assert.deepEqual(realErrors(errors), []);
    await inf.stop();
  });

  test('BOOKMARK events carry the current resourceVersion when the client asks for them', async () => {
    const start = srv.store.resourceVersion;
    srv.create({ kind: 'Node', metadata: { name: 'bm-node' } }); // another kind moves the resourceVersion
    const r = await rawWatch(srv, `resourceVersion=${start}&allowWatchBookmarks=true`, 400);
    const bm = r.events.filter((e) => e.type === 'BOOKMARK');
    assert.ok(bm.length >= 2, `bookmarks: ${JSON.stringify(r.events)}`);
    assert.equal(bm.at(-1)!.object.metadata!.resourceVersion, srv.store.resourceVersion);
    const plain = await rawWatch(srv, `resourceVersion=${start}`, 300);
    assert.equal(plain.events.filter((e) => e.type === 'BOOKMARK').length, 0, 'no bookmarks unless asked');
    // And the client's Watch hands them to its callback.
    const { kc } = client(srv);
    const seen: string[] = [];
    const ctl = await new k8s.Watch(kc).watch(
      '/api/v1/pods',
      { allowWatchBookmarks: true, resourceVersion: srv.store.resourceVersion },
      (phase) => seen.push(phase),
      () => undefined,
    );
    await waitFor('bookmark via client', () => seen.includes('BOOKMARK'), 3000, 20);
    ctl.abort();
    srv.delete('Node', undefined, 'bm-node');
  });

  test('429 (with Retry-After) and 500 answers reach the caller as ApiException', async () => {
    const { core } = client(srv);
    srv.failNext({ status: 429, path: /\/namespaces$/, retryAfterSeconds: 3 });
    await assert.rejects(
      core.listNamespace(),
      (e: k8s.ApiException<string>) => e.code === 429 && e.headers['retry-after'] === '3',
    );
    srv.failNext({ status: 500, method: 'GET' });
    await assert.rejects(core.listNamespace(), (e: k8s.ApiException<string>) => e.code === 500);
    assert.ok((await core.listNamespace()).items.length >= 2, 'served again after the injected failures');
  });

  test('label and field selectors in list and watch; an object leaving the selector is DELETED for that watch', async () => {
    const { core } = client(srv);
    srv.create(pod('s1', 'default', { app: 'web', tier: 'front' }, 'node-1'));
    srv.create(pod('s2', 'default', { app: 'web' }, 'node-2'));
    srv.create(pod('s3', 'other', { app: 'db' }, 'node-1'));
    const names = (l: k8s.V1PodList) => l.items.map((p) => p.metadata!.name).sort();
    assert.deepEqual(names(await core.listPodForAllNamespaces({ labelSelector: 'app=web' })), ['s1', 's2']);
    assert.deepEqual(names(await core.listPodForAllNamespaces({ labelSelector: 'app in (web,db),!tier' })), [
      's2',
      's3',
    ]);
    assert.deepEqual(names(await core.listPodForAllNamespaces({ labelSelector: 'app!=web' })), ['s3']);
    assert.deepEqual(names(await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=node-1' })), [
      's1',
      's3',
    ]);
    assert.deepEqual(
      names(await core.listNamespacedPod({ namespace: 'default', fieldSelector: 'metadata.name!=s1' })),
      ['s2'],
    );
    await assert.rejects(
      core.listPodForAllNamespaces({ fieldSelector: 'spec.bogus=1' }),
      (e: k8s.ApiException<string>) => e.code === 400 && /field label not supported: spec.bogus/.test(e.body),
    );
    const { inf, log } = podInformer(srv, 'app=web');
    await inf.start();
    srv.patch('Pod', 'default', 's2', { metadata: { labels: { app: 'api' } } });
    srv.patch('Pod', 'other', 's3', { metadata: { labels: { app: 'web' } } });
    await waitFor('selector moves', () => log.includes('add s3') && log.includes('delete s2'), 5000, 20);
    assert.deepEqual(
      inf
        .list()
        .map((p) => p.metadata!.name)
        .sort(),
      ['s1', 's3'],
    );
    await inf.stop();
    for (const [n, p] of [
      ['default', 's1'],
      ['default', 's2'],
      ['other', 's3'],
    ])
      srv.delete('Pod', n, p!);
  });

  test('limit and continue page a consistent list; a continue token older than a compaction gets 410', async () => {
    const { core } = client(srv);
    for (let i = 0; i < 5; i++) srv.create(pod(`page-${i}`));
    const first = await core.listNamespacedPod({ namespace: 'default', limit: 2 });
    assert.equal(first.items.length, 2);
    assert.equal(first.metadata?.remainingItemCount, 3);
    srv.create(pod('page-9')); // not in the list that started before it
    const second = await core.listNamespacedPod({
      namespace: 'default',
      limit: 10,
      _continue: first.metadata!._continue!,
    });
    assert.deepEqual(
      second.items.map((p) => p.metadata!.name),
      ['page-2', 'page-3', 'page-4'],
    );
    assert.equal(second.metadata?.resourceVersion, first.metadata?.resourceVersion);
    const again = await core.listNamespacedPod({ namespace: 'default', limit: 2 });
    srv.compact();
    await assert.rejects(
      core.listNamespacedPod({ namespace: 'default', _continue: again.metadata!._continue! }),
      (e: k8s.ApiException<string>) => e.code === 410 && /Expired/.test(e.body),
    );
    for (const p of srv.list('Pod', 'default')) srv.delete('Pod', 'default', p.metadata.name);
  });
});

test('over HTTPS with its own CA and a token, as a kubeconfig written by an installer describes it', async () => {
  const srv = await FakeApiServer.start({ tls: true });
  try {
    srv.create(ns('default'));
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(srv.writeKubeconfig());
    const list = await kc.makeApiClient(k8s.CoreV1Api).listNamespace();
    assert.deepEqual(
      list.items.map((n) => n.metadata!.name),
      ['default'],
    );
    assert.match(srv.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  } finally {
    await srv.close();
  }
});
