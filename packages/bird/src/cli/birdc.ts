#!/usr/bin/env node
/**
 * tricolor-birdc: asks a running tricolor-bird over its Unix control socket, as birdc asks
 * BIRD. Read-only. Every command prints a table, or JSON / YAML with `-o json|yaml`.
 */
import { parseArgs } from 'node:util';
import { stringify as toYaml } from 'yaml';
import { query } from '../control/client.js';
import type { RouteView } from '../views.js';

export const USAGE = `usage: tricolor-birdc [-s|--control PATH] [-o table|json|yaml] COMMAND
  show status
  show protocols [NAME]
  show protocols all [NAME]       timers, capabilities, counters, last error
  show route [PREFIX]             the best paths (and ECMP siblings) of every prefix, or of one
  show route for ADDR             the route a packet to ADDR takes (longest match)
  show route protocol NAME        what a peer announced to us
  show route export NAME          what we announce to a peer
  show route count
The control socket defaults to $BIRD_CONTROL or /var/run/tricolor/bird.ctl.`;

/** The command words as the daemon takes them (cmd, args), or an error message. */
export function parseCommand(words: string[]): { cmd: string; args: string[] } | string {
  const [verb, what, ...rest] = words;
  if (verb !== 'show')
    return words.length ? `unknown command ${JSON.stringify(words.join(' '))}` : 'no command';
  const arity = (min: number, max: number, usage: string) =>
    rest.length < min || rest.length > max ? `usage: ${usage}` : undefined;
  switch (what) {
    case 'status':
      return arity(0, 0, 'show status') ?? { cmd: 'show status', args: [] };
    case 'protocols':
    case 'protocol':
      if (rest[0] === 'all')
        return arity(1, 2, 'show protocols all [NAME]') ?? { cmd: 'show protocols', args: rest };
      return arity(0, 1, 'show protocols [all] [NAME]') ?? { cmd: 'show protocols', args: rest };
    case 'route':
    case 'routes': {
      const sub = rest[0];
      if (sub === 'for') return arity(2, 2, 'show route for ADDR') ?? { cmd: 'show route', args: rest };
      if (sub === 'protocol')
        return arity(2, 2, 'show route protocol NAME') ?? { cmd: 'show route', args: rest };
      if (sub === 'export') return arity(2, 2, 'show route export NAME') ?? { cmd: 'show route', args: rest };
      if (sub === 'count') return arity(1, 1, 'show route count') ?? { cmd: 'show route', args: rest };
      return arity(0, 1, 'show route [PREFIX]') ?? { cmd: 'show route', args: rest };
    }
    default:
      return `unknown command ${JSON.stringify(words.join(' '))}`;
  }
}

function pad(s: string, n: number): string {
  return s.length >= n ? `${s} ` : s + ' '.repeat(n - s.length);
}

interface Proto {
  name: string;
  address: string;
  as: number;
  type: string;
  state: string;
  since: string;
  prefixesReceived: number;
  prefixesSent: number;
  lastError: string;
  gracefulRestart: { pending: boolean; negotiated: boolean };
}

type ProtoAll = Proto & {
  localAs: number;
  routerId: string;
  localAddress: string;
  localPort: number | null;
  remotePort: number | null;
  connection: string | null;
  authentication: string;
  rrClient: boolean;
  passive: boolean;
  timers: {
    holdTime: number | null;
    keepaliveTime: number | null;
    configuredHoldTime: number;
    connectRetry: number;
    uptimeSeconds: number | null;
    flaps: number;
  };
  capabilities: { local: string[]; neighbor: string[] };
  routes: { imported: number; exported: number; exportPending: number; stale: boolean };
  messages: { received: Record<string, number>; sent: Record<string, number> };
  collisions: number;
  writeQueueBytes: number;
};

function protocolsTable(rows: Proto[]): string {
  let out = `${pad('Name', 24)}${pad('Neighbor', 26)}${pad('AS', 12)}${pad('State', 12)}${pad('Since', 26)}Info\n`;
  for (const p of rows) {
    const info = [`${p.type}`, `${p.prefixesReceived} imported, ${p.prefixesSent} exported`];
    if (p.gracefulRestart.pending) info.push('GR pending');
    if (p.lastError) info.push(p.lastError);
    out += `${pad(p.name, 24)}${pad(p.address, 26)}${pad(String(p.as), 12)}${pad(p.state, 12)}${pad(p.since, 26)}${info.join('; ')}\n`;
  }
  return out;
}

function protocolsAllText(rows: ProtoAll[]): string {
  let out = '';
  for (const p of rows) {
    const t = p.timers;
    const line = (k: string, v: unknown) => {
      out += `    ${pad(`${k}:`, 20)}${v}\n`;
    };
    out += `${pad(p.name, 16)}BGP   ${pad(p.state, 12)}since ${p.since}\n`;
    out += `  BGP state:          ${p.state}${p.lastError ? ` (last error: ${p.lastError})` : ''}\n`;
    line('Neighbor address', `${p.address}${p.remotePort ? ` port ${p.remotePort}` : ''}`);
    line('Neighbor AS', p.as);
    line('Local AS', p.localAs);
    if (p.routerId) line('Neighbor ID', p.routerId);
    line(
      'Session',
      [
        p.type === 'eBGP' ? 'external' : 'internal',
        p.rrClient ? 'route-reflector client' : '',
        p.passive ? 'passive' : '',
      ]
        .filter(Boolean)
        .join(' '),
    );
    if (p.localAddress)
      line('Source address', `${p.localAddress}${p.localPort ? ` port ${p.localPort}` : ''}`);
    if (p.connection) line('Connection', p.connection);
    if (p.authentication === 'tcp-md5') line('Authentication', 'TCP MD5 (RFC 2385)');
    line(
      'Hold timer',
      t.holdTime === null
        ? `${t.configuredHoldTime} s configured`
        : `${t.holdTime} s (configured ${t.configuredHoldTime} s)`,
    );
    if (t.keepaliveTime !== null) line('Keepalive timer', `${t.keepaliveTime} s`);
    line('Connect retry', `${t.connectRetry} s`);
    if (t.uptimeSeconds !== null) line('Uptime', `${t.uptimeSeconds} s`);
    line('Flaps', t.flaps);
    out += '    Local capabilities\n';
    for (const c of p.capabilities.local) out += `      ${c}\n`;
    out += '    Neighbor capabilities\n';
    for (const c of p.capabilities.neighbor) out += `      ${c}\n`;
    if (!p.capabilities.neighbor.length) out += '      (no OPEN received yet)\n';
    out += '  Routes\n';
    line('Imported', p.routes.imported);
    line(
      'Exported',
      `${p.routes.exported}${p.routes.exportPending ? ` (${p.routes.exportPending} waiting to be sent)` : ''}`,
    );
    if (p.routes.stale) line('Stale', 'yes (graceful restart of the neighbor)');
    out += '  Messages            received      sent\n';
    for (const k of Object.keys(p.messages.received))
      out += `    ${pad(k, 16)}${String(p.messages.received[k]).padStart(10)}${String(p.messages.sent[k]).padStart(10)}\n`;
    line('Collisions', p.collisions);
    if (p.writeQueueBytes) line('Write queue', `${p.writeQueueBytes} bytes`);
    out += '\n';
  }
  return out;
}

function routesTable(rows: RouteView[]): string {
  let out = '';
  for (const r of rows) {
    if (r.paths.length === 0) {
      out += `${r.prefix}  (no route)\n`;
      continue;
    }
    r.paths.forEach((p, i) => {
      const lead = i === 0 ? pad(r.prefix, 22) : ' '.repeat(22);
      const lp = p.localPref !== undefined ? ` lp ${p.localPref}` : '';
      const med = p.med !== undefined ? ` med ${p.med}` : '';
      out += `${lead}via ${p.nextHop} [${p.from}]${p.best ? ' *' : ''}${p.stale ? ' (stale)' : ''} (${p.origin}) [AS ${p.asPath || 'i'}]${lp}${med}\n`;
    });
    if (r.kernel) out += `${' '.repeat(22)}kernel: ${r.kernel}\n`;
  }
  return out;
}

function render(cmd: string, args: string[], result: unknown): string {
  if (cmd === 'show protocols') {
    return args[0] === 'all' ? protocolsAllText(result as ProtoAll[]) : protocolsTable(result as Proto[]);
  }
  if (cmd === 'show route') {
    if (args[0] === 'count') {
      const c = result as {
        routes: number;
        networks: number;
        kernelRoutes: number | null;
        exported: Record<string, number>;
      };
      let out = `${c.routes} routes for ${c.networks} networks\n`;
      if (c.kernelRoutes !== null) out += `${c.kernelRoutes} routes installed in the kernel\n`;
      for (const [name, n] of Object.entries(c.exported)) out += `${pad(name, 24)}${n} exported\n`;
      return out;
    }
    return routesTable(result as RouteView[]);
  }
  let out = '';
  for (const [k, v] of Object.entries(result as Record<string, unknown>))
    out += `${pad(k, 18)}${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}\n`;
  return out;
}

export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (e) {
    process.stderr.write(`tricolor-birdc: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const output = values.json ? 'json' : (values.output ?? 'table');
  if (!['table', 'json', 'yaml'].includes(output)) {
    process.stderr.write(`tricolor-birdc: -o: ${JSON.stringify(output)} is not one of table, json, yaml\n`);
    return 2;
  }
  const c = parseCommand(positionals);
  if (typeof c === 'string') {
    process.stderr.write(`tricolor-birdc: ${c}\n${USAGE}\n`);
    return 2;
  }
  const control = values.control ?? process.env.BIRD_CONTROL ?? '/var/run/tricolor/bird.ctl';
  let result: unknown;
  try {
    result = await query(control, c.cmd, c.args);
  } catch (e) {
    process.stderr.write(`tricolor-birdc: ${(e as Error).message}\n`);
    return 1;
  }
  const text =
    output === 'json'
      ? `${JSON.stringify(result, null, 2)}\n`
      : output === 'yaml'
        ? toYaml(result)
        : render(c.cmd, c.args, result);
  process.stdout.write(text);
  return 0;
}

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      control: { type: 'string', short: 's' },
      output: { type: 'string', short: 'o' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

// A reader that went away (`| head`) ends the output, not with a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
// No process.exit() after writing: it would cut output still queued for a pipe (stdout to a
// pipe is asynchronous); the process ends once everything is written.
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
