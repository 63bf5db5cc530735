import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, found from this compiled file (e2e/dist/src/paths.js). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const BINARIES = {
  felix: join(REPO_ROOT, 'packages/felix/dist/src/cli/main.js'),
  bird: join(REPO_ROOT, 'packages/bird/dist/src/cli/bird.js'),
  node: join(REPO_ROOT, 'packages/node/dist/src/main.js'),
  birdc: join(REPO_ROOT, 'packages/bird/dist/src/cli/birdc.js'),
  cni: join(REPO_ROOT, 'packages/cni/dist/bundle/tricolor-cni.js'),
  ctl: join(REPO_ROOT, 'packages/ctl/dist/src/cli.js'),
  kubeControllers: join(REPO_ROOT, 'packages/kube-controllers/dist/src/main.js'),
};
