/**
 * Where a session's TCP MD5 password (RFC 2385) comes from: a file (`password-file=` of
 * --peer, `passwordFile` in a config file, a Secret mounted as files for etcd mode's
 * `secretKeyRef`) or the text itself. The kernel takes keys of 1 to 80 bytes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BGPPassword } from '@tricolor/datastore';
import { TCP_MD5SIG_MAXKEYLEN } from '../session/tcp-md5.js';
import { BirdConfigError } from './types.js';

/** Where etcd mode finds `secretKeyRef` Secrets: `<dir>/<name>/<key>`, a Secret volume's layout. */
export const DEFAULT_SECRETS_DIR = '/etc/tricolor/bgp-secrets';

export function checkPassword(field: string, password: string): string {
  const n = Buffer.byteLength(password);
  if (n === 0) throw new BirdConfigError(field, 'is empty');
  if (n > TCP_MD5SIG_MAXKEYLEN)
    throw new BirdConfigError(field, `is ${n} bytes; TCP MD5 keys are at most ${TCP_MD5SIG_MAXKEYLEN}`);
  return password;
}

/** A password file's content, without one trailing newline (as `echo` leaves it). */
export function readPasswordFile(field: string, path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new BirdConfigError(field, `cannot read the password: ${(e as Error).message}`);
  }
  return checkPassword(field, text.replace(/\r?\n$/, ''));
}

/** The password of a BGPPeer/BGPConfiguration field: inline, or a Secret's key mounted under `secretsDir`. */
export function resolvePassword(field: string, p: BGPPassword, secretsDir: string): string {
  if (typeof p === 'string') return checkPassword(field, p);
  const { name, key } = p.secretKeyRef;
  return readPasswordFile(`${field}.secretKeyRef`, join(secretsDir, name, key));
}
