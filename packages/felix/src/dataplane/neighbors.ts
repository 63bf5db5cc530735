import { type DesiredNeighbor, neighborKey } from '../calc/desired-state.js';
import { walkDiff } from './diff-walk.js';
import { ipJson } from './exec.js';

interface IpNeigh {
  dst: string;
  dev: string;
  lladdr?: string;
  state?: string[];
}

/** Permanent neighbor entries (both families); the read-back for static workload/VTEP neighbors. */
export async function readNeighbors(): Promise<DesiredNeighbor[]> {
  const rows = await ipJson<IpNeigh>(['neigh', 'show', 'nud', 'permanent']);
  return rows.filter((r) => r.lladdr).map((r) => ({ ip: r.dst, dev: r.dev, mac: r.lladdr!.toLowerCase() }));
}

/** felix owns permanent entries on workload interfaces and on its tunnel device. */
export function isOwnedNeighbor(n: DesiredNeighbor, interfacePrefix: string, tunnelDevs: string[]): boolean {
  return n.dev.startsWith(interfacePrefix) || tunnelDevs.includes(n.dev);
}

export interface NeighborDiff {
  /** `ip -batch` lines. */
  commands: string[];
  /** Keys the commands delete, and the entries they write. */
  deleted: string[];
  replaced: [string, DesiredNeighbor][];
  /** Keys left out because their device does not exist (yet). */
  waiting: string[];
}

export function diffNeighbors(
  desired: Map<string, DesiredNeighbor>,
  kernel: Map<string, DesiredNeighbor>,
  interfacePrefix: string,
  tunnelDevs: string[],
  devExists: (dev: string) => boolean,
  /** Only these keys (the calculation's delta); all of both maps when undefined. */
  keys?: Iterable<string>,
): NeighborDiff {
  const out: NeighborDiff = { commands: [], deleted: [], replaced: [], waiting: [] };
  const del = (key: string, n: DesiredNeighbor) => {
    if (!desired.has(key) && isOwnedNeighbor(n, interfacePrefix, tunnelDevs)) {
      out.commands.push(`neigh del ${n.ip} dev ${n.dev}`);
      out.deleted.push(key);
    }
  };
  const put = (key: string, n: DesiredNeighbor) => {
    const k = kernel.get(key);
    if (k === n || (k && k.mac === n.mac)) return;
    if (!devExists(n.dev)) {
      out.waiting.push(key);
      return;
    }
    out.commands.push(`neigh replace ${n.ip} lladdr ${n.mac} dev ${n.dev} nud permanent`);
    out.replaced.push([key, n]);
  };
  walkDiff(kernel, desired, keys, del, put);
  return out;
}

export function neighborMap(list: DesiredNeighbor[]): Map<string, DesiredNeighbor> {
  return new Map(list.map((n) => [neighborKey(n), n]));
}
