import { ownsBlock } from '@tricolor/contract';
import {
  type Cidr,
  cidrContains,
  cidrContainsIp,
  formatCidr,
  type IPPool,
  type Node,
  parseCidr,
  parseIp,
} from '@tricolor/datastore';
import type { FelixSettings } from '../config-types.js';
import {
  type FdbEntry,
  fdbKey,
  type IpipDevice,
  type Neighbor,
  neighborKey,
  type Route,
  routeKey,
  type VxlanDevice,
} from '../dataplane/items.js';
import type { CalcGraph, Calculator } from './graph.js';
import { type Outputs, src } from './outputs.js';

/** A deterministic, locally administered unicast MAC for a node's VXLAN device. */
export function vtepMac(nodeName: string): string {
  let h = 0x811c9dc5;
  const bytes: number[] = [];
  for (let round = 0; round < 5; round++) {
    for (const ch of `${round}:${nodeName}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    bytes.push(h & 0xff);
  }
  return ['66', ...bytes.map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** The address of a `a.b.c.d/n` (or bare) value, if it is one. */
export function hostAddr(cidrOrIp: string | undefined): string | undefined {
  if (!cidrOrIp) return undefined;
  const ip = cidrOrIp.split('/')[0]!;
  return parseIp(ip) ? ip : undefined;
}

/** What one remote node contributes: routes to its blocks through the tunnel, its VTEP's FDB entry and neighbor. */
interface NodePart {
  routes: [string, Route][];
  fdb?: [string, FdbEntry];
  neighbor?: [string, Neighbor];
}

/**
 * Tunnels. VXLAN (pools with vxlanMode Always/CrossSubnet): this node's device, and per
 * remote node a route to each of its blocks via its tunnel address, onlink, with a static
 * neighbor and FDB entry for its VTEP (CrossSubnet: only for nodes outside our subnet).
 * IPIP: tunl0 while an enabled pool has IPIP.
 * Incremental: a change of one node or of one of its affinities recomputes that node only;
 * pools, this node or the settings changing recompute them all.
 */
export class VxlanCalculator implements Calculator {
  private settings: Readonly<FelixSettings> | undefined;
  private readonly pools = new Map<string, IPPool>();
  private readonly nodes = new Map<string, Node>();
  /** Remote nodes' confirmed blocks: node → affinity key → block. */
  private readonly blocks = new Map<string, Map<string, string>>();
  private readonly parts = new Map<string, NodePart>();
  private dirty = new Set<string>();
  private all = true;
  private device: VxlanDevice | undefined;
  private vxlanPools: { pool: IPPool; cidr: Cidr }[] = [];

  constructor(
    private readonly nodeName: string,
    private readonly out: Outputs,
  ) {}

  register(g: CalcGraph): void {
    g.on('settings', (_k, s) => {
      this.settings = s;
      this.all = true;
    });
    g.mirror('pool', this.pools, () => {
      this.all = true;
    });
    g.on('node', (key, n) => {
      const name = n?.metadata.name ?? this.nodeOfKey.get(key);
      if (!name) return;
      if (n) {
        this.nodes.set(name, n);
        this.nodeOfKey.set(key, name);
      } else {
        this.nodes.delete(name);
        this.nodeOfKey.delete(key);
      }
      if (name === this.nodeName) this.all = true;
      else this.dirty.add(name);
    });
    g.on('affinity', (key, a) => {
      const remote = a && a.node !== this.nodeName && ownsBlock(a) ? a : undefined;
      const prev = this.remoteOfKey.get(key);
      if (prev !== undefined && prev !== remote?.node) this.dropBlock(prev, key);
      if (!remote) {
        this.remoteOfKey.delete(key);
        return;
      }
      this.remoteOfKey.set(key, remote.node);
      let m = this.blocks.get(remote.node);
      if (!m) {
        m = new Map();
        this.blocks.set(remote.node, m);
      }
      if (m.get(key) === remote.block) return;
      m.set(key, remote.block);
      this.dirty.add(remote.node);
    });
  }

  /** Datastore key → node name (a deletion carries no value). */
  private readonly nodeOfKey = new Map<string, string>();
  /** Affinity key → remote node, for the confirmed affinities of other nodes. */
  private readonly remoteOfKey = new Map<string, string>();

  private dropBlock(node: string, key: string): void {
    const m = this.blocks.get(node);
    if (!m?.delete(key)) return;
    if (!m.size) this.blocks.delete(node);
    this.dirty.add(node);
  }

  /** VXLAN is on but this node has no tunnel address yet (the agent allocates one from IPAM). */
  get needsTunnelAddress(): boolean {
    const me = this.me();
    return this.vxlanPools.length > 0 && me !== undefined && !me.spec.vxlanTunnelAddress;
  }

  flush(): void {
    if (!this.settings) return;
    if (this.all) {
      this.all = false;
      this.updateDevices();
      const names = new Set([...this.parts.keys(), ...this.nodes.keys(), ...this.blocks.keys()]);
      this.dirty = new Set();
      for (const n of names) this.updateNode(n);
      return;
    }
    const dirty = this.dirty;
    this.dirty = new Set();
    for (const n of dirty) this.updateNode(n);
  }

  private me(): Node | undefined {
    return this.nodes.get(this.nodeName);
  }

  private updateDevices(): void {
    const s = this.settings!;
    this.vxlanPools = [];
    for (const pool of this.pools.values()) {
      const cidr = parseCidr(pool.spec.cidr);
      if (!pool.spec.disabled && pool.spec.vxlanMode !== 'Never' && cidr?.family === 4)
        this.vxlanPools.push({ pool, cidr });
    }
    const me = this.me();
    const localIP = hostAddr(me?.spec.bgp?.ipv4Address);
    let device: VxlanDevice | undefined;
    if (this.vxlanPools.length && localIP) {
      device = {
        kind: 'vxlan',
        name: s.vxlanDevice,
        vni: s.vxlanVNI,
        port: s.vxlanPort,
        localIP,
        mac: me?.spec.vxlanTunnelMACAddr?.toLowerCase() ?? vtepMac(this.nodeName),
      };
      if (s.vxlanMTU) device.mtu = s.vxlanMTU;
      const tunnel = hostAddr(me?.spec.vxlanTunnelAddress);
      if (tunnel) device.address = tunnel;
    }
    const old = this.device;
    this.device = device;
    const tunnels = this.out.state.tunnels;
    if (device) tunnels.setDesired(device.name, Object.freeze(device));
    if (old && old.name !== device?.name) tunnels.deleteDesired(old.name);
    // IPIP (the routes through tunl0 are bird's): the device, with this node's IPIP address.
    if (![...this.pools.values()].some((p) => !p.spec.disabled && p.spec.ipipMode !== 'Never')) {
      tunnels.deleteDesired('tunl0');
      return;
    }
    const ipip: IpipDevice = { kind: 'ipip', name: 'tunl0' };
    const a = hostAddr(me?.spec.ipv4IPIPTunnelAddr);
    if (a) ipip.address = a;
    if (s.ipipMTU) ipip.mtu = s.ipipMTU;
    if (localIP) ipip.localIP = localIP;
    tunnels.setDesired('tunl0', Object.freeze(ipip));
  }

  private compute(name: string): NodePart {
    const part: NodePart = { routes: [] };
    const dev = this.device;
    const node = this.nodes.get(name);
    if (!dev || !node || name === this.nodeName) return part;
    const underlay = hostAddr(node.spec.bgp?.ipv4Address);
    const tun = hostAddr(node.spec.vxlanTunnelAddress);
    if (!underlay || !tun) return part;
    const myAddr = this.me()?.spec.bgp?.ipv4Address;
    const myCidr = myAddr ? parseCidr(myAddr) : undefined;
    const sameSubnet = myCidr ? cidrContainsIp(myCidr, parseIp(underlay)!) : false;
    for (const block of this.blocks.get(name)?.values() ?? []) {
      const bc = parseCidr(block);
      if (!bc) continue;
      const pool = this.vxlanPools.find((p) => cidrContains(p.cidr, bc))?.pool;
      if (!pool) continue;
      // CrossSubnet: same-subnet peers are reached natively (bird's routes), not through the tunnel.
      if (pool.spec.vxlanMode === 'CrossSubnet' && sameSubnet) continue;
      const dst = formatCidr(bc);
      part.routes.push([
        routeKey({ family: 4, dst }),
        Object.freeze({
          family: 4 as const,
          dst,
          type: 'unicast' as const,
          dev: dev.name,
          via: tun,
          onlink: true,
        }),
      ]);
    }
    if (!part.routes.length) return part;
    const mac = node.spec.vxlanTunnelMACAddr?.toLowerCase() ?? vtepMac(name);
    const f: FdbEntry = Object.freeze({ dev: dev.name, mac, dst: underlay });
    const nb: Neighbor = Object.freeze({ ip: tun, mac, dev: dev.name });
    part.fdb = [fdbKey(f), f];
    part.neighbor = [neighborKey(nb), nb];
    return part;
  }

  private updateNode(name: string): void {
    const s = src.vtep(name);
    const old = this.parts.get(name);
    const now = this.compute(name);
    const o = this.out;
    const keep = new Set(now.routes.map(([k]) => k));
    for (const [k] of old?.routes ?? []) if (!keep.has(k)) o.routes.remove(k, s);
    for (const [k, r] of now.routes) o.routes.put(k, s, r);
    if (old?.fdb && old.fdb[0] !== now.fdb?.[0]) o.fdb.remove(old.fdb[0], s);
    if (now.fdb) o.fdb.put(now.fdb[0], s, now.fdb[1]);
    if (old?.neighbor && old.neighbor[0] !== now.neighbor?.[0]) o.neighbors.remove(old.neighbor[0], s);
    if (now.neighbor) o.neighbors.put(now.neighbor[0], s, now.neighbor[1]);
    if (now.routes.length) this.parts.set(name, now);
    else this.parts.delete(name);
  }
}
