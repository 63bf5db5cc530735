/**
 * Standalone configuration from command-line flags and/or a JSON/YAML file:
 *   tricolor-bird --router-id A --as N --listen ADDR[:PORT] --peer IP[:AS][,passive][,rr-client]...
 *     --export CIDR... [--import CIDR...] [--kernel|--no-kernel] [--control PATH] [--config FILE]
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { Family } from '../session/capabilities.js';
import { BirdConfigError, DEFAULTS, type PeerSpec, type SpeakerConfig } from './types.js';
import { checkAs, validateSpeakerConfig } from './validate.js';

export const USAGE = `usage: tricolor-bird [--config FILE] [--router-id IPv4] [--as N] [--listen ADDR[:PORT]|--no-listen]
  [--peer IP[:AS][,passive][,rr-client][,port=N][,hold=N][,no-gr][,families=ipv4+ipv6] ...]
  [--export CIDR ...] [--import CIDR ...] [--kernel|--no-kernel] [--control PATH]
  [--hold-time S] [--keepalive S] [--connect-retry S] [--no-graceful-restart] [--restart-time S]
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
    else throw new BirdConfigError('--peer', `unknown peer option ${JSON.stringify(o)}`);
  }
  return p;
}

function fromFile(path: string): Partial<SpeakerConfig> & { peers?: PeerSpec[] } {
  const text = readFileSync(path, 'utf8');
  let raw: Record<string, unknown>;
  try {
    raw = (path.endsWith('.json') ? JSON.parse(text) : parseYaml(text)) as Record<string, unknown>;
  } catch (e) {
    throw new BirdConfigError('--config', `${path}: ${(e as Error).message}`);
  }
  const out: Partial<SpeakerConfig> = {};
  for (const [k, v] of Object.entries(raw ?? {})) {
    if (k === 'listen' && typeof v === 'string') out.listen = splitHostPort(v, 179);
    else if (k === 'as') out.localAs = checkAs('as', v);
    else if (k === 'peers' && Array.isArray(v))
      out.peers = v.map((p) => (typeof p === 'string' ? parsePeerFlag(p) : (p as PeerSpec)));
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

export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): ParsedArgs {
  let c: SpeakerConfig = {
    ...DEFAULTS,
    peers: [],
    exports: [],
    importAllow: [],
    gracefulRestart: { ...DEFAULTS.gracefulRestart },
  };
  let standalone = false;
  let restarting: boolean | undefined;
  const need = (i: number, flag: string) => {
    const v = argv[i + 1];
    if (v === undefined) throw new BirdConfigError(flag, 'needs a value');
    return v;
  };
  // The file first, so flags override it.
  const ci = argv.indexOf('--config');
  if (ci >= 0) {
    const f = fromFile(need(ci, '--config'));
    c = { ...c, ...f, gracefulRestart: { ...c.gracefulRestart, ...(f.gracefulRestart ?? {}) } };
    standalone = true;
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    switch (a) {
      case '--config':
        i++;
        break;
      case '--router-id':
        c.routerId = need(i++, a);
        standalone = true;
        break;
      case '--as':
        c.localAs = checkAs(a, need(i++, a));
        break;
      case '--listen':
        c.listen = splitHostPort(need(i++, a), 179);
        break;
      case '--no-listen':
        c.listen = undefined;
        break;
      case '--peer':
        c.peers.push(parsePeerFlag(need(i++, a)));
        standalone = true;
        break;
      case '--export':
        c.exports.push(need(i++, a));
        break;
      case '--import':
        c.importAllow.push(need(i++, a));
        break;
      case '--kernel':
        c.kernel = true;
        break;
      case '--no-kernel':
        c.kernel = false;
        break;
      case '--control':
        c.controlPath = need(i++, a);
        break;
      case '--hold-time':
        c.holdTime = Number(need(i++, a));
        break;
      case '--keepalive':
        c.keepaliveTime = Number(need(i++, a));
        break;
      case '--connect-retry':
        c.connectRetry = Number(need(i++, a));
        break;
      case '--connect-delay':
        c.connectDelay = Number(need(i++, a));
        break;
      case '--no-graceful-restart':
        c.gracefulRestart.enabled = false;
        break;
      case '--restart-time':
        c.gracefulRestart.restartTime = Number(need(i++, a));
        break;
      case '--restarting':
        restarting = true;
        break;
      case '--cluster-id':
        c.clusterId = need(i++, a);
        break;
      case '--next-hop-v4':
        c.nextHopV4 = need(i++, a);
        break;
      case '--next-hop-v6':
        c.nextHopV6 = need(i++, a);
        break;
      case '--reconcile':
        c.kernelReconcileSeconds = Number(need(i++, a));
        break;
      case '--log-level':
        c.logLevel = need(i++, a);
        break;
      default:
        throw new BirdConfigError(a, `unknown flag\n${USAGE}`);
    }
  }
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
  return { config: c, standalone, restarting };
}
