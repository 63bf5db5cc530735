import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { type RunResult, run } from '@tricolor/testkit';

/** The compiled binary, run exactly as an operator would: node dist/src/cli.js … */
export const MAIN = fileURLToPath(new URL('../src/cli.js', import.meta.url));

export const uniquePrefix = () => `/t-${randomUUID().slice(0, 8)}/`;

export function ctl(endpoint: string, prefix: string, args: string[], input?: string): Promise<RunResult> {
  return run(process.execPath, [MAIN, ...args], {
    allowFail: true,
    input,
    env: { ...process.env, ETCD_ENDPOINTS: endpoint, TRICOLOR_DATASTORE_PREFIX: prefix },
  });
}
