import { execa } from 'execa';

export interface CmdResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a command (no shell) and returns its output; throws with stderr on a non-zero exit unless allowFail. */
export async function cmd(
  file: string,
  args: string[],
  opts: { input?: string; allowFail?: boolean } = {},
): Promise<CmdResult> {
  const r = await execa(file, args, {
    input: opts.input,
    reject: false,
    stripFinalNewline: false,
    maxBuffer: 512 * 1024 * 1024,
  });
  const res = { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), code: r.exitCode ?? 1 };
  if (res.code !== 0 && !opts.allowFail) {
    const err = new Error(
      `${file} ${args.join(' ')} exited ${res.code}: ${res.stderr.trim().slice(0, 2000)}`,
    );
    throw Object.assign(err, res);
  }
  return res;
}

/** `ip -json …`, parsed. */
export async function ipJson<T>(args: string[]): Promise<T[]> {
  const { stdout } = await cmd('ip', ['-json', ...args]);
  const text = stdout.trim();
  return text ? (JSON.parse(text) as T[]) : [];
}
