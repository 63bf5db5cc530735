/**
 * The shell environment that points the CLIs (tricolorctl, tricolor-birdc, calicoctl-style
 * tools reading ETCD_*) at a cluster kept by `demo --keep`: what `demo env` prints, for
 * `eval "$(./scripts/demo.sh env)"`. Pure: the manifest in, POSIX shell text out.
 */

/** What `Cluster.manifest()` records (the parts the environment needs). */
export interface DemoManifest {
  /** etcd's client URL on the host. */
  etcd: string;
  /** Client TLS files when the demo's etcd requires client certificates. */
  etcdTls?: { caFile: string; certFile: string; keyFile: string };
  /** The datastore key prefix, when not the default. */
  prefix?: string;
  mode: string;
  nodes: { name: string; address: string; birdControl?: string | null }[];
  pods: { name: string; node: string; ip: string }[];
}

/** Single-quoted for POSIX shells: safe for any path. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export class DemoEnvError extends Error {
  override readonly name = 'DemoEnvError';
}

/**
 * The `export`/`unset` lines. `node` picks the node whose bird socket BIRD_CONTROL names
 * (default: the first); `nodeBin` is the project's Node.js directory to put first on PATH,
 * when it has one (.tools/node/bin).
 */
export function renderDemoEnv(
  m: DemoManifest,
  opts: { node?: string; nodeBin?: string; script: string },
): string {
  const node = opts.node === undefined ? m.nodes[0] : m.nodes.find((n) => n.name === opts.node);
  if (!node)
    throw new DemoEnvError(
      `no node ${JSON.stringify(opts.node)} in the kept cluster (nodes: ${m.nodes.map((n) => n.name).join(', ')})`,
    );
  const tlsVars = ['ETCD_CA_CERT_FILE', 'ETCD_CERT_FILE', 'ETCD_KEY_FILE'];
  const lines = [
    `# Tricolor demo cluster (${m.mode}, ${m.nodes.length} nodes, ${m.pods.length} pods); bird of ${node.name} (${node.address}).`,
    `# Another node: eval "$(${opts.script} env --node NAME)". Tear down: ${opts.script} down`,
    `export ETCD_ENDPOINTS=${shellQuote(m.etcd)}`,
  ];
  if (m.etcdTls) {
    lines.push(
      `export ETCD_CA_CERT_FILE=${shellQuote(m.etcdTls.caFile)}`,
      `export ETCD_CERT_FILE=${shellQuote(m.etcdTls.certFile)}`,
      `export ETCD_KEY_FILE=${shellQuote(m.etcdTls.keyFile)}`,
    );
  } else lines.push(`unset ${tlsVars.join(' ')}`);
  lines.push(
    m.prefix ? `export TRICOLOR_DATASTORE_PREFIX=${shellQuote(m.prefix)}` : 'unset TRICOLOR_DATASTORE_PREFIX',
  );
  if (node.birdControl) lines.push(`export BIRD_CONTROL=${shellQuote(node.birdControl)}`);
  else lines.push(`# ${m.mode} mode: no BGP speaker runs on ${node.name}`, 'unset BIRD_CONTROL');
  lines.push(`export TRICOLOR_DEMO_NODE=${shellQuote(node.name)}`);
  if (opts.nodeBin) {
    const dir = shellQuote(opts.nodeBin);
    // Idempotent: eval it twice and PATH gains the directory once.
    lines.push(`case ":$PATH:" in *:${dir}:*) ;; *) export PATH=${dir}:"$PATH" ;; esac`);
  }
  return `${lines.join('\n')}\n`;
}
