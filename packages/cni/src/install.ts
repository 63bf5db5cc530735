import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ParseArgsConfig, parseArgs } from 'node:util';

export interface InstallOptions {
  binDir: string;
  confDir: string;
  /** Written as the conflist's `nodename`; without it the plugin reads felix's node name file. */
  nodename?: string;
  /** The conflist's `nodename_file` (default in the plugin: /var/lib/tricolor/nodename). */
  nodenameFile?: string;
  etcdEndpoints: string;
  mtu: number;
  networkName: string;
  /** Where the Node.js binary and this package live on the host (the DaemonSet copies them there). */
  nodeBinary: string;
  /** The plugin's entry file the launcher runs (default: PLUGIN_BUNDLE). */
  pluginMain: string;
  etcdCaFile?: string;
  etcdCertFile?: string;
  etcdKeyFile?: string;
  datastorePrefix?: string;
  /** The kubeconfig the plugin reads its pod with (written by writeKubeconfig), as a path on the host. */
  kubeconfigHostPath?: string;
  /** Readiness URLs of the node's agents that STATUS checks. */
  healthUrls?: string[];
  /** Chain the reference `portmap` plugin (hostPort) after ours. */
  portmap?: boolean;
  /** The plugin's log file, on the host. */
  logFile?: string;
}

export const KUBECONFIG_FILE = 'tricolor-kubeconfig';

/**
 * The plugin as one file (scripts/bundle.mjs, run by the build): what the launcher runs by
 * default. Resolved from this module, which lives in dist/src or, inside the bundle, in
 * dist/bundle: both give the same file.
 */
export const PLUGIN_BUNDLE = fileURLToPath(new URL('../bundle/tricolor-cni.js', import.meta.url));

function writeAtomic(path: string, content: string, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content, { mode });
  chmodSync(tmp, mode);
  // rename: kubelet never sees a half-written config or plugin.
  renameSync(tmp, path);
}

export function conflist(o: InstallOptions): Record<string, unknown> {
  const plugin: Record<string, unknown> = {
    type: 'tricolor',
    mtu: o.mtu,
    ...(o.nodename ? { nodename: o.nodename } : {}),
    ...(o.nodenameFile ? { nodename_file: o.nodenameFile } : {}),
    etcd_endpoints: o.etcdEndpoints,
    ipam: { type: 'tricolor-ipam', assign_ipv4: true, assign_ipv6: false },
  };
  if (o.etcdCaFile) plugin.etcd_ca_cert_file = o.etcdCaFile;
  if (o.etcdCertFile) plugin.etcd_cert_file = o.etcdCertFile;
  if (o.etcdKeyFile) plugin.etcd_key_file = o.etcdKeyFile;
  if (o.datastorePrefix) plugin.datastore_prefix = o.datastorePrefix;
  if (o.kubeconfigHostPath) plugin.kubernetes = { kubeconfig: o.kubeconfigHostPath };
  if (o.healthUrls?.length) plugin.health_urls = o.healthUrls;
  if (o.logFile) plugin.log_file_path = o.logFile;
  const plugins: Record<string, unknown>[] = [plugin];
  if (o.portmap) plugins.push({ type: 'portmap', snat: true, capabilities: { portMappings: true } });
  return {
    cniVersion: '1.0.0',
    name: o.networkName,
    plugins,
  };
}

/**
 * A kubeconfig for the plugin from this pod's service account (token and CA as the kubelet
 * mounts them) and the in-cluster API address, as JSON (which the plugin parses without a YAML
 * library). The token is the pod's: it is rewritten whenever the installer runs again.
 */
export function serviceAccountKubeconfig(env: NodeJS.ProcessEnv, saDir: string): string {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) throw new Error('install: KUBERNETES_SERVICE_HOST is not set (not running in a pod?)');
  const read = (f: string) => {
    try {
      return readFileSync(join(saDir, f));
    } catch (e) {
      throw new Error(`install: service account ${f}: ${(e as Error).message}`);
    }
  };
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return `${JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'local',
          cluster: { server, 'certificate-authority-data': read('ca.crt').toString('base64') },
        },
      ],
      users: [{ name: 'tricolor-cni', user: { token: read('token').toString('utf8').trim() } }],
      contexts: [{ name: 'tricolor-cni', context: { cluster: 'local', user: 'tricolor-cni' } }],
      'current-context': 'tricolor-cni',
    },
    null,
    2,
  )}\n`;
}

/** Writes the plugin launcher into the CNI bin dir and the conflist into the CNI conf dir. */
export function install(o: InstallOptions): { plugin: string; conf: string } {
  const plugin = join(o.binDir, 'tricolor');
  writeAtomic(
    plugin,
    `#!/bin/sh\n# Installed by tricolor-cni install.\nexec ${JSON.stringify(o.nodeBinary)} ${JSON.stringify(o.pluginMain)} "$@"\n`,
    0o755,
  );
  const conf = join(o.confDir, '10-tricolor.conflist');
  writeAtomic(conf, `${JSON.stringify(conflist(o), null, 2)}\n`);
  return { plugin, conf };
}

/** node:util parseArgs, its errors (which name the flag) prefixed with the command. */
function parseInstallArgs<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (e) {
    throw new Error(`install: ${(e as Error).message}`);
  }
}

export function installFromArgs(argv: string[], env: NodeJS.ProcessEnv): { plugin: string; conf: string } {
  const { values } = parseInstallArgs(argv, {
    'bin-dir': { type: 'string', default: '/opt/cni/bin' },
    'conf-dir': { type: 'string', default: '/etc/cni/net.d' },
    nodename: { type: 'string' },
    'nodename-file': { type: 'string' },
    'etcd-endpoints': { type: 'string' },
    mtu: { type: 'string', default: env.CNI_MTU ?? '1500' },
    'network-name': { type: 'string', default: 'k8s-pod-network' },
    'node-binary': { type: 'string', default: process.execPath },
    'plugin-main': { type: 'string', default: PLUGIN_BUNDLE },
    // Write <conf-dir>/tricolor-kubeconfig from the pod's service account; the conflist names
    // it as <host-conf-dir>/tricolor-kubeconfig (the same directory seen from the host).
    'write-kubeconfig': { type: 'boolean', default: false },
    'host-conf-dir': { type: 'string' },
    'health-urls': { type: 'string' },
    portmap: { type: 'boolean', default: false },
    'log-file': { type: 'string' },
  });
  const nodename = values.nodename ?? env.NODENAME;
  const etcd = values['etcd-endpoints'] ?? env.ETCD_ENDPOINTS;
  const nodenameFile = values['nodename-file'];
  if (nodenameFile !== undefined && !nodenameFile.startsWith('/'))
    throw new Error(`install: --nodename-file ${JSON.stringify(nodenameFile)} is not an absolute path`);
  if (!etcd) throw new Error('install: --etcd-endpoints (or ETCD_ENDPOINTS) is required');
  const mtu = Number(values.mtu);
  if (!Number.isInteger(mtu) || mtu < 576 || mtu > 9216)
    throw new Error(`install: --mtu ${values.mtu} is not an MTU between 576 and 9216`);
  let kubeconfigHostPath: string | undefined;
  if (values['write-kubeconfig']) {
    const saDir = env.TRICOLOR_SERVICEACCOUNT_DIR || '/var/run/secrets/kubernetes.io/serviceaccount';
    writeAtomic(join(values['conf-dir']!, KUBECONFIG_FILE), serviceAccountKubeconfig(env, saDir), 0o600);
    kubeconfigHostPath = join(values['host-conf-dir'] ?? values['conf-dir']!, KUBECONFIG_FILE);
  }
  const healthUrls = values['health-urls']
    ?.split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  for (const u of healthUrls ?? [])
    if (!/^https?:\/\//.test(u))
      throw new Error(`install: --health-urls: ${JSON.stringify(u)} is not an http(s) URL`);
  return install({
    kubeconfigHostPath,
    healthUrls,
    portmap: values.portmap,
    logFile: values['log-file'],
    binDir: values['bin-dir']!,
    confDir: values['conf-dir']!,
    nodename: nodename || undefined,
    nodenameFile,
    etcdEndpoints: etcd,
    mtu,
    networkName: values['network-name']!,
    nodeBinary: values['node-binary']!,
    pluginMain: values['plugin-main']!,
    etcdCaFile: env.ETCD_CA_CERT_FILE || undefined,
    etcdCertFile: env.ETCD_CERT_FILE || undefined,
    etcdKeyFile: env.ETCD_KEY_FILE || undefined,
    datastorePrefix: env.TRICOLOR_DATASTORE_PREFIX || undefined,
  });
}
