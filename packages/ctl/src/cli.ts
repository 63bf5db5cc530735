// tricolorctl's process entry (bin/tricolorctl.js): runs one command line on this process's
// stdio and exits with its code.
import { run } from './main.js';

const code = await run(process.argv.slice(2), {
  env: process.env,
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  stdin: process.stdin,
});
// Let stdout drain, then exit: the etcd client may hold timers open.
process.stdout.write('', () => process.exit(code));
