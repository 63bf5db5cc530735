import { run, runSync } from './exec.js';

/**
 * Network namespaces owned by this test process. Names carry a per-run tag so that
 * cleanup only ever deletes what this run created, never another run's or the operator's.
 */
const runTag = `tc${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
const owned = new Set<string>();
let counter = 0;
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  const cleanup = () => {
    for (const ns of owned) {
      try {
        runSync('ip', ['netns', 'del', ns]);
      } catch {
        /* already gone */
      }
    }
    owned.clear();
  };
  process.once('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      cleanup();
      process.exit(130);
    });
  }
}

/** A unique name for a namespace, veth or bridge of this run, at most 15 characters. */
export function uniqueName(hint: string): string {
  counter += 1;
  return `${hint.slice(0, 4)}${runTag.slice(-6)}${counter.toString(36)}`.slice(0, 15);
}

export class Netns {
  private constructor(readonly name: string) {}

  /** Creates a namespace with loopback up; it is deleted at process exit if not before. */
  static async create(hint = 'ns'): Promise<Netns> {
    hookExit();
    const name = `${runTag}-${hint}-${++counter}`;
    await run('ip', ['netns', 'add', name]);
    owned.add(name);
    const ns = new Netns(name);
    await ns.exec('ip', ['link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Runs a command inside the namespace. */
  exec(
    cmd: string,
    args: string[],
    opts: { input?: string; allowFail?: boolean; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
  ) {
    return run('ip', ['netns', 'exec', this.name, cmd, ...args], opts);
  }

  /** `ip -json <args>` inside the namespace, parsed. */
  async ipJson<T = unknown>(args: string[]): Promise<T> {
    const { stdout } = await this.exec('ip', ['-json', ...args]);
    return (stdout.trim() ? JSON.parse(stdout) : []) as T;
  }

  /** Leaves the namespace in place when this process exits (for `demo --keep`). */
  keep(): void {
    owned.delete(this.name);
  }

  /** A handle on an existing namespace (e.g. one kept by an earlier run), to exec in or delete. */
  static adopt(name: string): Netns {
    return new Netns(name);
  }

  async destroy(): Promise<void> {
    if (!owned.has(this.name)) {
      await run('ip', ['netns', 'del', this.name], { allowFail: true });
      return;
    }
    owned.delete(this.name);
    await run('ip', ['netns', 'del', this.name], { allowFail: true });
  }
}

/**
 * Connects two namespaces with a veth pair and gives each end its addresses (CIDR notation;
 * one or several, IPv6 ones without duplicate address detection so they are usable at once).
 * Returns the interface names used on each side.
 */
export async function connectVeth(
  a: Netns,
  aAddr: string | string[],
  b: Netns,
  bAddr: string | string[],
  names: { a?: string; b?: string } = {},
): Promise<{ aIf: string; bIf: string }> {
  const aIf = names.a ?? 'eth0';
  const bIf = names.b ?? 'eth0';
  const tmpA = uniqueName('va');
  const tmpB = uniqueName('vb');
  await run('ip', ['link', 'add', tmpA, 'type', 'veth', 'peer', 'name', tmpB]);
  await run('ip', ['link', 'set', tmpA, 'netns', a.name]);
  await run('ip', ['link', 'set', tmpB, 'netns', b.name]);
  await a.exec('ip', ['link', 'set', tmpA, 'name', aIf]);
  await b.exec('ip', ['link', 'set', tmpB, 'name', bIf]);
  await addAddresses(a, aIf, aAddr);
  await addAddresses(b, bIf, bAddr);
  await a.exec('ip', ['link', 'set', aIf, 'up']);
  await b.exec('ip', ['link', 'set', bIf, 'up']);
  return { aIf, bIf };
}

async function addAddresses(ns: Netns, ifname: string, addrs: string | string[]): Promise<void> {
  for (const addr of typeof addrs === 'string' ? [addrs] : addrs) {
    await ns.exec('ip', ['addr', 'add', addr, 'dev', ifname, ...(addr.includes(':') ? ['nodad'] : [])]);
  }
}

/**
 * One L2 segment: a bridge living in its own namespace, with each member namespace
 * attached by a veth whose inner end is `ifname` with the given address.
 */
export class Segment {
  private constructor(
    readonly hub: Netns,
    readonly bridge: string,
  ) {}

  static async create(hint = 'lan'): Promise<Segment> {
    const hub = await Netns.create(hint);
    const bridge = 'br0';
    await hub.exec('ip', ['link', 'add', bridge, 'type', 'bridge']);
    await hub.exec('ip', ['link', 'set', bridge, 'up']);
    return new Segment(hub, bridge);
  }

  /** Gives the bridge itself an address, so members can use it as their default gateway. */
  async setGateway(address: string): Promise<void> {
    await this.hub.exec('ip', ['addr', 'add', address, 'dev', this.bridge]);
  }

  async attach(ns: Netns, address: string, ifname = 'eth0'): Promise<void> {
    const outer = uniqueName('br');
    const inner = uniqueName('in');
    await run('ip', ['link', 'add', outer, 'type', 'veth', 'peer', 'name', inner]);
    await run('ip', ['link', 'set', outer, 'netns', this.hub.name]);
    await run('ip', ['link', 'set', inner, 'netns', ns.name]);
    await this.hub.exec('ip', ['link', 'set', outer, 'master', this.bridge, 'up']);
    await ns.exec('ip', ['link', 'set', inner, 'name', ifname]);
    await ns.exec('ip', ['addr', 'add', address, 'dev', ifname]);
    await ns.exec('ip', ['link', 'set', ifname, 'up']);
  }

  destroy(): Promise<void> {
    return this.hub.destroy();
  }
}

/** The namespaces this process still owns (for assertions that a test cleaned up). */
export function ownedNamespaces(): string[] {
  return [...owned];
}
