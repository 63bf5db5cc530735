/**
 * Standalone configuration from command-line flags and/or a JSON/YAML file:
 *   tricolor-bird --router-id A --as N --listen ADDR[:PORT] --peer IP[:AS][,passive][,rr-client]...
 *     --export CIDR... [--import CIDR...] [--kernel|--no-kernel] [--control PATH] [--config FILE]
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs as parseOptions } from 'node:util';
import type { Family } from '../session/capabilities.js';
import { checkPassword, readPasswordFile } from './password.js';
import { BirdConfigError, DEFAULTS, type PeerSpec, type SpeakerConfig } from './types.js';
import { checkAs, validateSpeakerConfig } from './validate.js';

export const USAGE = `usage: tricolor-bird [--config FILE] [--router-id IPv4] [--as N] [--listen ADDR[:PORT]|--no-listen]
  [--peer IP[:AS][,passive][,rr-client][,port=N][,hold=N][,no-gr][,families=ipv4+ipv6][,password-file=PATH] ...]
  [--export CIDR ...] [--import CIDR ...] [--kernel|--no-kernel] [--control PATH]
  [--hold-time S] [--keepalive S] [--connect-retry S] [--connect-delay S] [--readiness-strict S] [--no-graceful-restart] [--restart-time S]
  [--cluster-id A.B.C.D] [--next-hop-v6 IP] [--log-level L]
  without --router-id/--peer flags and with ETCD_ENDPOINTS set, peers and exports come from etcd.`;

/** "1.2.3.4", "1.2.3.4:179", "[2001:db8::1]:179", "2001:db8::1". */
export function splitHostPort(s: string, defPort: number): { host: string; port: number } {
  const b = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (b) return { host: b[1]!, port: b[2] ? Number(b[2]) : defPort };
  const v4 = /^([\d.]+):(\d+)$/.exec(s);
  if (v4) return { host: v4[1]!, port: Number(v4[2]) };
  return { host: s, port: defPort };
}

const PEER_KEYS = new Set([
  'address',
  'port',
  'as',
  'passive',
  'name',
  'rrClient',
  'holdTime',
  'keepaliveTime',
  'gracefulRestart',
  'families',
  'localAddress',
  'password',
  'passwordFile',
]);

/** A peer given as an object in a config file: known keys only. */
function peerObject(p: unknown, i: number): PeerSpec {
  if (typeof p !== 'object' || p === null || Array.isArray(p))
    throw new BirdConfigError(`peers[${i}]`, 'must be "ADDRESS[:AS][,option...]" or an object');
  for (const k of Object.keys(p))
    if (!PEER_KEYS.has(k))
      throw new BirdConfigError(`peers[${i}].${k}`, `unknown peer key (known: ${[...PEER_KEYS].join(', ')})`);
  const { passwordFile, ...spec } = p as PeerSpec & { passwordFile?: unknown };
  if (passwordFile !== undefined && spec.password !== undefined)
    throw new BirdConfigError(`peers[${i}].passwordFile`, 'cannot be given together with password');
  if (passwordFile !== undefined) {
    if (typeof passwordFile !== 'string')
      throw new BirdConfigError(`peers[${i}].passwordFile`, 'must be a path');
    spec.password = readPasswordFile(`peers[${i}].passwordFile`, passwordFile);
  } else if (spec.password !== undefined) {
    if (typeof spec.password !== 'string')
      throw new BirdConfigError(`peers[${i}].password`, 'must be a string');
    checkPassword(`peers[${i}].password`, spec.password);
  }
  return spec;
}

/** Parses a --peer value. */
export function parsePeerFlag(v: string): PeerSpec {
  const [head, ...opts] = v.split(',');
  let address = head!;
  let as: number | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(head!);
  if (bracket) {
    address = bracket[1]!;
    if (bracket[2]) as = checkAs('--peer', bracket[2]);
  } else if (!head!.includes('::') && (head!.match(/:/g) ?? []).length === 1) {
    const [a, n] = head!.split(':');
    address = a!;
    as = checkAs('--peer', n);
  }
  const p: PeerSpec = { address };
  if (as !== undefined) p.as = as;
  for (const o of opts) {
    const [k, val] = o.split('=');
    if (k === 'passive') p.passive = true;
    else if (k === 'active') p.passive = false;
    else if (k === 'rr-client') p.rrClient = true;
    else if (k === 'no-gr') p.gracefulRestart = false;
    else if (k === 'port') p.port = Number(val);
    else if (k === 'hold') p.holdTime = Number(val);
    else if (k === 'name') p.name = val;
    else if (k === 'families') p.families = (val ?? '').split('+') as Family[];
    else if (k === 'local') p.localAddress = val;
    // From a file only: a command line is readable by every user of the host.
    else if (k === 'password-file') p.password = readPasswordFile('--peer password-file', val ?? '');
    else throw new BirdConfigError('--peer', `unknown peer option ${JSON.stringify(o)}`);
  }
  return p;
}

function fromFile(path: string): Partial<SpeakerConfig> & { peers?: PeerSpec[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new BirdConfigError('--config', `${path}: ${(e as Error).message}`);
  }
  let raw: Record<string, unknown>;
  try {
    // yaml is loaded only for YAML files.
    raw = (
      path.endsWith('.json') ? JSON.parse(text) : createRequire(import.meta.url)('yaml').parse(text)
    ) as Record<string, unknown>;
  } catch (e) {
    throw new BirdConfigError('--config', `${path}: ${(e as Error).message}`);
  }
  const out: Partial<SpeakerConfig> = {};
  for (const [k, v] of Object.entries(raw ?? {})) {
    if (k === 'listen' && typeof v === 'string') out.listen = splitHostPort(v, 179);
    else if (k === 'as') out.localAs = checkAs('as', v);
    else if (k === 'peers' && Array.isArray(v))
      out.peers = v.map((p, i) => (typeof p === 'string' ? parsePeerFlag(p) : peerObject(p, i)));
    else if (k === 'import') out.importAllow = v as string[];
    else if (k in DEFAULTS) (out as Record<string, unknown>)[k] = v;
    else throw new BirdConfigError(k, 'unknown configuration key');
  }
  return out;
}

export interface ParsedArgs {
  config: SpeakerConfig;
  /** true when peers/exports were given (standalone); false means etcd mode. */
  standalone: boolean;
  restarting: boolean | undefined;
}

const OPTIONS = {
  config: { type: 'string' },
  'router-id': { type: 'string' },
  as: { type: 'string' },
  listen: { type: 'string' },
  'no-listen': { type: 'boolean' },
  peer: { type: 'string', multiple: true },
  export: { type: 'string', multiple: true },
  import: { type: 'string', multiple: true },
  kernel: { type: 'boolean' },
  control: { type: 'string' },
  'hold-time': { type: 'string' },
  keepalive: { type: 'string' },
  'connect-retry': { type: 'string' },
  'connect-delay': { type: 'string' },
  'readiness-strict': { type: 'string' },
  'graceful-restart': { type: 'boolean' },
  'restart-time': { type: 'string' },
  restarting: { type: 'boolean' },
  'cluster-id': { type: 'string' },
  'next-hop-v4': { type: 'string' },
  'next-hop-v6': { type: 'string' },
  reconcile: { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A number of seconds given to a flag: a non-negative number, else a clear error. */
function seconds(flag: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new BirdConfigError(flag, `${JSON.stringify(v)} is not a number of seconds`);
  return n;
}

/** `--help` asked for: the caller prints USAGE. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('-h') || argv.includes('--help');
}

export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): ParsedArgs {
  const { values } = (() => {
    try {
      return parseOptions({ args: [...argv], options: OPTIONS, allowNegative: true, strict: true });
    } catch (e) {
      const m = /'(-[^']+)'/.exec((e as Error).message);
      throw new BirdConfigError(m?.[1] ?? 'arguments', `${(e as Error).message}\n${USAGE}`);
    }
  })();
  let c: SpeakerConfig = {
    ...DEFAULTS,
    peers: [],
    exports: [],
    importAllow: [],
    gracefulRestart: { ...DEFAULTS.gracefulRestart },
  };
  let standalone = false;
  // The file first, so flags override it.
  if (values.config !== undefined) {
    const f = fromFile(values.config);
    c = { ...c, ...f, gracefulRestart: { ...c.gracefulRestart, ...(f.gracefulRestart ?? {}) } };
    standalone = true;
  }
  const v = values as Record<string, string | boolean | string[] | undefined>;
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  if (str('router-id') !== undefined) {
    c.routerId = str('router-id')!;
    standalone = true;
  }
  if (str('as') !== undefined) c.localAs = checkAs('--as', str('as'));
  if (v['no-listen']) c.listen = undefined;
  else if (str('listen') !== undefined) c.listen = splitHostPort(str('listen')!, 179);
  if (values.peer) {
    c.peers = [...c.peers, ...values.peer.map(parsePeerFlag)];
    standalone = true;
  }
  if (values.export) c.exports = [...c.exports, ...values.export];
  if (values.import) c.importAllow = [...c.importAllow, ...values.import];
  if (values.kernel !== undefined) c.kernel = values.kernel;
  // The socket tricolor-birdc finds through the same variable.
  if (str('control') !== undefined) c.controlPath = str('control');
  else if (env.BIRD_CONTROL) c.controlPath = env.BIRD_CONTROL;
  if (str('hold-time') !== undefined) c.holdTime = seconds('--hold-time', str('hold-time')!);
  if (str('keepalive') !== undefined) c.keepaliveTime = seconds('--keepalive', str('keepalive')!);
  if (str('connect-retry') !== undefined) c.connectRetry = seconds('--connect-retry', str('connect-retry')!);
  if (str('connect-delay') !== undefined) c.connectDelay = seconds('--connect-delay', str('connect-delay')!);
  if (str('readiness-strict') !== undefined)
    c.readinessStrictSeconds = seconds('--readiness-strict', str('readiness-strict')!);
  if (values['graceful-restart'] === false) c.gracefulRestart.enabled = false;
  if (str('restart-time') !== undefined)
    c.gracefulRestart.restartTime = seconds('--restart-time', str('restart-time')!);
  if (str('cluster-id') !== undefined) c.clusterId = str('cluster-id');
  if (str('next-hop-v4') !== undefined) c.nextHopV4 = str('next-hop-v4');
  if (str('next-hop-v6') !== undefined) c.nextHopV6 = str('next-hop-v6');
  if (str('reconcile') !== undefined) c.kernelReconcileSeconds = seconds('--reconcile', str('reconcile')!);
  if (str('log-level') !== undefined) c.logLevel = str('log-level')!;
  const hp = (h: string | undefined, p: string | undefined, defPort: number) =>
    h || p ? { host: h || '127.0.0.1', port: p ? Number(p) : defPort } : undefined;
  c.health = hp(env.BIRD_HEALTHHOST, env.BIRD_HEALTHPORT, 9098) ?? c.health;
  c.metrics = hp(env.BIRD_METRICSHOST, env.BIRD_METRICSPORT, 9092) ?? c.metrics;
  if (!standalone) {
    // The DaemonSet mode always serves its probes and metrics (DESIGN.md: loopback unless
    // the operator chooses an address); standalone runs opt in with the same variables.
    c.health ??= { host: '127.0.0.1', port: 9098 };
    c.metrics ??= { host: '127.0.0.1', port: 9092 };
  }
  if (env.BIRD_LOGLEVEL) c.logLevel = env.BIRD_LOGLEVEL;
  if (standalone) validateSpeakerConfig(c);
  return { config: c, standalone, restarting: values.restarting };
}
