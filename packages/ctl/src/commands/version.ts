import { readFileSync } from 'node:fs';
import { KV } from '@tricolor/datastore';
import { atMostPositionals, OUTPUT_OPTION, outputFlag, parse } from '../args.js';
import type { Ctx } from '../context.js';
import { describeError, EXIT, render } from '../output.js';

const OPTIONS = { ...OUTPUT_OPTION, client: { type: 'boolean' } } as const;

/** The version in this package's package.json (dist/src/commands → the package root). */
export const CLIENT_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

interface VersionInfo {
  client: { version: string; nodejs: string };
  cluster?: {
    etcd: { endpoints: string[]; version?: string; prefix: string };
    nodes: number;
    felixReady: number;
    birdReady: number;
    versions: string[];
  };
  clusterError?: string;
}

/**
 * `version`: the client's version, and what is cheap to learn of the cluster (one status
 * call to etcd, one list of Nodes). The client part never needs etcd: an unreachable
 * cluster is reported, and the exit code stays 0 (`--client` does not try).
 */
async function version(ctx: Ctx): Promise<number> {
  const { values, positionals } = parse('version', ctx.args, OPTIONS);
  atMostPositionals('version', positionals, 0);
  const format = outputFlag(values.output);
  const info: VersionInfo = { client: { version: CLIENT_VERSION, nodejs: process.version } };
  if (!values.client) {
    try {
      const ds = await ctx.store();
      const cfg = ctx.etcdConfig();
      const [status, nodes] = await Promise.all([
        ds.kv instanceof KV ? ds.etcd.maintenance.status().catch(() => undefined) : undefined,
        ds.list('Node'),
      ]);
      const st = (n: (typeof nodes.items)[number]) => n.status;
      info.cluster = {
        etcd: { endpoints: cfg.endpoints, version: status?.version, prefix: ds.prefix },
        nodes: nodes.items.length,
        felixReady: nodes.items.filter((n) => st(n)?.felix?.ready).length,
        birdReady: nodes.items.filter((n) => st(n)?.bird?.ready).length,
        versions: [...new Set(nodes.items.map((n) => st(n)?.felix?.version).filter((v): v is string => !!v))],
      };
    } catch (e) {
      info.clusterError = describeError(e);
    }
  }
  ctx.out(
    render(format, info, (wide) => {
      const lines = [`Client Version:    ${info.client.version}`];
      if (wide) lines.push(`Node.js:           ${info.client.nodejs}`);
      const c = info.cluster;
      if (c) {
        lines.push(
          `Cluster Version:   ${c.versions.length ? c.versions.join(', ') : 'unknown (no node reports one)'}`,
          `Cluster Type:      etcd${c.etcd.version ? ` ${c.etcd.version}` : ''}`,
          `Nodes:             ${c.nodes} (felix ready on ${c.felixReady}, bird ready on ${c.birdReady})`,
        );
        if (wide) lines.push(`etcd:              ${c.etcd.endpoints.join(',')} prefix ${c.etcd.prefix}`);
      } else if (info.clusterError) lines.push(`Cluster:           not reachable (${info.clusterError})`);
      return `${lines.join('\n')}\n`;
    }),
  );
  return EXIT.OK;
}

export const versionCommand = {
  usage: ['version [--client] [-o table|wide|json|yaml]   client version; cluster: etcd, nodes'],
  options: OPTIONS,
  run: version,
};
