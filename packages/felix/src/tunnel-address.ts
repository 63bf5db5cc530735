import type { Datastore } from '@tricolor/datastore';
import { Ipam } from '@tricolor/ipam';

/** Allocates this node's VXLAN tunnel address from IPAM (handle `vxlan-tunnel-addr-<node>`). */
export async function allocateTunnelAddress(ds: Datastore, node: string): Promise<string | undefined> {
  const ipam = new Ipam(ds);
  const r = await ipam.autoAssign({ node, handle: `vxlan-tunnel-addr-${node}`, num4: 1 });
  return r.ipv4[0]?.split('/')[0];
}
