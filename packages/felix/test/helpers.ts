import type { IPPool, Node, WorkloadEndpoint } from '@tricolor/datastore';
import { DEFAULT_SETTINGS, type FelixSettings } from '../src/config-types.js';

export const settings = (o: Partial<FelixSettings> = {}): FelixSettings => ({ ...DEFAULT_SETTINGS, ...o });

export function wep(name: string, node: string, iface: string, ip: string, mac?: string): WorkloadEndpoint {
  return {
    kind: 'WorkloadEndpoint',
    apiVersion: 'tricolor.dev/v1',
    metadata: { name, namespace: 'default' },
    spec: {
      node,
      orchestrator: 'k8s',
      workload: `default/${name}`,
      endpoint: 'eth0',
      interfaceName: iface,
      ipNetworks: [ip],
      profiles: ['kns.default'],
      ...(mac ? { mac } : {}),
    },
  };
}

export function pool(name: string, cidr: string, o: Partial<IPPool['spec']> = {}): IPPool {
  return {
    kind: 'IPPool',
    apiVersion: 'tricolor.dev/v1',
    metadata: { name },
    spec: {
      cidr,
      blockSize: 26,
      ipipMode: 'Never',
      vxlanMode: 'Never',
      natOutgoing: false,
      disabled: false,
      disableBGPExport: false,
      nodeSelector: 'all()',
      ...o,
    },
  };
}

export function node(name: string, ipv4Address: string, extra: Partial<Node['spec']> = {}): Node {
  return {
    kind: 'Node',
    apiVersion: 'tricolor.dev/v1',
    metadata: { name },
    spec: { bgp: { ipv4Address }, ...extra },
  };
}

export async function until<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  ms: number,
  what: string,
): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end)
      throw new Error(
        `timed out after ${ms} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}
