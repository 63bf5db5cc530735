import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The directory a peer keeps its config, sockets and pid file in: the caller's `dir` (left in
 * place), or a fresh temp dir that `remove()` deletes.
 */
export function scratchDir(dir: string | undefined, hint: string): { dir: string; remove(): void } {
  if (dir) return { dir, remove: () => undefined };
  const own = mkdtempSync(join(tmpdir(), `tk-${hint}-`));
  return { dir: own, remove: () => rmSync(own, { recursive: true, force: true }) };
}

/** Writes `text` to `dir/name` and returns the path. */
export function writeIn(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
