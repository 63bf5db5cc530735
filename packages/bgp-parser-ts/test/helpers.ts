import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The monorepo root: the nearest ancestor whose package.json declares workspaces. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && 'workspaces' in JSON.parse(readFileSync(pkg, 'utf8'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('repo root (package.json with "workspaces") not found');
    dir = up;
  }
}

/** The shared test vectors directory; throws (fails the test) when it is missing. */
export function vectorsDir(): string {
  const dir = resolve(repoRoot(), '..', 'shared', 'bgp-vectors');
  if (!existsSync(dir))
    throw new Error(`test vectors missing: ${dir} does not exist — cannot verify the codec`);
  return dir;
}

export interface VectorRow {
  source: string;
  cmd?: string | null;
  hex: string;
  note?: string;
  // biome-ignore lint/suspicious/noExplicitAny: ExaBGP's JSON is checked field by field in the tests
  exabgp?: any;
}

export function loadJsonl(name: string): VectorRow[] {
  const file = join(vectorsDir(), name);
  if (!existsSync(file)) throw new Error(`test vector file missing: ${file}`);
  const rows = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as VectorRow);
  if (rows.length === 0) throw new Error(`test vector file empty: ${file}`);
  return rows;
}

export function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/[\s:]/g, ''), 'hex'));
}

export function toHexString(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
