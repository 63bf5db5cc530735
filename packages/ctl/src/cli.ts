// tricolorctl's process entry (bin/tricolorctl.js): runs one command line on this process's
// stdio and exits with its code.
import { run } from './main.js';

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

const code = await run(process.argv.slice(2), {
  env: process.env,
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  readStdin,
});
// Let stdout drain, then exit: the etcd client may hold timers open.
process.stdout.write('', () => process.exit(code));
