/**
 * The plugin's log file (the conflist's `log_file_path`): one JSON line per command, so an
 * operator can see on the node what kubelet asked and what the plugin answered. Never fails a
 * command: a log that cannot be written is skipped.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export function logCommand(path: string | undefined, entry: Record<string, unknown>): void {
  if (!path) return;
  try {
    mkdirSync(dirname(path), { recursive: true });
    appendFileSync(path, `${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`, {
      mode: 0o644,
    });
  } catch {
    // The log is for people; the answer to kubelet matters more.
  }
}
