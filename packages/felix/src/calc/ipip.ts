import type { IPPool, Node } from '@tricolor/datastore';
import type { FelixSettings } from '../config-types.js';
import type { IpipDevice } from '../dataplane/items.js';
import type { CalcGraph, Calculator } from './graph.js';
import type { Outputs } from './outputs.js';
import { hostAddr } from './vxlan.js';

/** tunl0 while an enabled pool has IPIP, with this node's IPIP tunnel address (bird routes through it). */
export class IpipCalculator implements Calculator {
  private settings: Readonly<FelixSettings> | undefined;
  private readonly pools = new Map<string, IPPool>();
  private me: Node | undefined;
  private dirty = true;

  constructor(
    private readonly nodeName: string,
    private readonly out: Outputs,
  ) {}

  register(g: CalcGraph): void {
    g.on('settings', (_k, s) => {
      this.settings = s;
      this.dirty = true;
    });
    g.on('pool', (key, p) => {
      if (p) this.pools.set(key, p);
      else this.pools.delete(key);
      this.dirty = true;
    });
    g.on('node', (key, n) => {
      if (n ? n.metadata.name !== this.nodeName : key.split('/').at(-1) !== this.nodeName) return;
      this.me = n;
      this.dirty = true;
    });
  }

  flush(): void {
    if (!this.dirty || !this.settings) return;
    this.dirty = false;
    const tunnels = this.out.state.tunnels;
    if (![...this.pools.values()].some((p) => !p.spec.disabled && p.spec.ipipMode !== 'Never')) {
      tunnels.deleteDesired('tunl0');
      return;
    }
    const d: IpipDevice = { kind: 'ipip', name: 'tunl0' };
    const a = hostAddr(this.me?.spec.ipv4IPIPTunnelAddr);
    if (a) d.address = a;
    if (this.settings.ipipMTU) d.mtu = this.settings.ipipMTU;
    const local = hostAddr(this.me?.spec.bgp?.ipv4Address);
    if (local) d.localIP = local;
    tunnels.setDesired('tunl0', Object.freeze(d));
  }
}
