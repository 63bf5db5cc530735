/**
 * Handle records (`<prefix>ipam/v2/handle/<id>`, value `{"handleId","block":{"<cidr>":n}}`):
 * how many addresses a handle holds in each block, so a release by handle knows which
 * blocks to visit. Invariant kept by the write order (see README): for every block, the
 * handle's count is at least the number of the block's allocations carrying the handle.
 */
export interface Handle {
  handleId: string;
  block: Record<string, number>;
}

export class HandleError extends Error {
  override readonly name = 'HandleError';
}

/** Handle ids become etcd key segments: non-empty, at most 512 characters, no '/' or whitespace. */
export function handleProblem(id: string): string | undefined {
  if (typeof id !== 'string' || id === '') return 'is required';
  if (id.length > 512) return 'is longer than 512 characters';
  if (/[/\s]/.test(id)) return `${JSON.stringify(id)} must not contain '/' or whitespace`;
  return undefined;
}

export function checkHandleId(id: string): void {
  const p = handleProblem(id);
  if (p) throw new HandleError(`handle: ${p}`);
}

export function encodeHandle(h: Handle): string {
  return JSON.stringify({ handleId: h.handleId, block: h.block });
}

export function decodeHandle(text: string, fallbackId = ''): Handle {
  try {
    const o = JSON.parse(text) as { handleId?: unknown; block?: unknown };
    const block: Record<string, number> = {};
    if (o.block && typeof o.block === 'object') {
      for (const [k, v] of Object.entries(o.block as Record<string, unknown>)) {
        if (typeof v === 'number' && v > 0) block[k] = v;
      }
    }
    return { handleId: typeof o.handleId === 'string' ? o.handleId : fallbackId, block };
  } catch {
    return { handleId: fallbackId, block: {} };
  }
}

/** Adds `delta` (may be negative) to a block's count; counts never go below 0 and zero entries vanish. */
export function adjustHandle(h: Handle | undefined, handleId: string, cidr: string, delta: number): Handle {
  const block = { ...(h?.block ?? {}) };
  const n = Math.max(0, (block[cidr] ?? 0) + delta);
  if (n === 0) delete block[cidr];
  else block[cidr] = n;
  return { handleId: h?.handleId || handleId, block };
}

export function handleTotal(h: Handle): number {
  return Object.values(h.block).reduce((a, b) => a + b, 0);
}

export function isHandleEmpty(h: Handle): boolean {
  return Object.keys(h.block).length === 0;
}

/** Handles of addresses that belong to a node rather than a workload (felix's tunnel addresses). */
export const NODE_HANDLE_PREFIXES = ['vxlan-tunnel-addr-', 'ipip-tunnel-addr-', 'wireguard-tunnel-addr-'];

/** The node a special node handle belongs to, or undefined for workload handles. */
export function nodeOfHandle(handleId: string): string | undefined {
  for (const p of NODE_HANDLE_PREFIXES) if (handleId.startsWith(p)) return handleId.slice(p.length);
  return undefined;
}

/** The container id of a CNI handle `<network>.<containerID>`, or undefined for other forms. */
export function containerOfHandle(handleId: string): string | undefined {
  const i = handleId.indexOf('.');
  return i > 0 && i < handleId.length - 1 ? handleId.slice(i + 1) : undefined;
}
