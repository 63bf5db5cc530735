import { type Datastore, ipamKeys, parseIp } from '@tricolor/datastore';
import {
  type Block,
  type CheckReport,
  Ipam,
  type IpamConfig,
  poolOfIp,
  type RepairResult,
  tryDecodeBlock,
} from '@tricolor/ipam';
import {
  atMostPositionals,
  boolFlag,
  intFlag,
  OUTPUT_OPTION,
  outputFlag,
  parse,
  UsageError,
} from '../args.js';
import type { Ctx } from '../context.js';
import { type AllocationView, borrowedAllocations, findAllocation } from '../ipam-view.js';
import { age, EXIT, machine, render, table } from '../output.js';

async function ipamOf(ctx: Ctx, opts: { leakGraceMs?: number } = {}): Promise<Ipam> {
  return new Ipam(await ctx.store(), opts);
}

/** IPAM's blocks of one family (or both), decoded with IPAM's decoder; unreadable ones skipped. */
async function readBlocks(ds: Datastore, families: readonly (4 | 6)[] = [4, 6]): Promise<Block[]> {
  const lists = await Promise.all(families.map((f) => ds.kv.list(ipamKeys.blocksPrefix(ds.prefix, f))));
  return lists.flatMap((l) => l.items.map((v) => tryDecodeBlock(v.value)).filter((b): b is Block => !!b));
}

// ------------------------------------------------------------------ assign

const ASSIGN_OPTIONS = {
  node: { type: 'string' },
  handle: { type: 'string' },
  num4: { type: 'string' },
  num6: { type: 'string' },
  pool: { type: 'string', multiple: true },
  attr: { type: 'string', multiple: true },
  ...OUTPUT_OPTION,
} as const;

async function assign(ctx: Ctx): Promise<number> {
  const { values, positionals } = parse(ctx.command, ctx.args, ASSIGN_OPTIONS);
  atMostPositionals(ctx.command, positionals, 0);
  const format = outputFlag(values.output);
  if (!values.node) throw new UsageError('ipam assign: --node is required');
  if (!values.handle) throw new UsageError('ipam assign: --handle is required');
  const attributes: Record<string, string> = {};
  for (const a of values.attr ?? []) {
    const i = a.indexOf('=');
    if (i <= 0) throw new UsageError(`--attr: ${JSON.stringify(a)} is not key=value`);
    attributes[a.slice(0, i)] = a.slice(i + 1);
  }
  const r = await (await ipamOf(ctx)).autoAssign({
    node: values.node,
    handle: values.handle,
    num4: intFlag('num4', values.num4),
    num6: intFlag('num6', values.num6),
    pools: values.pool,
    attributes,
  });
  const ips = [...r.ipv4, ...r.ipv6];
  ctx.out(render(format, { ips }, () => ips.map((ip) => `${ip}\n`).join('')));
  return EXIT.OK;
}

// ------------------------------------------------------------------ release

const RELEASE_OPTIONS = {
  handle: { type: 'string' },
  ip: { type: 'string', multiple: true },
  ...OUTPUT_OPTION,
} as const;

async function release(ctx: Ctx): Promise<number> {
  const { values, positionals } = parse(ctx.command, ctx.args, RELEASE_OPTIONS);
  atMostPositionals(ctx.command, positionals, 0);
  const format = outputFlag(values.output);
  if (!values.handle === !values.ip) throw new UsageError('ipam release: give either --handle or --ip');
  for (const ip of values.ip ?? [])
    if (!parseIp(ip)) throw new UsageError(`--ip: ${JSON.stringify(ip)} is not an IP address`);
  const ipam = await ipamOf(ctx);
  const released = values.handle
    ? await ipam.releaseByHandle(values.handle)
    : await ipam.releaseIps(values.ip!);
  if (format === 'table' || format === 'wide') {
    if (released.length === 0) ctx.err('nothing to release (already released?)\n');
    ctx.out(released.map((ip) => `${ip}\n`).join(''));
  } else ctx.out(machine({ released }, format));
  return EXIT.OK;
}

// ------------------------------------------------------------------ show

const SHOW_OPTIONS = {
  ip: { type: 'string' },
  'show-blocks': { type: 'boolean' },
  'show-borrowed': { type: 'boolean' },
  'show-configuration': { type: 'boolean' },
  ...OUTPUT_OPTION,
} as const;

function since(iso: string | null): string {
  if (!iso) return 'unknown (allocated before IPAM recorded times)';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : `${iso} (${age(t)} ago)`;
}

/** `ipam show --ip ADDR`: who holds the address, in which block, since when. */
async function showIp(ctx: Ctx, text: string, format: ReturnType<typeof outputFlag>): Promise<number> {
  const ip = parseIp(text.replace(/\/(32|128)$/, ''));
  if (!ip) throw new UsageError(`--ip: ${JSON.stringify(text)} is not an IP address`);
  const ds = await ctx.store();
  const [blocks, pools] = await Promise.all([readBlocks(ds, [ip.family]), ds.list('IPPool')]);
  const { block, allocation } = findAllocation(blocks, ip);
  const pool = poolOfIp(pools.items, ip)?.metadata.name ?? null;
  let endpoint: { namespace: string; name: string; interface: string } | null = null;
  if (allocation) {
    const weps = await ds.list('WorkloadEndpoint', allocation.namespace ?? undefined);
    const wep = weps.items.find((w) => w.spec.ipNetworks.includes(allocation.hostCidr));
    if (wep)
      endpoint = {
        namespace: wep.metadata.namespace!,
        name: wep.metadata.name,
        interface: wep.spec.interfaceName,
      };
  }
  const data = {
    ip: allocation?.ip ?? text,
    inUse: !!allocation,
    pool,
    block: block?.cidr ?? null,
    ...(allocation ? { allocation, workloadEndpoint: endpoint } : {}),
  };
  ctx.out(
    render(format, data, () => {
      if (!allocation) {
        const where = block
          ? `in block ${block.cidr}${block.affinity ? ` of ${block.affinity.replace(/^host:/, '')}` : ''}`
          : pool
            ? `in IP pool ${pool}, in no block yet`
            : 'in no IP pool';
        return `IP ${data.ip} is not assigned (${where})\n`;
      }
      const a: AllocationView = allocation;
      const lines = [
        `IP ${a.ip} is in use`,
        `  Handle:    ${a.handle ?? '(none)'}`,
        `  Type:      ${a.type || '(none)'}`,
        ...(a.pod ? [`  Pod:       ${a.namespace ?? ''}/${a.pod}`] : []),
        `  Node:      ${a.node ?? '(not recorded)'}${a.borrowed ? ' (borrowed from the block owner)' : ''}`,
        `  Block:     ${a.block} (owner ${a.blockOwner ?? 'none'}${pool ? `, pool ${pool}` : ''})`,
        `  Since:     ${since(a.allocatedAt)}`,
        `  Endpoint:  ${endpoint ? `workloadendpoint/${endpoint.namespace}/${endpoint.name} (${endpoint.interface})` : '(no WorkloadEndpoint has it)'}`,
        'Attributes:',
        ...Object.entries(a.attributes)
          .sort(([x], [y]) => (x < y ? -1 : 1))
          .map(([k, v]) => `  ${k}: ${v}`),
      ];
      return `${lines.join('\n')}\n`;
    }),
  );
  return EXIT.OK;
}

/** `ipam show --show-borrowed`: calicoctl's table of addresses held outside their owner's node. */
async function showBorrowed(ctx: Ctx, format: ReturnType<typeof outputFlag>): Promise<number> {
  const { borrowed, unclassified } = borrowedAllocations(await readBlocks(await ctx.store()));
  ctx.out(
    render(format, { borrowed, unclassified }, (wide) => {
      const headers = ['IP', 'BORROWING-NODE', 'BLOCK', 'BLOCK OWNER', 'TYPE', 'ALLOCATED-TO'];
      if (wide) headers.push('HANDLE', 'SINCE');
      const rows = borrowed.map((b) => {
        const row = [
          b.ip,
          b.node,
          b.block,
          b.blockOwner ?? '',
          b.type,
          b.pod ? `${b.namespace}/${b.pod}` : '',
        ];
        if (wide) row.push(b.handle, b.allocatedAt);
        return row;
      });
      const note = unclassified
        ? `\nNote: ${unclassified} allocation(s) name no node; they cannot be classified as borrowed or not.\n`
        : '';
      return table(headers, rows) + note;
    }),
  );
  return EXIT.OK;
}

async function showConfiguration(ctx: Ctx, format: ReturnType<typeof outputFlag>): Promise<number> {
  const cfg = await (await ipamOf(ctx)).getConfig();
  ctx.out(
    render(format, cfg, () =>
      table(
        ['PROPERTY', 'VALUE'],
        [
          ['StrictAffinity', cfg.strictAffinity],
          ['AutoAllocateBlocks', cfg.autoAllocateBlocks],
          ['MaxBlocksPerHost', cfg.maxBlocksPerHost],
        ],
      ),
    ),
  );
  return EXIT.OK;
}

async function show(ctx: Ctx): Promise<number> {
  const { values, positionals } = parse(ctx.command, ctx.args, SHOW_OPTIONS);
  atMostPositionals(ctx.command, positionals, 0);
  const format = outputFlag(values.output);
  const modes = [
    values.ip !== undefined && '--ip',
    values['show-borrowed'] && '--show-borrowed',
    values['show-configuration'] && '--show-configuration',
    values['show-blocks'] && '--show-blocks',
  ].filter(Boolean);
  if (modes.length > 1) throw new UsageError(`ipam show: give one of ${modes.join(', ')}`);
  if (values.ip !== undefined) return showIp(ctx, values.ip, format);
  if (values['show-borrowed']) return showBorrowed(ctx, format);
  if (values['show-configuration']) return showConfiguration(ctx, format);
  const showBlocks = values['show-blocks'] === true;
  const u = await (await ipamOf(ctx)).usage();
  // Wide block rows count the addresses other nodes borrowed from each block.
  const borrowedIn = new Map<string, number>();
  if (showBlocks && format === 'wide') {
    for (const b of borrowedAllocations(await readBlocks(await ctx.store())).borrowed)
      borrowedIn.set(b.block, (borrowedIn.get(b.block) ?? 0) + 1);
  }
  ctx.out(
    render(format, showBlocks ? u : { pools: u.pools }, (wide) => {
      const poolHeaders = ['POOL', 'CIDR', 'BLOCKS CLAIMED', 'IPS IN USE', 'IPS IN BLOCKS', 'DISABLED'];
      if (wide) poolHeaders.push('BLOCKSIZE', 'IPS FREE');
      let text = table(
        poolHeaders,
        u.pools.map((p) => {
          const row: (string | number | boolean)[] = [
            p.name,
            p.cidr,
            `${p.blocksClaimed}/${p.blocksTotal}`,
            `${p.allocated}/${p.addressesTotal}`,
            p.addressesInBlocks,
            p.disabled,
          ];
          if (wide) row.push(p.blockSize, (BigInt(p.addressesTotal) - BigInt(p.allocated)).toString());
          return row;
        }),
      );
      if (showBlocks) {
        const headers = ['BLOCK', 'POOL', 'OWNER', 'USED', 'FREE'];
        if (wide) headers.push('SIZE', 'BORROWED');
        text += `\n${table(
          headers,
          u.blocks.map((b) => {
            const row: (string | number)[] = [
              b.cidr,
              b.pool ?? '(none)',
              b.owner ?? '(none)',
              b.used,
              b.free,
            ];
            if (wide) row.push(b.size, borrowedIn.get(b.cidr) ?? 0);
            return row;
          }),
        )}`;
      }
      return text;
    }),
  );
  return EXIT.OK;
}

// ------------------------------------------------------------------ check

const CHECK_OPTIONS = {
  repair: { type: 'boolean' },
  'leak-grace': { type: 'string' },
  ...OUTPUT_OPTION,
} as const;

function printReport(ctx: Ctx, rep: CheckReport, wide: boolean): void {
  const s = rep.summary;
  ctx.out(
    `checked ${s.blocks} blocks, ${s.allocations} allocations, ${s.handles} handles, ${s.affinities} affinities ` +
      `against ${s.nodes} nodes and ${s.workloadEndpoints} workload endpoints (revision ${rep.revision})\n`,
  );
  const count = (kind: string) => rep.problems.filter((p) => p.kind === kind).length;
  ctx.out(
    `allocations without endpoint (leaked): ${count('leaked-address')}; ` +
      `endpoints without allocation (ghosts): ${count('ghost-endpoint')}\n`,
  );
  if (rep.ok) ctx.out('IPAM is consistent\n');
  else {
    ctx.out(`${rep.problems.length} problem(s):\n`);
    for (const p of rep.problems) {
      ctx.out(`  [${p.kind}] ${p.message}${p.repairable ? '' : ' (needs an operator)'}\n`);
      if (wide) {
        const { kind: _k, message: _m, repairable: _r, ...detail } = p as unknown as Record<string, unknown>;
        if (Object.keys(detail).length) ctx.out(`      ${JSON.stringify(detail)}\n`);
      }
    }
  }
}

async function check(ctx: Ctx): Promise<number> {
  const { values, positionals } = parse(ctx.command, ctx.args, CHECK_OPTIONS);
  atMostPositionals(ctx.command, positionals, 0);
  const format = outputFlag(values.output);
  const grace = values['leak-grace'] === undefined ? undefined : Number(values['leak-grace']);
  if (grace !== undefined && (!Number.isFinite(grace) || grace < 0)) {
    throw new UsageError(`ipam check: --leak-grace ${values['leak-grace']} is not a number of seconds`);
  }
  const ipam = await ipamOf(ctx, grace === undefined ? {} : { leakGraceMs: grace * 1000 });
  const report = await ipam.check();
  const text = format === 'table' || format === 'wide';
  if (!values.repair) {
    if (text) printReport(ctx, report, format === 'wide');
    else ctx.out(machine(report, format));
    return report.ok ? EXIT.OK : EXIT.CHECK_FAILED;
  }
  const res: RepairResult = await ipam.repair(report);
  if (text) {
    printReport(ctx, report, format === 'wide');
    for (const a of res.actions) ctx.out(`repaired: ${a}\n`);
    for (const f of res.failures) ctx.err(`repair failed: ${f}\n`);
    if (res.ok) ctx.out('IPAM is consistent after repair\n');
    else for (const p of res.remaining) ctx.out(`  still: [${p.kind}] ${p.message}\n`);
  } else {
    ctx.out(machine({ before: report, ...res }, format));
  }
  return res.ok ? EXIT.OK : EXIT.CHECK_FAILED;
}

// ------------------------------------------------------------------ configure

const CONFIGURE_OPTIONS = {
  'strict-affinity': { type: 'string' },
  'max-blocks-per-host': { type: 'string' },
  'auto-allocate-blocks': { type: 'string' },
  ...OUTPUT_OPTION,
} as const;

async function configure(ctx: Ctx): Promise<number> {
  const { values, positionals } = parse(ctx.command, ctx.args, CONFIGURE_OPTIONS);
  atMostPositionals(ctx.command, positionals, 0);
  const format = outputFlag(values.output);
  const patch: Partial<IpamConfig> = {};
  const strict = boolFlag('strict-affinity', values['strict-affinity']);
  const auto = boolFlag('auto-allocate-blocks', values['auto-allocate-blocks']);
  const max = intFlag('max-blocks-per-host', values['max-blocks-per-host']);
  if (strict !== undefined) patch.strictAffinity = strict;
  if (auto !== undefined) patch.autoAllocateBlocks = auto;
  if (max !== undefined) patch.maxBlocksPerHost = max;
  const ipam = await ipamOf(ctx);
  const cfg = Object.keys(patch).length ? await ipam.setConfig(patch) : await ipam.getConfig();
  ctx.out(
    render(
      format,
      cfg,
      () =>
        `strictAffinity: ${cfg.strictAffinity}\nautoAllocateBlocks: ${cfg.autoAllocateBlocks}\n` +
        `maxBlocksPerHost: ${cfg.maxBlocksPerHost}${cfg.maxBlocksPerHost === 0 ? ' (no limit)' : ''}\n`,
    ),
  );
  return EXIT.OK;
}

// ------------------------------------------------------------------ release-affinities

const RELEASE_AFFINITIES_OPTIONS = {
  node: { type: 'string' },
  force: { type: 'boolean' },
  ...OUTPUT_OPTION,
} as const;

async function releaseAffinities(ctx: Ctx): Promise<number> {
  const { values, positionals } = parse(ctx.command, ctx.args, RELEASE_AFFINITIES_OPTIONS);
  atMostPositionals(ctx.command, positionals, 0);
  if (!values.node) throw new UsageError('ipam release-affinities: --node is required');
  const format = outputFlag(values.output);
  const r = await (await ipamOf(ctx)).releaseAffinities(values.node, { force: values.force });
  ctx.out(
    render(format, r, () =>
      [
        ...r.released.map((b) => `released ${b}\n`),
        ...r.kept.map((b) => `kept ${b} (still holds addresses; --force to give it up)\n`),
      ].join(''),
    ),
  );
  return EXIT.OK;
}

export const IPAM_COMMANDS = {
  'ipam show': {
    usage: [
      'ipam show [--show-blocks] [-o table|wide|json|yaml]      pools (and blocks: owner, used, free)',
      'ipam show --ip ADDR                                      who holds it: handle, pod, node, block, since when',
      'ipam show --show-borrowed | --show-configuration',
    ],
    options: SHOW_OPTIONS,
    run: show,
  },
  'ipam assign': {
    usage: ['ipam assign --node N --handle H [--num4 n] [--num6 n] [--pool P]... [--attr k=v]... [-o json]'],
    options: ASSIGN_OPTIONS,
    run: assign,
  },
  'ipam release': {
    usage: ['ipam release --ip IP [--ip IP]... | --handle H [-o json]'],
    options: RELEASE_OPTIONS,
    run: release,
  },
  'ipam check': {
    usage: [
      'ipam check [--repair] [--leak-grace SECONDS (default 600)] [-o table|wide|json|yaml]   leaked addresses, ghost endpoints, blocks, affinities, handles',
    ],
    options: CHECK_OPTIONS,
    run: check,
  },
  'ipam configure': {
    usage: [
      'ipam configure [--strict-affinity true|false] [--max-blocks-per-host n] [--auto-allocate-blocks true|false] [-o json]',
    ],
    options: CONFIGURE_OPTIONS,
    run: configure,
  },
  'ipam release-affinities': {
    usage: ['ipam release-affinities --node N [--force] [-o json]'],
    options: RELEASE_AFFINITIES_OPTIONS,
    run: releaseAffinities,
  },
};
