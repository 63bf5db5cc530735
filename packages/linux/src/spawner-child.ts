/**
 * The helper process of `Spawner`: runs the commands it is sent (node:child_process, as
 * `run()` does) and sends back their output, streamed when asked. Exits with its parent.
 */
import { setPriority } from 'node:os';
import { run } from './run.js';
import type { SpawnReply, SpawnRequest } from './spawner.js';

const reply = (m: SpawnReply) => {
  if (process.connected) process.send?.(m);
};

// Lower priority for this helper and every command it starts (inherited on fork).
const nice = Number(process.argv[2] ?? 0);
if (nice)
  try {
    setPriority(nice);
  } catch {
    // not allowed: commands run at the caller's priority
  }

process.on('message', (req: SpawnRequest) => {
  run(req.file, req.args, {
    allowFail: true,
    ...(req.input !== undefined ? { input: req.input } : {}),
    ...(req.stream ? { onStdout: (chunk: string) => reply({ id: req.id, chunk }) } : {}),
  }).then(
    (r) => reply({ id: req.id, done: true, ...r }),
    (e: Error) => reply({ id: req.id, done: true, stdout: '', stderr: e.message, code: 1, tooLarge: true }),
  );
});
process.on('disconnect', () => process.exit(0));
reply({ ready: true });
