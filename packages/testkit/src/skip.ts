import { hasCommand, runSync } from './exec.js';

/** What node:test's TestContext offers for skipping, kept structural so any test context fits. */
export interface Skippable {
  skip(message?: string): void;
}

function loudSkip(t: Skippable, why: string): false {
  const message = `SKIPPED (not a pass): ${why}`;
  // Printed to stderr as well as recorded by the runner, so a skip is never silent in CI logs.
  process.stderr.write(`\n*** ${message} ***\n`);
  t.skip(message);
  return false;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Skips the test loudly unless we are root (network namespaces, routes and iptables need it). */
export function requireRoot(t: Skippable): boolean {
  return isRoot() ? true : loudSkip(t, 'this test needs root (network namespaces, routes, iptables)');
}

/** Skips the test loudly unless every command is on PATH. */
export function requireCommands(t: Skippable, ...cmds: string[]): boolean {
  const missing = cmds.filter((c) => !hasCommand(c));
  return missing.length === 0
    ? true
    : loudSkip(t, `missing commands: ${missing.join(', ')} (run scripts/setup.sh)`);
}

const linkKinds = new Map<string, boolean>();

/** True when the kernel can create a link of this kind (ipip, gre, dummy, vxlan, ...). */
export function kernelHasLinkKind(kind: string): boolean {
  const known = linkKinds.get(kind);
  if (known !== undefined) return known;
  // Probe inside a throw-away namespace so the host never sees the device.
  const ns = `tcprobe-${process.pid}-${kind}`;
  let ok = false;
  try {
    runSync('ip', ['netns', 'add', ns]);
    const extra = kind === 'vxlan' ? ['id', '42', 'dstport', '4789'] : [];
    runSync('ip', ['-n', ns, 'link', 'add', 'probe0', 'type', kind, ...extra]);
    ok = true;
  } catch {
    ok = false;
  } finally {
    try {
      runSync('ip', ['netns', 'del', ns]);
    } catch {
      /* was never created */
    }
  }
  linkKinds.set(kind, ok);
  return ok;
}

/** Skips the test loudly unless the kernel supports the link kind. */
export function requireLinkKind(t: Skippable, kind: string): boolean {
  if (!isRoot()) return requireRoot(t);
  return kernelHasLinkKind(kind) ? true : loudSkip(t, `this kernel cannot create '${kind}' devices`);
}
