import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, found from this compiled file (e2e/dist/src/paths.js). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const BINARIES = {
  // The daemons' bins, which the image's launchers run (see nodeCommand).
  felix: join(REPO_ROOT, 'packages/felix/bin/tricolor-felix.js'),
  bird: join(REPO_ROOT, 'packages/bird/bin/tricolor-bird.js'),
  node: join(REPO_ROOT, 'packages/node/bin/tricolor-node.js'),
  birdc: join(REPO_ROOT, 'packages/bird/dist/src/cli/birdc.js'),
  cni: join(REPO_ROOT, 'packages/cni/dist/bundle/tricolor-cni.js'),
  ctl: join(REPO_ROOT, 'packages/ctl/dist/src/cli.js'),
  kubeControllers: join(REPO_ROOT, 'packages/kube-controllers/dist/src/main.js'),
};

/**
 * `node FLAGS BIN`, as the image's launcher runs a bin (images/node/layout.sh): the Node.js
 * flags of its `#!/usr/bin/env -S node FLAGS` line, with this process's Node.js binary.
 */
export function nodeCommand(bin: string): string[] {
  const first = readFileSync(bin, 'utf8').split('\n', 1)[0] ?? '';
  const flags = /^#!\/usr\/bin\/env -S node (.+)$/.exec(first)?.[1]?.split(' ') ?? [];
  return [process.execPath, ...flags, bin];
}
