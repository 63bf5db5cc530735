/** The cluster-wide IPAM knobs at `<prefix>ipam/v2/config`. */
export interface IpamConfig {
  /** Never borrow addresses from blocks of other nodes. */
  strictAffinity: boolean;
  /** Claim new blocks when the node's blocks are full (false: only borrow or use existing blocks). */
  autoAllocateBlocks: boolean;
  /** Most blocks one node may claim (per family); 0 means no limit. */
  maxBlocksPerHost: number;
}

export const DEFAULT_IPAM_CONFIG: IpamConfig = {
  strictAffinity: false,
  autoAllocateBlocks: true,
  maxBlocksPerHost: 0,
};

export class IpamConfigError extends Error {
  override readonly name = 'IpamConfigError';
}

/** Checks a partial config; errors name the field. */
export function validateConfigPatch(p: Partial<IpamConfig>): Partial<IpamConfig> {
  const out: Partial<IpamConfig> = {};
  for (const k of ['strictAffinity', 'autoAllocateBlocks'] as const) {
    if (p[k] === undefined) continue;
    if (typeof p[k] !== 'boolean')
      throw new IpamConfigError(`${k}: ${JSON.stringify(p[k])} is not true or false`);
    out[k] = p[k];
  }
  if (p.maxBlocksPerHost !== undefined) {
    const n = p.maxBlocksPerHost;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
      throw new IpamConfigError(`maxBlocksPerHost: ${JSON.stringify(n)} is not a whole number >= 0`);
    out.maxBlocksPerHost = n;
  }
  return out;
}

export function decodeConfig(text: string | undefined): IpamConfig {
  if (!text) return { ...DEFAULT_IPAM_CONFIG };
  let raw: Partial<IpamConfig> = {};
  try {
    raw = JSON.parse(text) as Partial<IpamConfig>;
  } catch {
    /* unreadable: defaults */
  }
  const cfg = { ...DEFAULT_IPAM_CONFIG };
  if (typeof raw.strictAffinity === 'boolean') cfg.strictAffinity = raw.strictAffinity;
  if (typeof raw.autoAllocateBlocks === 'boolean') cfg.autoAllocateBlocks = raw.autoAllocateBlocks;
  if (typeof raw.maxBlocksPerHost === 'number' && raw.maxBlocksPerHost >= 0)
    cfg.maxBlocksPerHost = Math.floor(raw.maxBlocksPerHost);
  return cfg;
}

export function encodeConfig(c: IpamConfig): string {
  return JSON.stringify({
    strictAffinity: c.strictAffinity,
    autoAllocateBlocks: c.autoAllocateBlocks,
    maxBlocksPerHost: c.maxBlocksPerHost,
  });
}
