import type { Datastore } from '@tricolor/datastore';

/**
 * Allocates this node's VXLAN tunnel address from IPAM (handle `vxlan-tunnel-addr-<node>`),
 * through @tricolor/ipam, loaded lazily so felix runs (without VXLAN) where it is absent.
 */
export async function allocateTunnelAddress(ds: Datastore, node: string): Promise<string | undefined> {
  const spec = '@tricolor/ipam';
  const mod = (await import(spec)) as {
    Ipam: new (
      ds: Datastore,
    ) => { autoAssign(o: { node: string; handle: string; num4: number }): Promise<{ ipv4: string[] }> };
  };
  const ipam = new mod.Ipam(ds);
  const r = await ipam.autoAssign({ node, handle: `vxlan-tunnel-addr-${node}`, num4: 1 });
  return r.ipv4[0]?.split('/')[0];
}
