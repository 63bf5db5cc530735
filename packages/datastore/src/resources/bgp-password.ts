import { DNS_SUBDOMAIN, type Fields } from './fields.js';

/**
 * A BGP session's TCP MD5 password (RFC 2385; BGPPeer `password`, BGPConfiguration
 * `nodeMeshPassword`): Calico's shape, a reference to a key of a Secret —
 * `{secretKeyRef: {name, key}}`, which tricolor-bird reads from the Secret mounted as files
 * (`<dir>/<name>/<key>`) — or the password itself as a string (at most 80 bytes, the
 * kernel's TCP_MD5SIG_MAXKEYLEN) for setups without Kubernetes Secrets.
 */
export type BGPPassword = string | { secretKeyRef: { name: string; key: string } };

export const BGP_PASSWORD_MAX_BYTES = 80;

/** A Secret's key: what Kubernetes allows ([-._a-zA-Z0-9]+, not "." or "..", not starting with ".."). */
const SECRET_KEY = /^(?!\.\.?$)(?!\.\.)[-._a-zA-Z0-9]{1,253}$/;

export function bgpPassword(f: Fields, path: string): BGPPassword | undefined {
  const v = f.get(path);
  if (typeof v !== 'object' || v === null) {
    const s = f.string(path);
    if (s !== undefined && Buffer.byteLength(s) > BGP_PASSWORD_MAX_BYTES)
      return f.fail(
        path,
        `is ${Buffer.byteLength(s)} bytes; TCP MD5 keys are at most ${BGP_PASSWORD_MAX_BYTES}`,
      );
    return s;
  }
  if (!f.object(path)) return undefined;
  if (!f.object(`${path}.secretKeyRef`, true)) return undefined;
  const name = f.string(`${path}.secretKeyRef.name`, {
    required: true,
    pattern: DNS_SUBDOMAIN,
    patternText: 'a Secret name (lower-case letters, digits, "-" and ".")',
  });
  const key = f.string(`${path}.secretKeyRef.key`, {
    required: true,
    pattern: SECRET_KEY,
    patternText: 'a Secret key (letters, digits, "-", "_" and ".", not starting with "..")',
  });
  return name && key ? { secretKeyRef: { name, key } } : undefined;
}
