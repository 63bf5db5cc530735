import { type ChildProcess, spawn } from 'node:child_process';
import { lineSplitter } from './run.js';

/**
 * Starts a long-running command (`ip monitor link route`) and hands its output over in
 * batches of complete lines, as they arrive. `onExit` is called when it ends by itself.
 */
export function follow(
  file: string,
  args: readonly string[],
  onLines: (lines: string[]) => void,
  onExit?: (code: number | null) => void,
): { child: ChildProcess; stop(): void } {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  let batch: string[] = [];
  const split = lineSplitter((l) => batch.push(l));
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    split.push(chunk);
    if (!batch.length) return;
    const lines = batch;
    batch = [];
    onLines(lines);
  });
  let stopped = false;
  child.on('error', () => undefined);
  child.on('close', (code) => {
    if (!stopped) onExit?.(code);
  });
  return {
    child,
    stop() {
      stopped = true;
      child.kill('SIGTERM');
    },
  };
}
