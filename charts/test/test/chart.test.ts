// The chart rendered (as `helm template` would) with the default and alternative values, and
// the manifests checked against what the daemons actually accept: their own config parsers
// (compiled packages) read the env the chart gives them.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { configFromEnv as etcdConfigFromEnv, validateResource } from '@tricolor/datastore';
import { parseAllDocuments } from 'yaml';
import {
  CHART,
  ETCD,
  ETCD_PLAIN,
  envNamesIn,
  find,
  type K8sObject,
  ROOT,
  render,
  sourceText,
} from './helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: manifest fragments
type Any = any;

const NODE_IP = '192.168.26.105';
const NODE_NAME = 'node-1';

/** The env a container would see on a node, with ConfigMap and downward-API references resolved. */
function resolveEnv(objs: K8sObject[], c: Any): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    if ('value' in e) env[e.name] = String(e.value);
    else if (e.valueFrom?.configMapKeyRef) {
      const ref = e.valueFrom.configMapKeyRef;
      const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === ref.name);
      assert.ok(cm, `${c.name}: env ${e.name} refers to a ConfigMap ${ref.name} the chart does not create`);
      assert.ok(
        ref.key in (cm.data ?? {}),
        `${c.name}: env ${e.name}: ConfigMap ${ref.name} has no key ${ref.key}`,
      );
      env[e.name] = cm.data![ref.key]!;
    } else if (e.valueFrom?.fieldRef) {
      const path = e.valueFrom.fieldRef.fieldPath;
      const known: Record<string, string> = {
        'spec.nodeName': NODE_NAME,
        'status.hostIP': NODE_IP,
        'metadata.name': 'pod-0',
      };
      assert.ok(path in known, `${c.name}: env ${e.name}: unexpected fieldRef ${path}`);
      env[e.name] = known[path]!;
    } else assert.fail(`${c.name}: env ${e.name} has neither value nor a known valueFrom`);
  }
  return env;
}

function podSpecs(objs: K8sObject[]): { owner: string; spec: Any }[] {
  const out: { owner: string; spec: Any }[] = [];
  for (const o of objs) {
    if (o.kind === 'DaemonSet' || o.kind === 'Deployment' || o.kind === 'Job')
      out.push({ owner: `${o.kind}/${o.metadata.name}`, spec: o.spec.template.spec });
    if (o.kind === 'CronJob')
      out.push({ owner: `${o.kind}/${o.metadata.name}`, spec: o.spec.jobTemplate.spec.template.spec });
  }
  return out;
}

/** The daemons' own compiled config code; missing means the build is broken (npm test builds first). */
async function importBuilt(rel: string): Promise<Any> {
  const file = join(ROOT, rel);
  if (!existsSync(file))
    assert.fail(`${rel} is not built: run npm run build (npm test does) — the chart is checked against it`);
  return import(pathToFileURL(file).href);
}

const felixSource = sourceText('felix');
const birdSource = sourceText('bird');
const datastoreEnv = envNamesIn(sourceText('datastore'));

/** Checks every scenario shares. */
async function commonChecks(objs: K8sObject[], values: Any) {
  // Every object is well formed and names are unique per kind.
  const seen = new Set<string>();
  for (const o of objs) {
    assert.ok(
      o.apiVersion && o.kind && o.metadata?.name,
      `malformed object ${JSON.stringify(o).slice(0, 120)}`,
    );
    const key = `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    assert.ok(!seen.has(key), `duplicate ${key}`);
    seen.add(key);
    assert.ok(o.metadata.name.length <= 63 || o.kind === 'ConfigMap', `${key}: name longer than 63`);
  }

  // Every container of every pod: resource requests (cpu + memory); long-running ones: probes.
  for (const { owner, spec } of podSpecs(objs)) {
    const longRunning = owner.startsWith('DaemonSet/') || owner.startsWith('Deployment/');
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      assert.ok(
        c.resources?.requests?.cpu && c.resources?.requests?.memory,
        `${owner} ${c.name}: no cpu/memory requests`,
      );
      const isInit = (spec.initContainers ?? []).includes(c);
      if (longRunning && !isInit) {
        assert.ok(c.livenessProbe, `${owner} ${c.name}: no livenessProbe`);
        assert.ok(c.readinessProbe, `${owner} ${c.name}: no readinessProbe`);
      }
      // Mounts refer to declared volumes.
      const vols = new Set((spec.volumes ?? []).map((v: Any) => v.name));
      for (const m of c.volumeMounts ?? [])
        assert.ok(vols.has(m.name), `${owner} ${c.name}: mount of undeclared volume ${m.name}`);
      // The etcd settings every component reads are accepted by @tricolor/datastore.
      const env = resolveEnv(objs, c);
      if (env.ETCD_ENDPOINTS !== undefined) {
        const cfg = etcdConfigFromEnv(env);
        assert.deepEqual(cfg.endpoints, values.etcd.endpoints);
        // TLS on (the default): every etcd client gets the CA and its client certificate; off: none.
        const tlsVars = ['ETCD_CA_CERT_FILE', 'ETCD_CERT_FILE', 'ETCD_KEY_FILE'].filter((k) => env[k]);
        assert.equal(
          tlsVars.length,
          values.etcd.tls.enabled ? 3 : 0,
          `${owner} ${c.name}: etcd TLS variables ${tlsVars.join(', ') || '(none)'} with tls.enabled=${values.etcd.tls.enabled}`,
        );
        for (const k of ['ETCD_CA_CERT_FILE', 'ETCD_CERT_FILE', 'ETCD_KEY_FILE']) {
          if (!env[k]) continue;
          const mount = (c.volumeMounts ?? []).find((m: Any) => env[k]!.startsWith(`${m.mountPath}/`));
          assert.ok(mount, `${owner} ${c.name}: ${k}=${env[k]} is not under a mounted volume`);
          const vol = spec.volumes.find((v: Any) => v.name === mount.name);
          assert.equal(vol.secret?.secretName, values.etcd.tls.secretName);
        }
      }
      for (const name of Object.keys(env).filter(
        (n) => n.startsWith('ETCD_') || n.startsWith('TRICOLOR_DATASTORE'),
      ))
        assert.ok(datastoreEnv.has(name), `${owner} ${c.name}: ${name} is not read by @tricolor/datastore`);
    }
  }

  const ds = find(objs, 'DaemonSet', '-node');
  assert.ok(ds, 'no node DaemonSet');
  const pod = ds.spec.template.spec;
  assert.equal(pod.hostNetwork, true);
  assert.equal(pod.priorityClassName, 'system-node-critical');
  assert.deepEqual(pod.tolerations, [{ operator: 'Exists' }], 'must tolerate every taint');
  assert.equal(ds.spec.updateStrategy.type, 'RollingUpdate');
  assert.equal(ds.spec.updateStrategy.rollingUpdate.maxUnavailable, 1);
  for (const [k, v] of Object.entries(ds.spec.selector.matchLabels))
    assert.equal(ds.spec.template.metadata.labels[k], v, `pod template lacks selector label ${k}`);
  const sa = pod.serviceAccountName;
  assert.ok(find(objs, 'ServiceAccount', sa), `service account ${sa} not created`);
  // The node pod's token only reads what the CNI plugin GETs: its pod and the pod's namespace.
  const role = objs.find((o) => o.kind === 'ClusterRole' && !o.metadata.name.endsWith('-kube-controllers'));
  assert.ok(role);
  assert.deepEqual((role as Any).rules, [
    { apiGroups: [''], resources: ['pods', 'namespaces'], verbs: ['get'] },
  ]);
  const hostPaths = Object.fromEntries(
    pod.volumes.filter((v: Any) => v.hostPath).map((v: Any) => [v.name, v.hostPath.path]),
  );
  for (const p of ['/run/xtables.lock', '/lib/modules', '/var/run/tricolor'])
    assert.ok(Object.values(hostPaths).includes(p), `host path ${p} not mounted`);

  // The process layout: felix and bird containers, or one container running tricolor-node
  // whose env, ports and probes the checks below read as felix's and bird's.
  const oneProcess = values.nodeProcess.layout === 'one-process';
  const nodeContainer = pod.containers.find((c: Any) => c.name === 'node');
  assert.equal(Boolean(nodeContainer), oneProcess, 'a node container exactly in the one-process layout');
  assert.deepEqual(
    pod.containers.map((c: Any) => c.name),
    oneProcess ? ['node'] : values.bird.enabled ? ['felix', 'bird'] : ['felix'],
  );
  const felixNames = envNamesIn(felixSource);
  const birdNames = envNamesIn(birdSource);
  if (nodeContainer) {
    assert.deepEqual(nodeContainer.command, ['tricolor-node']);
    assert.deepEqual(nodeContainer.resources, values.nodeProcess.resources);
    // tricolor-node's own reading of every daemon's variables accepts the env as a whole.
    const nodeConfig = await importBuilt('packages/node/dist/src/config.js');
    const cfg = nodeConfig.nodeConfigFromEnv(resolveEnv(objs, nodeContainer));
    assert.equal(cfg.felix.static.healthPort, values.felix.healthPort);
    assert.equal(cfg.bird.health.port, values.bird.healthPort);
    assert.equal(cfg.bird.controlPath, '/var/run/tricolor/bird.ctl', 'where tricolor-birdc looks');
  }

  // felix: the env is what felix's own parser accepts; probes and ports match what it binds.
  const felix = nodeContainer ?? pod.containers.find((c: Any) => c.name === 'felix');
  assert.ok(felix, 'no felix container');
  if (!oneProcess) assert.deepEqual(felix.command, ['tricolor-felix']);
  assert.equal(felix.securityContext.privileged, true);
  const felixEnv = resolveEnv(objs, felix);
  for (const name of Object.keys(felixEnv))
    assert.ok(
      felixNames.has(name) || datastoreEnv.has(name) || (oneProcess && birdNames.has(name)),
      `felix does not read ${name}`,
    );
  // felix writes the node name where the CNI plugin looks when its conflist has none: on the host.
  const cniNode = await importBuilt('packages/cni/dist/src/node.js');
  if (cniNode) {
    assert.equal(felixEnv.TRICOLOR_NODENAME_FILE, cniNode.DEFAULT_NODENAME_FILE);
    const m = felix.volumeMounts.find((v: Any) =>
      felixEnv.TRICOLOR_NODENAME_FILE!.startsWith(`${v.mountPath}/`),
    );
    assert.ok(m, 'the node name file is not on a mounted volume');
    assert.equal(hostPaths[m.name], m.mountPath, 'the node name file must land on the host at the same path');
  }
  const felixConfig = await importBuilt('packages/felix/dist/src/config.js');
  if (felixConfig) {
    const { static: st } = felixConfig.configFromEnv(felixEnv);
    assert.equal(st.nodeName, NODE_NAME);
    assert.equal(st.ip, values.node.ip);
    assert.equal(st.healthPort, felix.livenessProbe.httpGet.port);
    assert.equal(st.healthPort, felix.readinessProbe.httpGet.port);
    assert.equal(felix.livenessProbe.httpGet.path, '/liveness');
    assert.equal(felix.readinessProbe.httpGet.path, '/readiness');
    assert.equal(felix.livenessProbe.httpGet.host ?? '0.0.0.0', st.healthHost);
    assert.equal(
      st.metricsHost,
      values.metrics.bindAddress === 'hostIP' ? NODE_IP : values.metrics.bindAddress,
    );
    if (values.metrics.enabled)
      assert.equal(st.metricsPort, felix.ports.find((p: Any) => p.name === 'felix-metrics').containerPort);
  }

  // bird (when enabled): the same against bird's parser (etcd mode: no flags).
  const bird = nodeContainer ?? pod.containers.find((c: Any) => c.name === 'bird');
  assert.equal(Boolean(bird), values.bird.enabled);
  if (bird) {
    if (!oneProcess) assert.deepEqual(bird.command, ['tricolor-bird']);
    const birdEnv = resolveEnv(objs, bird);
    for (const name of Object.keys(birdEnv))
      assert.ok(
        birdNames.has(name) || datastoreEnv.has(name) || (oneProcess && felixNames.has(name)),
        `bird does not read ${name}`,
      );
    const birdCli = await importBuilt('packages/bird/dist/src/config/cli.js');
    if (birdCli) {
      const parsed = birdCli.parseArgs([], birdEnv);
      assert.equal(parsed.standalone, false, 'bird must run in etcd mode');
      // One process: the container's probes are felix's (checked above); bird's readiness is
      // asked by the CNI plugin's STATUS (checked below).
      if (!oneProcess) {
        assert.equal(parsed.config.health.port, bird.livenessProbe.httpGet.port);
        assert.equal(parsed.config.health.port, bird.readinessProbe.httpGet.port);
        assert.equal(bird.livenessProbe.httpGet.host ?? '0.0.0.0', parsed.config.health.host);
      }
      assert.equal(parsed.config.logLevel, values.bird.logSeverity);
      if (values.metrics.enabled) {
        assert.equal(
          parsed.config.metrics.port,
          bird.ports.find((p: Any) => p.name === 'bird-metrics').containerPort,
        );
        assert.equal(
          parsed.config.metrics.host,
          values.metrics.bindAddress === 'hostIP' ? NODE_IP : values.metrics.bindAddress,
        );
      }
    }
  }

  // The CNI installer.
  const init = (pod.initContainers ?? []).find((c: Any) => c.name === 'install-cni');
  assert.equal(Boolean(init), values.cni.enabled);
  if (init) {
    assert.deepEqual(init.command, ['tricolor-install-cni']);
    const env = resolveEnv(objs, init);
    const script = readFileSync(join(ROOT, 'images', 'node', 'install-cni.sh'), 'utf8');
    const cniNames = envNamesIn(sourceText('cni'));
    for (const name of Object.keys(env))
      assert.ok(
        script.includes(`\${${name}`) || cniNames.has(name) || datastoreEnv.has(name),
        `install-cni: nothing reads ${name}`,
      );
    assert.equal(env.NODENAME, NODE_NAME);
    assert.equal(env.CNI_BIN_DIR, values.cni.binDir);
    assert.equal(env.CNI_CONF_DIR, values.cni.confDir);
    assert.equal(env.CNI_READ_KUBERNETES, String(values.cni.readKubernetes));
    assert.equal(env.CNI_PORTMAP, String(values.cni.portmap));
    // STATUS asks the agents the chart runs, where they listen.
    const urls = env.CNI_HEALTH_URLS!.split(',');
    const host = (h: string) => (h === '0.0.0.0' ? '127.0.0.1' : h);
    assert.equal(urls[0], `http://${host(values.felix.healthHost)}:${values.felix.healthPort}/readiness`);
    assert.equal(urls.length, values.bird.enabled ? 2 : 1);
    if (values.bird.enabled)
      assert.equal(urls[1], `http://${host(values.bird.healthHost)}:${values.bird.healthPort}/readiness`);
    const mounts = Object.fromEntries(init.volumeMounts.map((m: Any) => [m.mountPath, hostPaths[m.name]]));
    assert.equal(mounts[`/host${values.cni.binDir}`], values.cni.binDir);
    assert.equal(mounts[`/host${values.cni.confDir}`], values.cni.confDir);
    assert.equal(mounts[`/host${values.cni.hostAppDir}`], values.cni.hostAppDir);
  }

  // Metrics: Services (and monitors) point at the ports the containers declare.
  const services = objs.filter((o) => o.kind === 'Service');
  if (values.metrics.enabled) {
    for (const [name, c] of [
      ['felix', felix],
      ['bird', bird],
    ] as const) {
      if (!c) continue;
      const svc = services.find((s) => s.metadata.name.endsWith(`-${name}-metrics`));
      assert.ok(svc, `no ${name} metrics Service`);
      const port = c.ports.find((p: Any) => p.name === `${name}-metrics`).containerPort;
      assert.equal(svc.spec.ports[0].port, port);
      assert.equal(svc.spec.ports[0].targetPort, `${name}-metrics`);
      assert.equal(svc.spec.clusterIP, 'None');
      for (const [k, v] of Object.entries(svc.spec.selector))
        assert.equal(ds.spec.template.metadata.labels[k], v);
      if (values.metrics.annotations) {
        assert.equal(svc.metadata.annotations?.['prometheus.io/scrape'], 'true');
        assert.equal(svc.metadata.annotations?.['prometheus.io/port'], String(port));
      }
    }
  } else assert.equal(services.length, 0);
  for (const kind of ['ServiceMonitor', 'PodMonitor']) {
    const m = find(objs, kind);
    const want =
      values.metrics.enabled &&
      values.metrics[kind === 'ServiceMonitor' ? 'serviceMonitor' : 'podMonitor'].enabled;
    assert.equal(Boolean(m), want, `${kind} presence`);
    if (m) {
      const eps = kind === 'ServiceMonitor' ? m.spec.endpoints : m.spec.podMetricsEndpoints;
      assert.deepEqual(
        eps.map((e: Any) => e.port),
        values.bird.enabled ? ['felix-metrics', 'bird-metrics'] : ['felix-metrics'],
      );
    }
  }

  // Initial resources: every document is a resource @tricolor/datastore accepts, as tricolorctl apply would.
  const cm = find(objs, 'ConfigMap', '-initial-resources');
  const job = objs.find((o) => o.kind === 'Job' && o.metadata.name.endsWith('-initial-resources'));
  assert.equal(Boolean(cm), values.initialResources.enabled);
  assert.equal(Boolean(job), values.initialResources.enabled);
  if (cm && job) {
    const docs = parseAllDocuments(cm.data!['resources.yaml']!).map((d) => validateResource(d.toJS()));
    const pool = docs.find((d) => d.kind === 'IPPool') as Any;
    assert.equal(pool.spec.cidr, values.ipPool.cidr);
    assert.equal(pool.spec.blockSize, values.ipPool.blockSize);
    assert.equal(pool.spec.natOutgoing, values.ipPool.natOutgoing);
    assert.equal(pool.spec.ipipMode, values.ipPool.ipipMode);
    assert.equal(pool.spec.vxlanMode, values.ipPool.vxlanMode);
    const bgp = docs.find((d) => d.kind === 'BGPConfiguration') as Any;
    assert.equal(bgp.metadata.name, 'default');
    assert.equal(bgp.spec.asNumber, values.bgp.asNumber);
    assert.equal(bgp.spec.nodeToNodeMeshEnabled, values.bgp.mode === 'mesh');
    const peer = docs.find((d) => d.kind === 'BGPPeer') as Any;
    assert.equal(Boolean(peer), values.bgp.mode === 'routeReflector');
    if (peer) assert.equal(peer.spec.peerSelector, values.bgp.routeReflector.peerSelector);
    const hooks = job.metadata.annotations!['helm.sh/hook']!.split(',');
    assert.ok(hooks.includes('post-install'));
    assert.equal(hooks.includes('post-upgrade'), values.initialResources.applyOnUpgrade);
    const jpod = job.spec.template.spec;
    assert.equal(jpod.hostNetwork, true, 'the pool must be created before any pod network exists');
    const c = jpod.containers[0];
    assert.deepEqual(c.command.slice(0, 3), ['tricolorctl', 'apply', '-f']);
    const mount = c.volumeMounts.find((m: Any) => c.command[3].startsWith(`${m.mountPath}/`));
    const vol = jpod.volumes.find((v: Any) => v.name === mount.name);
    assert.equal(vol.configMap.name, cm.metadata.name);
    assert.equal(c.command[3].slice(mount.mountPath.length + 1), 'resources.yaml');
  }

  // felix and bird: a preStop and the runtime's default seccomp profile.
  for (const c of pod.containers) {
    assert.ok(c.lifecycle?.preStop?.exec?.command, `${c.name}: no preStop`);
    assert.equal(c.securityContext.seccompProfile?.type, 'RuntimeDefault', `${c.name}: seccomp`);
  }

  // tricolor-kube-controllers: its env is what its own parser accepts, its RBAC only what it calls.
  const kc = find(objs, 'Deployment', '-kube-controllers');
  const kcValues = values.controllers.kubeControllers;
  assert.equal(Boolean(kc), kcValues.enabled);
  if (kc) {
    const kpod = kc.spec.template.spec;
    const c = kpod.containers[0];
    assert.deepEqual(c.command, ['tricolor-kube-controllers']);
    assert.equal(kc.spec.replicas, 1);
    assert.equal(kpod.hostNetwork, true);
    assert.equal(kpod.securityContext.seccompProfile.type, 'RuntimeDefault');
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    const env = resolveEnv(objs, c);
    const kcNames = envNamesIn(sourceText('kube-controllers'));
    for (const name of Object.keys(env))
      assert.ok(kcNames.has(name) || datastoreEnv.has(name), `kube-controllers does not read ${name}`);
    const { configFromEnv } = await importBuilt('packages/kube-controllers/dist/src/config.js');
    const cfg = configFromEnv(env);
    assert.deepEqual(cfg.enabled, kcValues.controllers);
    assert.equal(cfg.healthPort, c.livenessProbe.httpGet.port);
    assert.equal(cfg.healthPort, c.readinessProbe.httpGet.port);
    assert.equal(c.livenessProbe.httpGet.host, cfg.healthHost);
    assert.equal(cfg.gcGraceMs, kcValues.gcGraceSeconds * 1000);
    assert.equal(cfg.identity, 'pod-0');
    assert.equal(
      cfg.metricsHost,
      values.metrics.bindAddress === 'hostIP' ? NODE_IP : values.metrics.bindAddress,
    );
    assert.deepEqual(cfg.lease, { namespace: 'kube-system', name: kc.metadata.name });
    assert.equal(kpod.serviceAccountName, kc.metadata.name);
    const crole = objs.find((o) => o.kind === 'ClusterRole' && o.metadata.name === kc.metadata.name) as Any;
    const want: string[] = [];
    if (kcValues.controllers.some((x: string) => x === 'workloadendpoint' || x === 'ipamgc'))
      want.push('pods');
    if (kcValues.controllers.includes('namespace')) want.push('namespaces');
    if (kcValues.controllers.includes('serviceaccount')) want.push('serviceaccounts');
    if (kcValues.controllers.includes('node')) want.push('nodes');
    const wantRules: Any[] = [{ apiGroups: [''], resources: want, verbs: ['list', 'watch'] }];
    if (kcValues.controllers.includes('policy'))
      wantRules.push({
        apiGroups: ['networking.k8s.io'],
        resources: ['networkpolicies'],
        verbs: ['list', 'watch'],
      });
    assert.deepEqual(crole.rules, wantRules);
    const lrole = objs.find((o) => o.kind === 'Role' && o.metadata.name === kc.metadata.name) as Any;
    assert.deepEqual(lrole.rules, [
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        resourceNames: [cfg.lease.name],
        verbs: ['get', 'update'],
      },
    ]);
  }

  const gc = find(objs, 'CronJob', '-ipam-gc');
  assert.equal(Boolean(gc), values.controllers.ipamGC.enabled);
  if (gc) {
    assert.deepEqual(gc.spec.jobTemplate.spec.template.spec.containers[0].command, [
      'tricolorctl',
      'ipam',
      'check',
      '--repair',
    ]);
    assert.equal(gc.spec.concurrencyPolicy, 'Forbid');
  }
}

const DEFAULTS: Any = (() => {
  const r = render([ETCD]);
  return r;
})();

const scenarios: [string, object][] = [
  ['default values (+ etcd endpoints): TLS with the client certificate of Secret tricolor-etcd', {}],
  [
    'etcd over TLS from another Secret, several members',
    {
      etcd: {
        endpoints: ['https://10.0.0.1:2379', 'https://10.0.0.2:2379', 'https://10.0.0.3:2379'],
        tls: { secretName: 'tricolor-etcd-client' },
      },
    },
  ],
  ['plain http etcd, TLS switched off explicitly', ETCD_PLAIN],
  [
    'VXLAN only, no BGP speaker',
    { ipPool: { vxlanMode: 'Always', natOutgoing: false }, bird: { enabled: false } },
  ],
  [
    'route reflectors, IPIP CrossSubnet, AS 65001, re-applied on upgrade',
    {
      bgp: { mode: 'routeReflector', asNumber: 65001 },
      ipPool: { ipipMode: 'CrossSubnet', cidr: '172.16.0.0/16', blockSize: 24 },
      initialResources: { applyOnUpgrade: true },
    },
  ],
  [
    'monitors, other ports, metrics on every interface, health on the node IP',
    {
      metrics: { bindAddress: '0.0.0.0', serviceMonitor: { enabled: true }, podMonitor: { enabled: true } },
      felix: { metricsPort: 19091, healthPort: 19099, healthHost: '0.0.0.0' },
      bird: { metricsPort: 19092, healthPort: 19098, logSeverity: 'debug' },
    },
  ],
  [
    'no CNI install, no controllers, no metrics, no initial resources',
    {
      cni: { enabled: false },
      controllers: { ipamGC: { enabled: false }, kubeControllers: { enabled: false } },
      metrics: { enabled: false },
      initialResources: { enabled: false },
      grafana: { dashboard: { enabled: false } },
    },
  ],
  ['one process per node: felix and bird in tricolor-node', { nodeProcess: { layout: 'one-process' } }],
  [
    'one process per node, monitors, other ports, BGP password Secrets',
    {
      nodeProcess: { layout: 'one-process' },
      metrics: { bindAddress: '0.0.0.0', serviceMonitor: { enabled: true }, podMonitor: { enabled: true } },
      felix: { metricsPort: 19091, healthPort: 19099, extraEnv: [{ name: 'FELIX_DEBOUNCEMS', value: '20' }] },
      bird: { metricsPort: 19092, healthPort: 19098, passwordSecrets: ['bgp-peer-passwords'] },
    },
  ],
  [
    'k3s-style CNI dirs and a fixed node IP',
    {
      cni: {
        binDir: '/var/lib/rancher/k3s/data/current/bin',
        confDir: '/var/lib/rancher/k3s/agent/etc/cni/net.d',
      },
      node: { ip: '192.168.26.105/24' },
    },
  ],
];

describe('rendered chart', () => {
  test('renders with the defaults', () => {
    assert.equal(DEFAULTS.ok, true, DEFAULTS.stderr);
    const kinds = DEFAULTS.objects.map((o: K8sObject) => o.kind).sort();
    assert.deepEqual(kinds, [
      'ClusterRole',
      'ClusterRole',
      'ClusterRoleBinding',
      'ClusterRoleBinding',
      'ConfigMap',
      'ConfigMap',
      'ConfigMap',
      'CronJob',
      'DaemonSet',
      'Deployment',
      'Job',
      'Role',
      'RoleBinding',
      'Service',
      'Service',
      'ServiceAccount',
      'ServiceAccount',
    ]);
  });

  for (const [name, override] of scenarios) {
    test(name, async () => {
      const r = render([ETCD, override]);
      assert.equal(r.ok, true, r.stderr);
      const { chartDefaults, merge } = await import('./helpers.js');
      const values = merge(merge(chartDefaults(), ETCD), override);
      await commonChecks(r.objects, values);
    });
  }

  test('the config checksum changes when the shared config does', () => {
    const a = find(render([ETCD]).objects, 'DaemonSet')!;
    const b = find(render([ETCD, { etcd: { prefix: '/other/' } }]).objects, 'DaemonSet')!;
    assert.notEqual(
      a.spec.template.metadata.annotations['checksum/config'],
      b.spec.template.metadata.annotations['checksum/config'],
    );
  });

  const failures: [string, object, RegExp][] = [
    [
      'mixed http and https endpoints',
      { etcd: { endpoints: ['http://10.0.0.1:2379', 'https://10.0.0.2:2379'] } },
      /etcd\.endpoints: mixes http and https endpoints/,
    ],
    [
      'http endpoints while TLS is on (the default)',
      { etcd: { endpoints: ['http://10.0.0.1:2379'] } },
      /etcd\.endpoints use http but etcd\.tls\.enabled is true \(the default\): give https endpoints and a client certificate Secret/,
    ],
    [
      'TLS without a Secret',
      { etcd: { tls: { secretName: '' } } },
      /etcd\.tls\.secretName is empty but etcd\.tls\.enabled is true/,
    ],
    [
      'two daemons on one port',
      { bird: { metricsPort: 9099 } },
      /felix\.healthPort and bird\.metricsPort are both 9099/,
    ],
    [
      'blocks larger than the pool',
      { ipPool: { cidr: '10.0.0.0/28' } },
      /ipPool\.blockSize \/26 is larger than the pool 10\.0\.0\.0\/28 itself/,
    ],
    [
      'one process per node without bird',
      { nodeProcess: { layout: 'one-process' }, bird: { enabled: false } },
      /nodeProcess\.layout one-process runs bird \(tricolor-node\): it needs bird\.enabled/,
    ],
    [
      'no service account name when not created',
      { serviceAccount: { create: false } },
      /serviceAccount\.name is required when serviceAccount\.create is false/,
    ],
  ];
  for (const [name, override, message] of failures) {
    test(`refuses ${name} with a message naming the values`, () => {
      const r = render([ETCD, override]);
      assert.equal(r.ok, false, 'must not render');
      assert.match(r.stderr, /^Error: execution error at \(tricolor\/templates\/[a-z-]+\.yaml:\d+:\d+\): /);
      assert.match(r.stderr, message);
    });
  }

  test('--set overrides work like helm --set', () => {
    const r = render(
      [],
      ['etcd.endpoints={https://10.0.0.9:2379}', 'bgp.asNumber=65010', 'bird.enabled=false'],
    );
    assert.equal(r.ok, true, r.stderr);
    const cm = find(r.objects, 'ConfigMap', '-config')!;
    assert.equal(cm.data!.etcd_endpoints, 'https://10.0.0.9:2379');
    assert.match(
      find(r.objects, 'ConfigMap', '-initial-resources')!.data!['resources.yaml']!,
      /asNumber: 65010/,
    );
    assert.equal(find(r.objects, 'DaemonSet')!.spec.template.spec.containers.length, 1);
  });
});

test('helm lint passes with the default values', async () => {
  const { tool, helmEnv } = await import('./helpers.js');
  const { spawnSync } = await import('node:child_process');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'tricolor-lint-'));
  try {
    const r = spawnSync(
      tool('helm'),
      ['lint', CHART, '--strict', '--set', 'etcd.endpoints={https://10.0.0.1:2379}'],
      {
        encoding: 'utf8',
        env: helmEnv(dir),
      },
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('grafana dashboard', () => {
  const dashboardFile = JSON.parse(readFileSync(join(CHART, 'dashboards', 'tricolor.json'), 'utf8'));

  test('ships in a ConfigMap labelled for the Grafana sidecar, identical to the chart file', () => {
    const cm = find(DEFAULTS.objects, 'ConfigMap', '-grafana-dashboard')!;
    assert.equal(cm.metadata.labels!.grafana_dashboard, '1');
    assert.deepEqual(JSON.parse(cm.data!['tricolor.json']!), dashboardFile);
  });

  /** Every panel, rows' own panels included, with its targets' expressions. */
  const panels: { title: string; type: string; exprs: string[] }[] = dashboardFile.panels.flatMap((p: Any) =>
    [p, ...(p.panels ?? [])].map((x: Any) => ({
      title: x.title,
      type: x.type,
      exprs: (x.targets ?? []).map((t: Any) => t.expr as string),
    })),
  );
  const exprs = panels.flatMap((p) => p.exprs);

  test('rows for the overview, policy, BGP, the dataplane, errors, iptables, ipsets and the processes; every panel queries', () => {
    const rows = panels.filter((p) => p.type === 'row').map((p) => p.title);
    for (const r of [
      /^Overview$/,
      /^Policy$/,
      /^BGP/,
      /^Felix dataplane$/,
      /^Errors$/,
      /^iptables$/,
      /^ipsets$/,
      /^Process/,
    ])
      assert.ok(
        rows.some((t) => r.test(t)),
        `no row ${r} in ${rows.join(', ')}`,
      );
    for (const p of panels.filter((x) => x.type !== 'row'))
      assert.ok(p.exprs.length > 0 && p.exprs.every((e) => e.trim()), `panel ${p.title} has no query`);
    assert.match(panels.map((p) => p.title).join(' | '), /Convergence latency/);
    // The node selector: the label the chart's monitors put on every target.
    const nodeVar = dashboardFile.templating.list.find((v: Any) => v.name === 'node');
    assert.equal(nodeVar.definition, 'label_values(felix_active_local_endpoints, node)');
    for (const e of exprs) assert.doesNotMatch(e, /\$instance\b/, 'series are selected by node');
    assert.match(readFileSync(join(CHART, 'templates', 'monitors.yaml'), 'utf8'), /targetLabel: node/);
  });

  test("charts BGP, routes, IPAM, apply time, convergence, errors, iptables, ipsets and processes with the daemons' metric names and types", async () => {
    const all = exprs.join('\n');
    for (const m of [
      'felix_active_local_endpoints',
      'felix_active_local_policies',
      'felix_active_local_selectors',
      'felix_cluster_num_policies',
      'felix_cluster_num_profiles',
      'felix_ipsets_total',
      'felix_int_dataplane_apply_duration_seconds_bucket',
      'felix_int_dataplane_apply_time_seconds',
      'felix_iptables_restore_calls',
      'felix_iptables_restore_errors',
      'felix_iptables_save_errors',
      'felix_iptables_lines_executed',
      'felix_iptables_rules',
      'felix_ipset_errors',
      'felix_ipset_calls',
      'felix_ipsets_calico',
      'felix_int_dataplane_failures',
      'felix_log_errors',
      'felix_route_table_num_routes',
      'felix_resyncs_started',
      'bgp_session_state',
      'bgp_routes_accepted',
      'bgp_routes_installed',
      'bgp_received_update_total',
      'bgp_sent_keepalive_total',
      'bird_protocol_up',
      'bird_protocol_uptime',
      'bird_protocol_prefix_export_count',
      'ipam_allocations_in_use',
      'ipam_blocks',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_gc_duration_seconds_count',
    ])
      assert.ok(all.includes(m), `no panel uses ${m}`);
    // Every name is served by felix or bird (the process metrics by both), with the type the
    // query needs: read from their registries, so a rename or a type change breaks this test.
    const { FelixMetrics } = await importBuilt('packages/felix/dist/src/metrics.js');
    const { Metrics: BirdMetrics } = await importBuilt('packages/bird/dist/src/metrics.js');
    const types = new Map<string, string>();
    for (const registry of [new FelixMetrics().registry, (await BirdMetrics.load(() => [])).registry])
      for (const m of await registry.getMetricsAsJSON()) types.set(m.name as string, m.type as string);
    for (const e of exprs)
      for (const m of e.matchAll(/\b((?:felix|ipam|bgp|bird|process|nodejs)_[a-z0-9_]+)(\{[^}]*\})?/g)) {
        const series = m[1]!;
        const suffix = /_(bucket|sum|count)$/.exec(series)?.[1];
        const base = types.has(series) ? series : series.replace(/_(bucket|sum|count)$/, '');
        const type = types.get(base);
        assert.ok(type, `${series} is not a metric of felix or bird`);
        if (suffix === 'bucket') assert.equal(type, 'histogram', `${series}: ${base} is a ${type}`);
        if (suffix && base !== series)
          assert.ok(type === 'histogram' || type === 'summary', `${series}: ${base} is a ${type}`);
        if (m[2]?.includes('quantile='))
          assert.equal(type, 'summary', `${series}{quantile}: ${base} is a ${type}`);
      }
  });
});

describe('CNI installer script', () => {
  test('passes only flags tricolor-cni install accepts', () => {
    const script = readFileSync(join(ROOT, 'images', 'node', 'install-cni.sh'), 'utf8');
    const call = script.slice(script.indexOf('exec tricolor-cni install'));
    const flags = [...call.matchAll(/(--[a-z-]+)/g)].map((m) => m[1]!);
    assert.deepEqual(flags, ['--bin-dir', '--conf-dir', '--node-binary', '--plugin-main']);
    const optional = [...script.matchAll(/set -- "\$@" (--[a-z-]+)(?: "[^"]*")?(?: (--[a-z-]+))?/g)].flatMap(
      (m) => [m[1], m[2]].filter((f): f is string => Boolean(f)),
    );
    assert.deepEqual(optional, [
      '--write-kubeconfig',
      '--host-conf-dir',
      '--health-urls',
      '--portmap',
      '--log-file',
    ]);
    flags.push(...optional);
    const install = sourceText('cni');
    for (const f of flags) assert.ok(install.includes(`'${f.slice(2)}'`), `tricolor-cni install has no ${f}`);
  });
});

describe('e2e/kind', () => {
  const kindDir = join(ROOT, 'e2e', 'kind');
  const parseFile = (f: string) =>
    parseAllDocuments(readFileSync(join(kindDir, f), 'utf8')).map((d) => d.toJS());

  test("kind disables its CNI and uses the chart's default pool as podSubnet", async () => {
    const [cfg] = parseFile('kind-config.yaml');
    const { chartDefaults } = await import('./helpers.js');
    assert.equal(cfg.networking.disableDefaultCNI, true);
    assert.equal(cfg.networking.podSubnet, (chartDefaults() as Any).ipPool.cidr);
  });

  test('the kind values render, and point at the etcd of etcd.yaml', () => {
    const values = parseFile('values.yaml')[0];
    const r = render([values]);
    assert.equal(r.ok, true, r.stderr);
    const svc = parseFile('etcd.yaml').find((o: Any) => o.kind === 'Service');
    assert.deepEqual(values.etcd.endpoints, [`http://${svc.spec.clusterIP}:${svc.spec.ports[0].port}`]);
    const sts = parseFile('etcd.yaml').find((o: Any) => o.kind === 'StatefulSet');
    assert.equal(sts.spec.template.spec.hostNetwork, true, 'etcd must run before any pod network exists');
  });
});

test("BGP passwords: the mesh password's Secret and bird.passwordSecrets mounted where bird reads secretKeyRefs", () => {
  const r = render([
    ETCD,
    {
      bgp: { nodeMeshPassword: { secretKeyRef: { name: 'bgp-passwords', key: 'mesh' } } },
      bird: { passwordSecrets: ['tor-passwords', 'bgp-passwords'] },
    },
  ]);
  assert.equal(r.ok, true, r.stderr);
  const docs = parseAllDocuments(
    find(r.objects, 'ConfigMap', '-initial-resources')!.data!['resources.yaml']!,
  );
  const bgpCfg = validateResource(docs.map((d) => d.toJS()).find((o: Any) => o.kind === 'BGPConfiguration'));
  assert.deepEqual((bgpCfg.spec as Any).nodeMeshPassword, {
    secretKeyRef: { name: 'bgp-passwords', key: 'mesh' },
  });
  const pod = find(r.objects, 'DaemonSet')!.spec.template.spec;
  const bird = pod.containers.find((c: Any) => c.name === 'bird');
  const mounts = bird.volumeMounts.filter((m: Any) => m.name.startsWith('bgp-secret-'));
  const secretOf = (volume: string) => pod.volumes.find((v: Any) => v.name === volume).secret;
  // Each Secret once, at the directory tricolor-bird reads <name>/<key> from, read-only, mode
  // 0400 (octal to Kubernetes' YAML 1.1; the yaml library here reads YAML 1.2: 400).
  assert.deepEqual(
    mounts.map((m: Any) => [
      m.mountPath,
      secretOf(m.name).secretName,
      m.readOnly,
      secretOf(m.name).defaultMode,
    ]),
    [
      ['/etc/tricolor/bgp-secrets/tor-passwords', 'tor-passwords', true, 400],
      ['/etc/tricolor/bgp-secrets/bgp-passwords', 'bgp-passwords', true, 400],
    ],
  );
  for (const c of pod.containers.filter((c: Any) => c.name !== 'bird'))
    assert.ok(
      !(c.volumeMounts ?? []).some((m: Any) => m.name.startsWith('bgp-secret-')),
      `${c.name} sees no password`,
    );
  const bad = render([ETCD, { bgp: { nodeMeshPassword: { secretKeyRef: { name: 'Bad_Name', key: 'k' } } } }]);
  assert.equal(bad.ok, false);
  assert.match(bad.stderr, /nodeMeshPassword\/secretKeyRef\/name/);
});
