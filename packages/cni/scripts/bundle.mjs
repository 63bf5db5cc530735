#!/usr/bin/env node
/**
 * Bundles the compiled plugin (dist/src/main.js) into one file, dist/bundle/tricolor-cni.js:
 * what the installed launcher runs. kubelet starts the plugin once per pod attach and detach,
 * and resolving and reading its modules one by one is a fixed part of every start.
 * Run after `tsc -b` (the package's and the root's `build` do).
 *
 * Left out of the file, loaded from node_modules only if used: the gRPC etcd client (the
 * plugin talks to etcd over HTTP; @tricolor/datastore requires it on a gRPC connect only) and
 * the native netlink addon.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');

await build({
  entryPoints: [join(pkg, 'dist/src/main.js')],
  outfile: join(pkg, 'dist/bundle/tricolor-cni.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  external: ['etcd3', 'cockatiel', '@grpc/*', 'protobufjs', 'netlink'],
  legalComments: 'none',
  logLevel: 'warning',
});
