#!/usr/bin/env node
/**
 * tricolor-birdc [--control PATH] show protocols | show route [PREFIX] | show status [-o json]
 * Read-only: asks the daemon over its Unix control socket.
 */
import { query } from '../control/client.js';
import type { RouteView as Route } from '../speaker.js';

const USAGE =
  'usage: tricolor-birdc [--control PATH] show protocols|show route [PREFIX]|show status [-o json]';

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
  gracefulRestart: { pending: boolean };
}

function pad(s: string, n: number): string {
  return s.length >= n ? `${s} ` : s + ' '.repeat(n - s.length);
}

export async function main(argv: string[]): Promise<number> {
  let control = process.env.BIRD_CONTROL ?? '/var/run/tricolor/bird.ctl';
  let json = false;
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--control' || a === '-s') control = argv[++i] ?? control;
    else if (a === '-o') json = argv[++i] === 'json';
    else if (a === '--json') json = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    } else words.push(a);
  }
  const cmd = words.slice(0, 2).join(' ');
  if (!['show protocols', 'show route', 'show status'].includes(cmd)) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  let result: unknown;
  try {
    result = await query(control, cmd, words.slice(2));
  } catch (e) {
    process.stderr.write(`tricolor-birdc: ${(e as Error).message}\n`);
    return 1;
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  if (cmd === 'show protocols') {
    const rows = result as Proto[];
    process.stdout.write(
      `${pad('Name', 24)}${pad('Neighbor', 26)}${pad('AS', 12)}${pad('State', 12)}${pad('Since', 26)}Info\n`,
    );
    for (const p of rows) {
      const info = [`${p.type}`, `${p.prefixesReceived} imported, ${p.prefixesSent} exported`];
      if (p.gracefulRestart.pending) info.push('GR pending');
      if (p.lastError) info.push(p.lastError);
      process.stdout.write(
        `${pad(p.name, 24)}${pad(p.address, 26)}${pad(String(p.as), 12)}${pad(p.state, 12)}${pad(p.since, 26)}${info.join('; ')}\n`,
      );
    }
  } else if (cmd === 'show route') {
    const rows = result as Route[];
    for (const r of rows) {
      if (r.paths.length === 0) {
        process.stdout.write(`${r.prefix}  (no route)\n`);
        continue;
      }
      r.paths.forEach((p, i) => {
        const lead = i === 0 ? pad(r.prefix, 22) : ' '.repeat(22);
        const lp = p.localPref !== undefined ? ` lp ${p.localPref}` : '';
        process.stdout.write(
          `${lead}via ${p.nextHop} [${p.from}]${p.best ? ' *' : ''}${p.stale ? ' (stale)' : ''} (${p.origin}) [AS ${p.asPath || 'i'}]${lp}\n`,
        );
      });
    }
  } else {
    for (const [k, v] of Object.entries(result as Record<string, unknown>))
      process.stdout.write(`${pad(k, 18)}${typeof v === 'object' ? JSON.stringify(v) : String(v)}\n`);
  }
  return 0;
}

// No process.exit(): it would cut output still queued for a pipe (stdout to a pipe is
// asynchronous); the process ends once everything is written.
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
