import {
  type Cidr,
  cidrContainsIp,
  cidrSize,
  familyBits,
  formatCidr,
  formatIp,
  type IpAddress,
  nthIp,
  parseCidr,
  parseIp,
} from '@tricolor/datastore';

/**
 * The block model (DESIGN.md "IPAM values in etcd"): a block is a CIDR cut from a pool,
 * optionally affine to one host, with one allocation slot per address. Every function
 * here is pure: it returns a new block (with `sequenceNumber` incremented) and never
 * touches the input, so the etcd adapter can retry a lost compare-and-swap from a fresh
 * read without undoing anything.
 */
export interface BlockAttribute {
  handleId: string | null;
  secondary: Record<string, string>;
}

export interface Block {
  cidr: string;
  /** `host:<node>` or null when no node owns the block. */
  affinity: string | null;
  /** One entry per ordinal: an index into `attributes`, or null when free. */
  allocations: (number | null)[];
  /** Free ordinals, FIFO: allocation takes from the front, release appends at the back. */
  unallocated: number[];
  attributes: BlockAttribute[];
  sequenceNumber: number;
}

export class BlockFormatError extends Error {
  override readonly name = 'BlockFormatError';
}

export const hostAffinity = (node: string): string => `host:${node}`;

/** The node of an affinity string `host:<node>`, or undefined. */
export function affinityNode(affinity: string | null): string | undefined {
  return affinity?.startsWith('host:') ? affinity.slice(5) : undefined;
}

/** Number of addresses in a block (blocks are at most 4096 addresses: /20 or /116). */
export function blockSizeOf(cidr: Cidr): number {
  return Number(cidrSize(cidr));
}

/** A fresh block with every ordinal free, in address order. */
export function newBlock(cidr: Cidr | string, affinity: string | null): Block {
  const c = typeof cidr === 'string' ? parseCidr(cidr, { strict: true }) : cidr;
  if (!c) throw new BlockFormatError(`${String(cidr)} is not a CIDR`);
  const size = blockSizeOf(c);
  return {
    cidr: formatCidr(c),
    affinity,
    allocations: Array<number | null>(size).fill(null),
    unallocated: Array.from({ length: size }, (_, i) => i),
    attributes: [],
    sequenceNumber: 0,
  };
}

export function blockCidr(b: Block): Cidr {
  return parseCidr(b.cidr)!;
}

export function freeCount(b: Block): number {
  return b.unallocated.length;
}

export function usedCount(b: Block): number {
  let n = 0;
  for (const a of b.allocations) if (a !== null) n++;
  return n;
}

export function isEmpty(b: Block): boolean {
  return b.allocations.every((a) => a === null);
}

/** The ordinal of an address inside the block, or undefined when it lies outside. */
export function ordinalOf(b: Block, ip: IpAddress | string): number | undefined {
  const addr = typeof ip === 'string' ? parseIp(ip) : ip;
  const c = blockCidr(b);
  if (!addr || !cidrContainsIp(c, addr)) return undefined;
  return Number(addr.value - c.address);
}

export function ipOf(b: Block, ordinal: number): string {
  return formatIp(nthIp(blockCidr(b), ordinal));
}

/** The host route of an ordinal: "10.244.1.5/32" or "fd00::5/128". */
export function hostCidrOf(b: Block, ordinal: number): string {
  const c = blockCidr(b);
  return `${formatIp(nthIp(c, ordinal))}/${familyBits(c.family)}`;
}

function sameAttr(a: BlockAttribute, handleId: string | null, secondary: Record<string, string>): boolean {
  if (a.handleId !== handleId) return false;
  const ka = Object.keys(a.secondary);
  const kb = Object.keys(secondary);
  return ka.length === kb.length && ka.every((k) => a.secondary[k] === secondary[k]);
}

function clone(b: Block): Block {
  return {
    cidr: b.cidr,
    affinity: b.affinity,
    allocations: b.allocations.slice(),
    unallocated: b.unallocated.slice(),
    attributes: b.attributes.map((a) => ({ handleId: a.handleId, secondary: { ...a.secondary } })),
    sequenceNumber: b.sequenceNumber + 1,
  };
}

function attrIndex(b: Block, handleId: string | null, secondary: Record<string, string>): number {
  const i = b.attributes.findIndex((a) => sameAttr(a, handleId, secondary));
  if (i >= 0) return i;
  b.attributes.push({ handleId, secondary: { ...secondary } });
  return b.attributes.length - 1;
}

/**
 * Takes up to `n` ordinals from the front of `unallocated` for the handle. Returns the
 * new block and the ordinals (fewer than n when the block runs out).
 */
export function allocate(
  b: Block,
  n: number,
  handleId: string,
  secondary: Record<string, string> = {},
): { block: Block; ordinals: number[] } {
  const next = clone(b);
  const take = Math.min(n, next.unallocated.length);
  if (take <= 0) return { block: b, ordinals: [] };
  const ordinals = next.unallocated.splice(0, take);
  const idx = attrIndex(next, handleId, secondary);
  for (const o of ordinals) next.allocations[o] = idx;
  return { block: next, ordinals };
}

/** Assigns one specific ordinal; undefined when it is already in use. */
export function assignOrdinal(
  b: Block,
  ordinal: number,
  handleId: string,
  secondary: Record<string, string> = {},
): Block | undefined {
  if (ordinal < 0 || ordinal >= b.allocations.length || b.allocations[ordinal] !== null) return undefined;
  const next = clone(b);
  const pos = next.unallocated.indexOf(ordinal);
  if (pos >= 0) next.unallocated.splice(pos, 1);
  next.allocations[ordinal] = attrIndex(next, handleId, secondary);
  return next;
}

/** Drops attributes no allocation refers to and renumbers the rest. */
function compactAttributes(b: Block): void {
  const used = new Set<number>();
  for (const a of b.allocations) if (a !== null) used.add(a);
  if (used.size === b.attributes.length) return;
  const remap = new Map<number, number>();
  const attrs: BlockAttribute[] = [];
  b.attributes.forEach((a, i) => {
    if (used.has(i)) {
      remap.set(i, attrs.length);
      attrs.push(a);
    }
  });
  b.attributes = attrs;
  b.allocations = b.allocations.map((a) => (a === null ? null : remap.get(a)!));
}

export interface Released {
  ordinal: number;
  handleId: string | null;
  /** The allocation's attributes (namespace, pod, node, containerID, …) as they were. */
  secondary: Record<string, string>;
}

/**
 * Frees the given ordinals (those not allocated are ignored: release is idempotent).
 * Freed ordinals go to the back of `unallocated`, so an address is reused as late as possible.
 */
export function releaseOrdinals(b: Block, ordinals: number[]): { block: Block; released: Released[] } {
  const todo = ordinals.filter(
    (o, i) => o >= 0 && o < b.allocations.length && b.allocations[o] !== null && ordinals.indexOf(o) === i,
  );
  if (todo.length === 0) return { block: b, released: [] };
  const next = clone(b);
  const released: Released[] = [];
  for (const o of todo) {
    const attr = next.attributes[next.allocations[o]!];
    released.push({
      ordinal: o,
      handleId: attr?.handleId ?? null,
      secondary: { ...(attr?.secondary ?? {}) },
    });
    next.allocations[o] = null;
    next.unallocated.push(o);
  }
  compactAttributes(next);
  return { block: next, released };
}

/** The ordinals held by a handle. */
export function ordinalsOfHandle(b: Block, handleId: string): number[] {
  const out: number[] = [];
  b.allocations.forEach((a, o) => {
    if (a !== null && b.attributes[a]?.handleId === handleId) out.push(o);
  });
  return out;
}

/** Allocation count per handle id (null handles under ""). */
export function handleCounts(b: Block): Map<string, number> {
  const m = new Map<string, number>();
  for (const a of b.allocations) {
    if (a === null) continue;
    const h = b.attributes[a]?.handleId ?? '';
    m.set(h, (m.get(h) ?? 0) + 1);
  }
  return m;
}

/** Every allocated ordinal with its attribute. */
export function allocationsOf(b: Block): { ordinal: number; attr: BlockAttribute | undefined }[] {
  const out: { ordinal: number; attr: BlockAttribute | undefined }[] = [];
  b.allocations.forEach((a, o) => {
    if (a !== null) out.push({ ordinal: o, attr: b.attributes[a] });
  });
  return out;
}

/**
 * The addresses of another node's block that `node` borrowed (an allocation whose
 * `secondary.node` names it): what that node exports as /32s or /128s. Empty for its own block.
 */
export function addressesBorrowedBy(b: Block, node: string): string[] {
  if (affinityNode(b.affinity) === node) return [];
  const out: string[] = [];
  for (const a of allocationsOf(b)) if (a.attr?.secondary?.node === node) out.push(ipOf(b, a.ordinal));
  return out;
}

/**
 * `addressesBorrowedBy` of a block as stored, decoding only a block whose text names the node:
 * a borrowed address's attributes hold the name as a JSON string, and node names (DNS names)
 * are written as they are by every JSON encoder. Every bird reads every block write of the
 * cluster, almost none of which concern it.
 */
export function addressesBorrowedInStored(value: string, node: string): string[] {
  if (!value.includes(JSON.stringify(node))) return [];
  return addressesBorrowedBy(decodeBlock(value), node);
}

export function withAffinity(b: Block, affinity: string | null): Block {
  const next = clone(b);
  next.affinity = affinity;
  return next;
}

/** Internal inconsistencies of a block (each message names what is wrong), [] when sound. */
export function blockProblems(b: Block): string[] {
  const out: string[] = [];
  const size = b.allocations.length;
  const c = parseCidr(b.cidr);
  if (!c) return [`cidr ${JSON.stringify(b.cidr)} is not a CIDR`];
  if (size !== blockSizeOf(c)) out.push(`allocations has ${size} entries, the block has ${blockSizeOf(c)}`);
  const seen = new Set<number>();
  for (const o of b.unallocated) {
    if (!Number.isInteger(o) || o < 0 || o >= size) out.push(`unallocated holds ${o}, outside the block`);
    else if (seen.has(o)) out.push(`unallocated holds ${o} twice`);
    else if (b.allocations[o] !== null) out.push(`ordinal ${o} is both allocated and unallocated`);
    seen.add(o);
  }
  b.allocations.forEach((a, o) => {
    if (a === null) {
      if (!seen.has(o)) out.push(`ordinal ${o} is neither allocated nor unallocated`);
    } else if (!Number.isInteger(a) || a < 0 || a >= b.attributes.length) {
      out.push(`ordinal ${o} refers to attribute ${a}, which does not exist`);
    }
  });
  return out;
}

/**
 * Makes a block internally consistent again: allocations pointing at missing attributes
 * are kept with a null handle, free ordinals missing from `unallocated` are appended,
 * duplicates and allocated ordinals are removed from it.
 */
export function repairBlock(b: Block): Block {
  const next = clone(b);
  const c = parseCidr(b.cidr)!;
  const size = blockSizeOf(c);
  const allocations = next.allocations.slice(0, size);
  while (allocations.length < size) allocations.push(null);
  for (let o = 0; o < size; o++) {
    const a = allocations[o]!;
    if (a !== null && (!Number.isInteger(a) || a < 0 || a >= next.attributes.length)) {
      next.attributes.push({ handleId: null, secondary: { note: 'attribute lost, kept by repair' } });
      allocations[o] = next.attributes.length - 1;
    }
  }
  next.allocations = allocations;
  const seen = new Set<number>();
  const unallocated: number[] = [];
  for (const o of next.unallocated) {
    if (Number.isInteger(o) && o >= 0 && o < size && allocations[o] === null && !seen.has(o)) {
      seen.add(o);
      unallocated.push(o);
    }
  }
  for (let o = 0; o < size; o++) if (allocations[o] === null && !seen.has(o)) unallocated.push(o);
  next.unallocated = unallocated;
  compactAttributes(next);
  return next;
}

export function encodeBlock(b: Block): string {
  return JSON.stringify({
    cidr: b.cidr,
    affinity: b.affinity,
    allocations: b.allocations,
    unallocated: b.unallocated,
    attributes: b.attributes,
    sequenceNumber: b.sequenceNumber,
  });
}

/** Decodes a stored block; throws BlockFormatError naming the field at fault. */
/** decodeBlock, or undefined for a value that is not a block (listings skip those; check reports them). */
export function tryDecodeBlock(text: string): Block | undefined {
  try {
    return decodeBlock(text);
  } catch {
    return undefined;
  }
}

export function decodeBlock(text: string): Block {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new BlockFormatError(`block is not JSON: ${(e as Error).message}`);
  }
  const o = raw as Record<string, unknown>;
  if (!o || typeof o !== 'object') throw new BlockFormatError('block must be an object');
  if (typeof o.cidr !== 'string' || !parseCidr(o.cidr)) throw new BlockFormatError('block.cidr: not a CIDR');
  if (o.affinity !== null && o.affinity !== undefined && typeof o.affinity !== 'string')
    throw new BlockFormatError('block.affinity: must be a string or null');
  if (!Array.isArray(o.allocations)) throw new BlockFormatError('block.allocations: must be an array');
  if (!Array.isArray(o.unallocated)) throw new BlockFormatError('block.unallocated: must be an array');
  const attributes = Array.isArray(o.attributes) ? o.attributes : [];
  return {
    cidr: o.cidr,
    affinity: (o.affinity as string | null | undefined) ?? null,
    allocations: o.allocations.map((a) => (typeof a === 'number' ? a : null)),
    unallocated: o.unallocated.filter((u): u is number => typeof u === 'number'),
    attributes: attributes.map((a: { handleId?: unknown; secondary?: unknown }) => ({
      handleId: typeof a?.handleId === 'string' ? a.handleId : null,
      secondary:
        a?.secondary && typeof a.secondary === 'object' ? { ...(a.secondary as Record<string, string>) } : {},
    })),
    sequenceNumber: typeof o.sequenceNumber === 'number' ? o.sequenceNumber : 0,
  };
}
