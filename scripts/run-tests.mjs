#!/usr/bin/env node
// Runs the compiled tests (dist/test/**/*.test.js) of the given package folders
// with node's built-in test runner; with no arguments, of every workspace.
// Usage: node scripts/run-tests.mjs [dir ...] [-- extra node --test flags]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const split = argv.indexOf('--');
const dirs = (split >= 0 ? argv.slice(0, split) : argv).map((d) => resolve(d));
const extra = split >= 0 ? argv.slice(split + 1) : [];

function workspaces() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  return pkg.workspaces.map((w) => join(root, w)).filter((d) => existsSync(join(d, 'package.json')));
}

function testFiles(dir) {
  const out = [];
  const walk = (d) => {
    if (!existsSync(d)) return;
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.test.js')) out.push(p);
    }
  };
  walk(join(dir, 'dist', 'test'));
  return out;
}

const files = (dirs.length ? dirs : workspaces()).flatMap(testFiles);
if (files.length === 0) {
  console.error('run-tests: no compiled test files found; run `npm run build` first');
  process.exit(1);
}
console.error(`run-tests: ${files.length} test files`);
const result = spawnSync(
  process.execPath,
  ['--test', '--test-timeout=900000', ...extra, ...files.map((f) => relative(process.cwd(), f))],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
