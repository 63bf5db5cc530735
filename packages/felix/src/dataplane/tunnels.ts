import type { DeltaTracker } from '../tracker/delta-tracker.js';
import { writePending } from './batch.js';
import {
  type FdbEntry,
  fdbKey,
  type LinkObservation,
  type LinkState,
  type TunnelDevice,
  type VxlanDevice,
} from './items.js';
import type { KernelIO } from './kernel-io.js';

/**
 * Commands (each an `ip` argv) that make the VXLAN device match: recreate it when its
 * identity (VNI, port, source) differs, then MAC, MTU, up, and exactly the tunnel address.
 */
export function vxlanCommands(
  cur: LinkState | undefined,
  want: Omit<VxlanDevice, 'kind'>,
  underlay: { name: string; mtu: number } | undefined,
): string[][] {
  const out: string[][] = [];
  const mtu = want.mtu ?? (underlay ? underlay.mtu - 50 : 1450);
  let c = cur;
  if (c && (c.kind !== 'vxlan' || c.vni !== want.vni || c.port !== want.port || c.local !== want.localIP)) {
    out.push(['link', 'del', want.name]);
    c = undefined;
  }
  if (!c) {
    const add = ['link', 'add', want.name, 'address', want.mac, 'type', 'vxlan', 'id', String(want.vni)];
    add.push('local', want.localIP, 'dstport', String(want.port), 'nolearning');
    if (underlay) add.push('dev', underlay.name);
    out.push(add);
  } else if (c.mac !== want.mac) {
    out.push(['link', 'set', want.name, 'address', want.mac]);
  }
  if (!c || c.mtu !== mtu) out.push(['link', 'set', want.name, 'mtu', String(mtu)]);
  if (!c?.up) out.push(['link', 'set', want.name, 'up']);
  const wantAddr = want.address ? `${want.address}/32` : undefined;
  for (const a of c?.addresses ?? []) if (a !== wantAddr) out.push(['addr', 'del', a, 'dev', want.name]);
  if (wantAddr && !c?.addresses.includes(wantAddr)) out.push(['addr', 'replace', wantAddr, 'dev', want.name]);
  return out;
}

/** Commands for tunl0 (IPIP): it exists once the ipip module is loaded; felix sets MTU, up and address. */
export function ipipCommands(
  cur: LinkState | undefined,
  want: { device?: string; address?: string; mtu?: number },
  underlay: { mtu: number } | undefined,
): string[][] {
  const dev = want.device ?? 'tunl0';
  const out: string[][] = [];
  const mtu = want.mtu ?? (underlay ? underlay.mtu - 20 : 1480);
  if (!cur) out.push(['link', 'add', 'name', dev, 'type', 'ipip']);
  if (!cur || cur.mtu !== mtu) out.push(['link', 'set', dev, 'mtu', String(mtu)]);
  if (!cur?.up) out.push(['link', 'set', dev, 'up']);
  const wantAddr = want.address ? `${want.address}/32` : undefined;
  for (const a of cur?.addresses ?? []) if (a !== wantAddr) out.push(['addr', 'del', a, 'dev', dev]);
  if (wantAddr && !cur?.addresses.includes(wantAddr)) out.push(['addr', 'replace', wantAddr, 'dev', dev]);
  return out;
}

function commandsFor(
  d: TunnelDevice,
  obs: LinkObservation | undefined,
  underlay: LinkObservation['underlay'],
) {
  return d.kind === 'vxlan' ? vxlanCommands(obs?.link, d, underlay) : ipipCommands(obs?.link, d, underlay);
}

/** A device is as wanted when no command is left to run on it. */
export function tunnelInSync(d: TunnelDevice, obs: LinkObservation): boolean {
  return commandsFor(d, obs, obs.underlay).length === 0;
}

interface ForgetsOnDevice {
  forgetDataplane(which: (k: string, p: { dev?: string }) => boolean): void;
}

/** The trackers whose items live on a tunnel device and go with it. */
export interface OnDevice {
  routes: ForgetsOnDevice;
  neighbors: ForgetsOnDevice;
  fdb: ForgetsOnDevice;
}

/**
 * The tunnel devices (vxlan.tricolor; tunl0 where the kernel has ipip) and the VXLAN
 * device's FDB. Only what is pending costs a process: a steady apply runs none.
 */
export class TunnelDriver {
  /** The kernel cannot create tunl0 (no ipip module): not tried again until the next read. */
  ipipUnsupported = false;

  constructor(
    private readonly t: DeltaTracker<string, TunnelDevice, LinkObservation>,
    private readonly fdb: DeltaTracker<string, FdbEntry>,
    private readonly on: OnDevice,
    private readonly io: KernelIO,
    private readonly vxlanDevice: string,
  ) {}

  private async observe(name: string, localIP: string | undefined): Promise<LinkObservation | undefined> {
    const link = await this.io.readLink(name);
    if (!link) return undefined;
    const underlay = localIP ? await this.io.underlayFor(localIP) : undefined;
    return underlay ? { link, underlay } : { link };
  }

  /** Reads the devices felix wants or owns, and the VXLAN device's FDB. */
  async read(): Promise<void> {
    this.ipipUnsupported = false;
    await Promise.all([
      this.t.resync(async () => {
        const names = new Set([...this.t.desired.keys(), this.vxlanDevice]);
        const out: [string, LinkObservation][] = [];
        for (const name of names) {
          const obs = await this.observe(name, this.t.desired.get(name)?.localIP);
          if (obs) out.push([name, obs]);
        }
        return out;
      }),
      this.fdb.resync(async () =>
        (await this.io.readFdb(this.vxlanDevice)).map((f) => [fdbKey(f), f] as const),
      ),
    ]);
  }

  /** Everything on a device the kernel just removed or created afresh is gone with it. */
  private gone(dev: string): void {
    this.on.routes.forgetDataplane((_k, r) => r.dev === dev);
    this.on.neighbors.forgetDataplane((_k, n) => n.dev === dev);
    this.on.fdb.forgetDataplane((_k, f) => f.dev === dev);
  }

  async apply(): Promise<{ commands: number }> {
    if (!this.t.synced || !this.fdb.synced) await this.read();
    let commands = 0;
    for (const [name] of this.t.pendingDeletes()) {
      commands++;
      const r = await this.io.ip(['link', 'del', name]);
      if (r.code !== 0 && this.io.linkExists(name))
        throw new Error(`ip link del ${name}: ${r.stderr.trim()}`);
      this.t.removed(name);
      this.gone(name);
    }
    for (const [name, d] of this.t.pendingSets()) {
      if (d.kind === 'ipip' && this.ipipUnsupported) continue;
      const obs = this.t.dataplane.get(name);
      const underlay = obs?.underlay ?? (d.localIP ? await this.io.underlayFor(d.localIP) : undefined);
      const cmds = commandsFor(d, obs, underlay);
      for (const c of cmds) {
        commands++;
        const r = await this.io.ip(c);
        if (r.code === 0) continue;
        if (d.kind === 'ipip') {
          this.ipipUnsupported = true;
          break;
        }
        this.t.invalidate();
        throw new Error(`ip ${c.join(' ')}: ${r.stderr.trim()}`);
      }
      if (cmds.some((c) => c[0] === 'link' && (c[1] === 'add' || c[1] === 'del'))) this.gone(name);
      const now = await this.observe(name, d.localIP);
      if (now) this.t.wrote(name, now);
    }
    commands += await this.applyFdb();
    return { commands };
  }

  private applyFdb(): Promise<number> {
    return writePending(
      this.fdb,
      {
        del: (f) => `fdb del ${f.mac} dev ${f.dev} dst ${f.dst} self`,
        // An entry waits for its device.
        set: (f) =>
          this.io.linkExists(f.dev)
            ? `fdb append ${f.mac} dev ${f.dev} dst ${f.dst} self permanent`
            : undefined,
        after: (f) => f,
      },
      (lines) => this.io.bridgeBatch(lines),
    );
  }
}
