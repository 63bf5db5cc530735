/** Checks a SpeakerConfig; errors name the field. */
import { addressFamily, parseNet } from '../policy/prefixes.js';
import { BirdConfigError, type SpeakerConfig } from './types.js';

export const AS_MAX = 4294967295;

export function checkAs(field: string, v: unknown): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > AS_MAX)
    throw new BirdConfigError(field, `AS ${JSON.stringify(v)} is out of range (1..${AS_MAX})`);
  return n;
}

export function validateSpeakerConfig(c: SpeakerConfig): SpeakerConfig {
  if (addressFamily(c.routerId) !== 4)
    throw new BirdConfigError('routerId', `${JSON.stringify(c.routerId)} is not an IPv4 address`);
  checkAs('as', c.localAs);
  if (c.holdTime !== 0 && (c.holdTime < 3 || c.holdTime > 65535))
    throw new BirdConfigError('holdTime', `${c.holdTime} must be 0 or 3..65535 seconds`);
  if (c.clusterId !== undefined && addressFamily(c.clusterId) !== 4)
    throw new BirdConfigError('clusterId', `${JSON.stringify(c.clusterId)} is not a dotted quad`);
  if (c.listen && (c.listen.port < 1 || c.listen.port > 65535 || !addressFamily(c.listen.host)))
    throw new BirdConfigError('listen', `${c.listen.host}:${c.listen.port} is not an address and port`);
  if (!(typeof c.readinessStrictSeconds === 'number' && c.readinessStrictSeconds >= 0))
    throw new BirdConfigError(
      'readinessStrictSeconds',
      `${c.readinessStrictSeconds} must be a number of seconds`,
    );
  c.peers.forEach((p, i) => {
    if (!addressFamily(p.address))
      throw new BirdConfigError(
        `peers[${i}].address`,
        `${JSON.stringify(p.address)} is not an IPv4 or IPv6 address (unknown address family)`,
      );
    if (p.as !== undefined) checkAs(`peers[${i}].as`, p.as);
    if (p.port !== undefined && (p.port < 1 || p.port > 65535))
      throw new BirdConfigError(`peers[${i}].port`, `${p.port} is out of range`);
    for (const f of p.families ?? [])
      if (f !== 'ipv4' && f !== 'ipv6')
        throw new BirdConfigError(
          `peers[${i}].families`,
          `unknown address family ${JSON.stringify(f)} (ipv4, ipv6)`,
        );
  });
  c.exports.forEach((e, i) => {
    if (!parseNet(e)) throw new BirdConfigError(`exports[${i}]`, `${JSON.stringify(e)} is not a CIDR`);
  });
  c.importAllow.forEach((e, i) => {
    if (!parseNet(e)) throw new BirdConfigError(`import[${i}]`, `${JSON.stringify(e)} is not a CIDR`);
  });
  return c;
}
