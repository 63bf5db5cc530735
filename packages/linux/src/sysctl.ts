import { readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** The file of a sysctl key (`net/ipv4/ip_forward` → `/proc/sys/net/ipv4/ip_forward`). */
export const sysctlPath = (key: string) => `/proc/sys/${key}`;

/** Reads one sysctl; undefined when it does not exist (e.g. its interface is gone). */
export function readSysctl(key: string): string | undefined {
  try {
    return readFileSync(sysctlPath(key), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** `readSysctl` without blocking the event loop (for re-reading thousands in the background). */
export function readSysctlAsync(key: string): Promise<string | undefined> {
  return readFile(sysctlPath(key), 'utf8').then(
    (v) => v.trim(),
    () => undefined,
  );
}

/**
 * Writes one sysctl straight into /proc/sys (no process per value). Throws the file
 * system's error: ENOENT when the key does not exist (its interface is not there yet).
 */
export function writeSysctl(key: string, value: string): void {
  writeFileSync(sysctlPath(key), value);
}
