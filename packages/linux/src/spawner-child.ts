/**
 * The helper process of `Spawner`: runs the commands it is sent (node:child_process, as
 * `run()` does) and sends back their output, streamed when asked. Exits with its parent.
 */
import { run } from './run.js';
import type { SpawnReply, SpawnRequest } from './spawner.js';

const reply = (m: SpawnReply) => {
  if (process.connected) process.send?.(m);
};

process.on('message', (req: SpawnRequest) => {
  run(req.file, req.args, {
    allowFail: true,
    ...(req.input !== undefined ? { input: req.input } : {}),
    ...(req.nice ? { nice: req.nice } : {}),
    ...(req.stream ? { onStdout: (chunk: string) => reply({ id: req.id, chunk }) } : {}),
  }).then(
    (r) => reply({ id: req.id, done: true, ...r }),
    (e: Error) => reply({ id: req.id, done: true, stdout: '', stderr: e.message, code: 1, tooLarge: true }),
  );
});
process.on('disconnect', () => process.exit(0));
reply({ ready: true });
