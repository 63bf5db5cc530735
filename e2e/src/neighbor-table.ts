import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The kernel's neighbor (ARP and NDP) tables are shared by every network namespace of a host,
 * and so are their limits (`gc_thresh1..3`, 128/512/1024 by default). A real node holds one
 * entry per peer node and per local pod; a cluster of namespaces on one host holds every
 * node's entries in one table. Past `gc_thresh3` the kernel logs "neighbor table overflow"
 * and stops resolving addresses: BGP sessions hang on unanswered ARP until their hold timers
 * expire (seen at 40 nodes: 1,600 node-to-node entries alone).
 */
export function neighborEntriesNeeded(nodes: number, podsPerNode: number): number {
  // Each node: an entry per other node and the gateway; each pod: the host side's entry for
  // the pod and the pod's for its gateway.
  return nodes * (nodes + 1) + 2 * nodes * podsPerNode;
}

export interface Raised {
  key: string;
  from: number;
  to: number;
}

/**
 * Raises the host's thresholds so that `entries` fit with room to spare (never lowers them):
 * garbage collection starts at `entries`, the hard limit is four times that. Nothing changes
 * while twice the entries stay under the family's soft limit (`gc_thresh2`).
 */
export function raiseNeighborThresholds(entries: number, procSys = '/proc/sys'): Raised[] {
  const read = (file: string) => Number(readFileSync(file, 'utf8').trim());
  const want: [string, number][] = [
    ['gc_thresh1', entries],
    ['gc_thresh2', 2 * entries],
    ['gc_thresh3', 4 * entries],
  ];
  const raised: Raised[] = [];
  for (const family of ['ipv4', 'ipv6']) {
    const dir = join('net', family, 'neigh', 'default');
    if (2 * entries <= read(join(procSys, dir, 'gc_thresh2'))) continue;
    for (const [name, value] of want) {
      const key = join(dir, name);
      const file = join(procSys, key);
      const from = read(file);
      if (from >= value) continue;
      writeFileSync(file, `${value}\n`);
      raised.push({ key: key.replaceAll('/', '.'), from, to: value });
    }
  }
  return raised;
}
