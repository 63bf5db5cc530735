import { destination, type Logger, pino } from 'pino';
import type { FelixMetrics } from './metrics.js';

/** What felix keeps of its log output while the output cannot take it (then it drops and counts). */
export const LOG_BUFFER_BYTES = 1 << 20;

/**
 * felix's logger: pino JSON lines written synchronously to `fd` (stdout). A write that fails
 * (a full disk under the log file, a closed pipe) is counted in `felix_log_errors` and
 * retried with the next line instead of ending the process; while the output keeps failing,
 * at most `LOG_BUFFER_BYTES` wait, and further lines are dropped and counted in
 * `felix_logs_dropped` (Calico's names and meanings).
 */
export function felixLogger(
  opts: { level: string; node: string; fd?: number },
  metrics: Pick<FelixMetrics, 'logErrors' | 'logsDropped'>,
): Logger {
  const dest = destination({ fd: opts.fd ?? 1, sync: true, maxLength: LOG_BUFFER_BYTES });
  dest.on('error', () => metrics.logErrors.inc());
  dest.on('drop', () => metrics.logsDropped.inc());
  return pino({ name: 'felix', level: opts.level, base: { node: opts.node } }, dest);
}
