import { hostname } from 'node:os';
import type { FelixConfiguration, FelixConfigurationSpec, HostPort } from '@tricolor/datastore';
import { canonicalCidr, parseCidr } from '@tricolor/datastore';
import { DEFAULT_SETTINGS, type FelixSettings } from './config-types.js';

export { DEFAULT_SETTINGS, type FelixSettings } from './config-types.js';

export class FelixConfigError extends Error {
  override readonly name = 'FelixConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

/** Settings fixed for the process lifetime (identity, HTTP endpoints). */
export interface StaticConfig {
  nodeName: string;
  /** `autodetect` or an IPv4 address with prefix length. */
  ip: string;
  healthEnabled: boolean;
  healthHost: string;
  healthPort: number;
  metricsEnabled: boolean;
  metricsHost: string;
  metricsPort: number;
  debounceMs: number;
}

export interface EnvConfig {
  static: StaticConfig;
  /** FELIX_* values that override FelixConfiguration. */
  overrides: Partial<FelixSettings>;
}

const PREFIX_RE = /^[a-z0-9]{1,6}$/;
const CHAIN_RE = /^[a-z0-9-]{1,6}$/;

/** `tri` or `tri-` → `tri-`. */
export function normalizeChainPrefix(p: string): string {
  return p.endsWith('-') ? p : `${p}-`;
}

/** "tcp:22,udp:53,179" → host ports; "none" or "" → []. */
export function parseHostPorts(text: string): HostPort[] | string {
  const t = text.trim();
  if (t === '' || t === 'none') return [];
  const out: HostPort[] = [];
  for (const item of t.split(',')) {
    const m = /^(?:(tcp|udp):)?(\d{1,5})$/i.exec(item.trim());
    const port = m ? Number(m[2]) : Number.NaN;
    if (!m || port < 1 || port > 65535)
      return `${JSON.stringify(item.trim())} is not [tcp:|udp:]<port 1-65535>`;
    out.push({ protocol: (m[1]?.toLowerCase() ?? 'tcp') as HostPort['protocol'], port });
  }
  return out;
}

/**
 * Reads NODENAME, IP and FELIX_* variables. Every problem is collected and reported at
 * once, each naming its variable, so an operator fixes the DaemonSet in one go.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): EnvConfig {
  const problems: string[] = [];
  const get = (k: string) => {
    const v = env[k];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const num = (k: string, min: number, max: number, opts: { integer?: boolean } = {}): number | undefined => {
    const v = get(k);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max || (opts.integer && !Number.isInteger(n))) {
      problems.push(
        `${k}: ${JSON.stringify(v)} must be ${opts.integer ? 'an integer' : 'a number'} from ${min} to ${max}`,
      );
      return undefined;
    }
    return n;
  };
  const bool = (k: string, dflt: boolean): boolean => {
    const v = get(k)?.toLowerCase();
    if (v === undefined) return dflt;
    if (['true', '1', 'yes'].includes(v)) return true;
    if (['false', '0', 'no'].includes(v)) return false;
    problems.push(`${k}: ${JSON.stringify(v)} must be true or false`);
    return dflt;
  };
  const oneOf = <T extends string>(k: string, values: readonly T[]): T | undefined => {
    const v = get(k);
    if (v === undefined) return undefined;
    const l = v.toLowerCase() as T;
    if (values.includes(l)) return l;
    problems.push(`${k}: ${JSON.stringify(v)} must be one of ${values.join(', ')}`);
    return undefined;
  };
  const host = (k: string): string => {
    const v = get(k) ?? '127.0.0.1';
    if (!/^[A-Za-z0-9.:-]+$/.test(v)) problems.push(`${k}: ${JSON.stringify(v)} is not a host address`);
    return v;
  };

  const nodeName = get('NODENAME') ?? get('FELIX_FELIXHOSTNAME') ?? hostname();
  if (!/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(nodeName))
    problems.push(`NODENAME: ${JSON.stringify(nodeName)} is not a valid node name (lower-case DNS name)`);
  const ip = get('IP') ?? 'autodetect';
  if (ip !== 'autodetect') {
    const c = parseCidr(ip);
    if (c?.family !== 4 || !ip.includes('/'))
      problems.push(
        `IP: ${JSON.stringify(ip)} must be "autodetect" or an IPv4 address with prefix length (192.168.1.5/24)`,
      );
    else if (canonicalCidr(ip) === undefined) problems.push(`IP: ${JSON.stringify(ip)} is not valid`);
  }

  const o: Partial<FelixSettings> = {};
  const ifp = get('FELIX_INTERFACEPREFIX');
  if (ifp !== undefined) {
    if (PREFIX_RE.test(ifp)) o.interfacePrefix = ifp;
    else
      problems.push(`FELIX_INTERFACEPREFIX: ${JSON.stringify(ifp)} must be 1-6 lower-case letters or digits`);
  }
  const cp = get('FELIX_CHAINPREFIX');
  if (cp !== undefined) {
    if (CHAIN_RE.test(cp)) o.chainPrefix = normalizeChainPrefix(cp);
    else
      problems.push(`FELIX_CHAINPREFIX: ${JSON.stringify(cp)} must be 1-6 lower-case letters, digits or "-"`);
  }
  const set = <K extends keyof FelixSettings>(k: K, v: FelixSettings[K] | undefined) => {
    if (v !== undefined) o[k] = v;
  };
  set('vxlanMTU', num('FELIX_VXLANMTU', 576, 9216, { integer: true }));
  set('ipipMTU', num('FELIX_IPINIPMTU', 576, 9216, { integer: true }));
  set('vxlanVNI', num('FELIX_VXLANVNI', 1, 16777215, { integer: true }));
  set('vxlanPort', num('FELIX_VXLANPORT', 1, 65535, { integer: true }));
  const rr = num('FELIX_ROUTEREFRESHINTERVAL', 0.1, 86400);
  if (rr !== undefined) o.routeRefreshIntervalMs = Math.round(rr * 1000);
  const ir = num('FELIX_IPTABLESREFRESHINTERVAL', 0.1, 86400);
  if (ir !== undefined) o.iptablesRefreshIntervalMs = Math.round(ir * 1000);
  const ri = num('FELIX_REPORTINGINTERVALSECS', 0, 86400);
  if (ri !== undefined) o.reportingIntervalMs = Math.round(ri * 1000);
  for (const [k, field] of [
    ['FELIX_FAILSAFEINBOUNDHOSTPORTS', 'failsafeInboundHostPorts'],
    ['FELIX_FAILSAFEOUTBOUNDHOSTPORTS', 'failsafeOutboundHostPorts'],
  ] as const) {
    const v = env[k];
    if (v === undefined) continue;
    const r = parseHostPorts(v);
    if (typeof r === 'string') problems.push(`${k}: ${r}`);
    else o[field] = r;
  }
  set('iptablesBackend', oneOf('FELIX_IPTABLESBACKEND', ['auto', 'nft', 'legacy'] as const));
  const v6 = get('FELIX_IPV6SUPPORT')?.toLowerCase();
  if (v6 === 'auto') o.ipv6Support = 'auto';
  else if (['true', '1', 'yes'].includes(v6 ?? '')) o.ipv6Support = true;
  else if (['false', '0', 'no'].includes(v6 ?? '')) o.ipv6Support = false;
  else if (v6 !== undefined)
    problems.push(`FELIX_IPV6SUPPORT: ${JSON.stringify(v6)} must be true, false or auto`);
  set('logLevel', oneOf('FELIX_LOGSEVERITYSCREEN', ['debug', 'info', 'warn', 'error'] as const));

  const st: StaticConfig = {
    nodeName,
    ip,
    healthEnabled: bool('FELIX_HEALTHENABLED', true),
    healthHost: host('FELIX_HEALTHHOST'),
    healthPort: num('FELIX_HEALTHPORT', 0, 65535, { integer: true }) ?? 9099,
    metricsEnabled: bool('FELIX_PROMETHEUSMETRICSENABLED', true),
    metricsHost: host('FELIX_PROMETHEUSMETRICSHOST'),
    metricsPort: num('FELIX_PROMETHEUSMETRICSPORT', 0, 65535, { integer: true }) ?? 9091,
    debounceMs: num('FELIX_DEBOUNCEMS', 0, 10_000, { integer: true }) ?? 50,
  };
  if (problems.length) throw new FelixConfigError(problems);
  return { static: st, overrides: o };
}

function fromSpec(spec: FelixConfigurationSpec | undefined): Partial<FelixSettings> {
  if (!spec) return {};
  const o: Partial<FelixSettings> = {};
  if (spec.interfacePrefix) o.interfacePrefix = spec.interfacePrefix;
  if (spec.chainPrefix) o.chainPrefix = normalizeChainPrefix(spec.chainPrefix);
  if (spec.vxlanMTU) o.vxlanMTU = spec.vxlanMTU;
  if (spec.vxlanVNI) o.vxlanVNI = spec.vxlanVNI;
  if (spec.vxlanPort) o.vxlanPort = spec.vxlanPort;
  if (spec.routeRefreshInterval) o.routeRefreshIntervalMs = spec.routeRefreshInterval * 1000;
  if (spec.iptablesRefreshInterval) o.iptablesRefreshIntervalMs = spec.iptablesRefreshInterval * 1000;
  if (spec.reportingInterval !== undefined) o.reportingIntervalMs = spec.reportingInterval * 1000;
  if (spec.failsafeInboundHostPorts) o.failsafeInboundHostPorts = spec.failsafeInboundHostPorts;
  if (spec.failsafeOutboundHostPorts) o.failsafeOutboundHostPorts = spec.failsafeOutboundHostPorts;
  if (spec.iptablesBackend) o.iptablesBackend = spec.iptablesBackend;
  if (spec.ipv6Support !== undefined) o.ipv6Support = spec.ipv6Support;
  if (spec.logSeverityScreen) o.logLevel = spec.logSeverityScreen;
  return o;
}

/** Precedence: FELIX_* env > FelixConfiguration `node.<name>` > `default` > built-in defaults. */
export function resolveSettings(
  overrides: Partial<FelixSettings>,
  configs: Iterable<FelixConfiguration>,
  nodeName: string,
): FelixSettings {
  let dflt: FelixConfiguration | undefined;
  let mine: FelixConfiguration | undefined;
  for (const c of configs) {
    if (c.metadata.name === 'default') dflt = c;
    else if (c.metadata.name === `node.${nodeName}`) mine = c;
  }
  return { ...DEFAULT_SETTINGS, ...fromSpec(dflt?.spec), ...fromSpec(mine?.spec), ...overrides };
}
