import { type AnyResource, KINDS, type Kind } from '@tricolor/datastore';
import { outputFlag, parse, UsageError } from '../args.js';
import type { Ctx } from '../context.js';
import { CommandError, EXIT, machine, table } from '../output.js';
import { kindArg } from '../resources.js';

export const usage = 'get <kind> [name] [-n namespace] [-o json|yaml|wide]';

type Col = [string, (r: AnyResource) => unknown];
const s = (r: AnyResource) => r.spec as unknown as Record<string, unknown>;
const bgp = (r: AnyResource) => (s(r).bgp ?? {}) as Record<string, unknown>;

/** Extra columns per kind: [normal, wide-only]. */
const COLUMNS: Partial<Record<Kind, [Col[], Col[]]>> = {
  IPPool: [
    [['CIDR', (r) => s(r).cidr]],
    [
      ['BLOCKSIZE', (r) => s(r).blockSize],
      ['IPIP', (r) => s(r).ipipMode],
      ['VXLAN', (r) => s(r).vxlanMode],
      ['NAT', (r) => s(r).natOutgoing],
      ['DISABLED', (r) => s(r).disabled],
      ['SELECTOR', (r) => s(r).nodeSelector],
    ],
  ],
  Node: [
    [['IPV4', (r) => bgp(r).ipv4Address]],
    [
      ['IPV6', (r) => bgp(r).ipv6Address],
      ['ASN', (r) => bgp(r).asNumber],
      ['RR-CLUSTER', (r) => bgp(r).routeReflectorClusterID],
    ],
  ],
  WorkloadEndpoint: [
    [
      ['NODE', (r) => s(r).node],
      ['NETWORKS', (r) => (s(r).ipNetworks as string[]).join(',')],
    ],
    [
      ['WORKLOAD', (r) => s(r).workload],
      ['INTERFACE', (r) => s(r).interfaceName],
    ],
  ],
  BGPPeer: [
    [
      ['PEERIP', (r) => s(r).peerIP],
      ['ASN', (r) => s(r).asNumber],
    ],
    [
      ['NODE', (r) => s(r).node],
      ['SELECTOR', (r) => s(r).nodeSelector],
    ],
  ],
};

export async function get(ctx: Ctx): Promise<number> {
  const { values, positionals } = parse('get', ctx.args, {
    namespace: { type: 'string', short: 'n' },
    output: { type: 'string', short: 'o' },
  });
  const format = outputFlag(values.output, ['table', 'wide', 'json', 'yaml']);
  const kind = kindArg(positionals[0]);
  if (positionals.length > 2) throw new UsageError(`get: unexpected argument ${positionals[2]}`);
  const name = positionals[1];
  const namespaced = KINDS[kind].namespaced;
  if (!namespaced && values.namespace) throw new UsageError(`-n: ${kind} is not namespaced`);
  const ds = await ctx.store();
  let items: AnyResource[];
  if (name) {
    const ns = namespaced ? (values.namespace ?? 'default') : undefined;
    const r = await ds.get(kind, name, ns);
    if (!r)
      throw new CommandError(`${kind.toLowerCase()}/${ns ? `${ns}/` : ''}${name} not found`, EXIT.NOT_FOUND);
    items = [r];
  } else {
    items = (await ds.list(kind, namespaced ? values.namespace : undefined)).items;
  }
  if (format === 'json' || format === 'yaml') {
    const v = name ? items[0]! : { apiVersion: 'tricolor.dev/v1', kind: 'List', items };
    ctx.out(machine(v, format));
    return 0;
  }
  if (items.length === 0) {
    ctx.err(`no ${KINDS[kind].plural} found\n`);
    return 0;
  }
  const [normal, wide] = COLUMNS[kind] ?? [[], []];
  const cols = format === 'wide' ? [...normal, ...wide] : normal;
  const headers = [...(namespaced ? ['NAMESPACE'] : []), 'NAME', ...cols.map((c) => c[0])];
  const rows = items.map((r) => [
    ...(namespaced ? [r.metadata.namespace] : []),
    r.metadata.name,
    ...cols.map((c) => {
      const v = c[1](r);
      return v === undefined || v === null ? '' : String(v);
    }),
  ]);
  ctx.out(table(headers, rows));
  return 0;
}
