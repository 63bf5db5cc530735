import { formatCidr, parseCidr } from '@tricolor/datastore';
import { CaseError } from './case.js';

const TOKEN = /\$\{([^}]*)\}/g;

/** The value of one address token (FORMAT.md 2.2), or a CaseError for any other `${...}` form. */
function tokenValue(body: string, ips: ReadonlyMap<string, string>, where: string): string {
  const ip = /^podIP:([a-z]\/[a-z])$/.exec(body);
  const cidr = /^podCIDR:([a-z]\/[a-z]):(\d{1,2})$/.exec(body);
  const pod = ip?.[1] ?? cidr?.[1];
  if (!pod)
    throw new CaseError(
      `${where}: "\${${body}}" is not an address token (\${podIP:N/P} or \${podCIDR:N/P:L})`,
    );
  const address = ips.get(pod);
  if (!address) throw new CaseError(`${where}: "\${${body}}" names ${pod}, which is not a pod of the layout`);
  if (ip) return address;
  const len = Number(cidr![2]);
  if (len > 32) throw new CaseError(`${where}: "\${${body}}": prefix length ${len} over 32`);
  return formatCidr(parseCidr(`${address}/${len}`)!);
}

/**
 * A copy of `value` with every address token in its strings replaced by the pods' actual
 * addresses: `${podIP:y/b}` → "10.244.1.7", `${podCIDR:x/b:24}` → "10.244.1.0/24".
 */
export function substituteTokens<T>(value: T, ips: ReadonlyMap<string, string>, where = 'value'): T {
  if (typeof value === 'string')
    return value.replace(TOKEN, (_, body: string) => tokenValue(body, ips, where)) as T;
  if (Array.isArray(value)) return value.map((v, i) => substituteTokens(v, ips, `${where}[${i}]`)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteTokens(v, ips, `${where}.${k}`);
    return out as T;
  }
  return value;
}
