import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The vendored third-party vectors (test/vectors, see its README); throws when missing. */
export function vectorsDir(): string {
  const dir = fileURLToPath(new URL('../../test/vectors', import.meta.url));
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
