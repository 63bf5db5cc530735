import { type CheckReport, Ipam, type IpamConfig, type RepairResult } from '@tricolor/ipam';
import { boolFlag, intFlag, outputFlag, parse, UsageError } from '../args.js';
import type { Ctx } from '../context.js';
import { EXIT, machine, table } from '../output.js';

export const usage = [
  'ipam assign --node N --handle H [--num4 n] [--num6 n] [--pool P]... [--attr k=v]... [-o json]',
  'ipam release --handle H | --ip IP [--ip IP]... [-o json]',
  'ipam show [--show-blocks] [-o json]',
  'ipam check [--repair] [--leak-grace SECONDS (default 600)] [-o json]',
  'ipam configure [--strict-affinity true|false] [--max-blocks-per-host n] [--auto-allocate-blocks true|false] [-o json]',
  'ipam release-affinities --node N [--force]',
];

async function ipamOf(ctx: Ctx, opts: { leakGraceMs?: number } = {}): Promise<Ipam> {
  return new Ipam(await ctx.store(), opts);
}

async function assign(ctx: Ctx, args: string[]): Promise<number> {
  const { values, positionals } = parse('ipam assign', args, {
    node: { type: 'string' },
    handle: { type: 'string' },
    num4: { type: 'string' },
    num6: { type: 'string' },
    pool: { type: 'string', multiple: true },
    attr: { type: 'string', multiple: true },
    output: { type: 'string', short: 'o' },
  });
  if (positionals.length) throw new UsageError(`ipam assign: unexpected argument ${positionals[0]}`);
  const format = outputFlag(values.output, ['table', 'json', 'yaml']);
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
  if (format === 'table') ctx.out(ips.map((ip) => `${ip}\n`).join(''));
  else ctx.out(machine({ ips }, format));
  return 0;
}

async function release(ctx: Ctx, args: string[]): Promise<number> {
  const { values, positionals } = parse('ipam release', args, {
    handle: { type: 'string' },
    ip: { type: 'string', multiple: true },
    output: { type: 'string', short: 'o' },
  });
  if (positionals.length) throw new UsageError(`ipam release: unexpected argument ${positionals[0]}`);
  const format = outputFlag(values.output, ['table', 'json', 'yaml']);
  if (!values.handle === !values.ip) throw new UsageError('ipam release: give either --handle or --ip');
  const ipam = await ipamOf(ctx);
  const released = values.handle
    ? await ipam.releaseByHandle(values.handle)
    : await ipam.releaseIps(values.ip!);
  if (format === 'table') {
    if (released.length === 0) ctx.err('nothing to release (already released?)\n');
    ctx.out(released.map((ip) => `${ip}\n`).join(''));
  } else ctx.out(machine({ released }, format));
  return 0;
}

async function show(ctx: Ctx, args: string[]): Promise<number> {
  const { values, positionals } = parse('ipam show', args, {
    'show-blocks': { type: 'boolean' },
    output: { type: 'string', short: 'o' },
  });
  if (positionals.length) throw new UsageError(`ipam show: unexpected argument ${positionals[0]}`);
  const format = outputFlag(values.output, ['table', 'json', 'yaml']);
  const u = await (await ipamOf(ctx)).usage();
  if (format !== 'table') {
    ctx.out(machine(values['show-blocks'] ? u : { pools: u.pools }, format));
    return 0;
  }
  ctx.out(
    table(
      ['POOL', 'CIDR', 'BLOCKS CLAIMED', 'IPS IN USE', 'IPS IN BLOCKS', 'DISABLED'],
      u.pools.map((p) => [
        p.name,
        p.cidr,
        `${p.blocksClaimed}/${p.blocksTotal}`,
        `${p.allocated}/${p.addressesTotal}`,
        p.addressesInBlocks,
        p.disabled,
      ]),
    ),
  );
  if (values['show-blocks']) {
    ctx.out('\n');
    ctx.out(
      table(
        ['BLOCK', 'POOL', 'OWNER', 'USED', 'FREE'],
        u.blocks.map((b) => [b.cidr, b.pool ?? '(none)', b.owner ?? '(none)', b.used, b.free]),
      ),
    );
  }
  return 0;
}

function printReport(ctx: Ctx, rep: CheckReport): void {
  const s = rep.summary;
  ctx.out(
    `checked ${s.blocks} blocks, ${s.allocations} allocations, ${s.handles} handles, ${s.affinities} affinities ` +
      `against ${s.nodes} nodes and ${s.workloadEndpoints} workload endpoints (revision ${rep.revision})\n`,
  );
  if (rep.ok) ctx.out('IPAM is consistent\n');
  else {
    ctx.out(`${rep.problems.length} problem(s):\n`);
    for (const p of rep.problems)
      ctx.out(`  [${p.kind}] ${p.message}${p.repairable ? '' : ' (needs an operator)'}\n`);
  }
}

async function check(ctx: Ctx, args: string[]): Promise<number> {
  const { values, positionals } = parse('ipam check', args, {
    repair: { type: 'boolean' },
    output: { type: 'string', short: 'o' },
    'leak-grace': { type: 'string' },
  });
  if (positionals.length) throw new UsageError(`ipam check: unexpected argument ${positionals[0]}`);
  const format = outputFlag(values.output, ['table', 'json', 'yaml']);
  const grace = values['leak-grace'] === undefined ? undefined : Number(values['leak-grace']);
  if (grace !== undefined && (!Number.isFinite(grace) || grace < 0)) {
    throw new UsageError(`ipam check: --leak-grace ${values['leak-grace']} is not a number of seconds`);
  }
  const ipam = await ipamOf(ctx, grace === undefined ? {} : { leakGraceMs: grace * 1000 });
  const report = await ipam.check();
  if (!values.repair) {
    if (format === 'table') printReport(ctx, report);
    else ctx.out(machine(report, format));
    return report.ok ? EXIT.OK : EXIT.CHECK_FAILED;
  }
  const res: RepairResult = await ipam.repair(report);
  if (format === 'table') {
    printReport(ctx, report);
    for (const a of res.actions) ctx.out(`repaired: ${a}\n`);
    for (const f of res.failures) ctx.err(`repair failed: ${f}\n`);
    if (res.ok) ctx.out('IPAM is consistent after repair\n');
    else for (const p of res.remaining) ctx.out(`  still: [${p.kind}] ${p.message}\n`);
  } else {
    ctx.out(machine({ before: report, ...res }, format));
  }
  return res.ok ? EXIT.OK : EXIT.CHECK_FAILED;
}

async function configure(ctx: Ctx, args: string[]): Promise<number> {
  const { values, positionals } = parse('ipam configure', args, {
    'strict-affinity': { type: 'string' },
    'max-blocks-per-host': { type: 'string' },
    'auto-allocate-blocks': { type: 'string' },
    output: { type: 'string', short: 'o' },
  });
  if (positionals.length) throw new UsageError(`ipam configure: unexpected argument ${positionals[0]}`);
  const format = outputFlag(values.output, ['table', 'json', 'yaml']);
  const patch: Partial<IpamConfig> = {};
  const strict = boolFlag('strict-affinity', values['strict-affinity']);
  const auto = boolFlag('auto-allocate-blocks', values['auto-allocate-blocks']);
  const max = intFlag('max-blocks-per-host', values['max-blocks-per-host']);
  if (strict !== undefined) patch.strictAffinity = strict;
  if (auto !== undefined) patch.autoAllocateBlocks = auto;
  if (max !== undefined) patch.maxBlocksPerHost = max;
  const ipam = await ipamOf(ctx);
  const cfg = Object.keys(patch).length ? await ipam.setConfig(patch) : await ipam.getConfig();
  if (format === 'table') {
    ctx.out(
      `strictAffinity: ${cfg.strictAffinity}\nautoAllocateBlocks: ${cfg.autoAllocateBlocks}\n` +
        `maxBlocksPerHost: ${cfg.maxBlocksPerHost}${cfg.maxBlocksPerHost === 0 ? ' (no limit)' : ''}\n`,
    );
  } else ctx.out(machine(cfg, format));
  return 0;
}

async function releaseAffinities(ctx: Ctx, args: string[]): Promise<number> {
  const { values, positionals } = parse('ipam release-affinities', args, {
    node: { type: 'string' },
    force: { type: 'boolean' },
    output: { type: 'string', short: 'o' },
  });
  if (positionals.length)
    throw new UsageError(`ipam release-affinities: unexpected argument ${positionals[0]}`);
  if (!values.node) throw new UsageError('ipam release-affinities: --node is required');
  const format = outputFlag(values.output, ['table', 'json', 'yaml']);
  const r = await (await ipamOf(ctx)).releaseAffinities(values.node, { force: values.force });
  if (format === 'table') {
    for (const b of r.released) ctx.out(`released ${b}\n`);
    for (const b of r.kept) ctx.out(`kept ${b} (still holds addresses; --force to give it up)\n`);
  } else ctx.out(machine(r, format));
  return 0;
}

const SUB: Record<string, (ctx: Ctx, args: string[]) => Promise<number>> = {
  assign,
  release,
  show,
  check,
  configure,
  'release-affinities': releaseAffinities,
};

export async function ipam(ctx: Ctx): Promise<number> {
  const [sub, ...rest] = ctx.args;
  const fn = sub ? SUB[sub] : undefined;
  if (!fn) {
    throw new UsageError(
      `ipam: ${sub ? `unknown subcommand ${JSON.stringify(sub)}` : 'missing subcommand'}; one of:\n  ${usage.join('\n  ')}`,
    );
  }
  return fn(ctx, rest);
}
