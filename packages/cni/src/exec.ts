import { execFile } from 'node:child_process';
import { CniCode, CniError } from './errors.js';

/** Runs a command (no shell) and returns stdout; a failure becomes a CniError with its stderr. */
export function exec(
  cmd: string,
  args: string[],
  input?: string,
  code: number = CniCode.NetlinkFailure,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err)
        reject(
          new CniError(code, `${cmd} ${args.join(' ')} failed: ${String(stderr).trim() || err.message}`),
        );
      else resolve(String(stdout));
    });
    // A command that fails at once (nsenter into something that is no namespace) closes its
    // stdin before we write: that EPIPE is not our failure to report, its exit status is.
    child.stdin?.on('error', () => undefined);
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Runs `ip` inside the network namespace at `netnsPath` (a bind-mounted file or /proc/<pid>/ns/net). */
export function ipIn(netnsPath: string, args: string[], input?: string): Promise<string> {
  return exec('nsenter', [`--net=${netnsPath}`, 'ip', ...args], input);
}
