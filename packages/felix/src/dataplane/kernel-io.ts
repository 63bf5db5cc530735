import type { KernelRoute } from '@tricolor/linux';
import type { Table } from '../calc/iptables/rules.js';
import type { ParsedTable } from './iptables-render.js';
import type { FdbEntry, LinkState, Neighbor } from './items.js';

/** One ipset as `ipset save` shows it. */
export interface KernelIpset {
  name: string;
  type: string;
  family: string;
  members: string[];
}

/**
 * What the drivers need from the kernel, at the level of the tools felix runs: reads that
 * return parsed items, writes that take the tools' own input (`ip -batch` lines, an
 * iptables-restore script, `ipset restore` lines). `linuxKernel` runs the real tools
 * (`@tricolor/linux`); the tests' fake kernel interprets the same input.
 */
export interface KernelIO {
  /** The main table, both families; `each` gets every route as it is parsed. */
  readRoutes(each: (r: KernelRoute) => void): Promise<void>;
  /** Permanent neighbor entries, both families. */
  readNeighbors(): Promise<Neighbor[]>;
  /** `ip -force -batch` lines: throws (after applying the other lines) when one fails. */
  ipBatch(lines: string[]): Promise<void>;
  /** One `ip` command (link and address changes of the tunnel devices); resolves its exit status. */
  ip(args: string[]): Promise<{ code: number; stderr: string }>;
  linkExists(dev: string): boolean;
  /** Every device name at once (cheaper than thousands of `linkExists`). */
  linkNames(): Set<string>;
  readLink(name: string): Promise<LinkState | undefined>;
  /** The interface holding `ip`, with its MTU: the underlay of a tunnel. */
  underlayFor(ip: string): Promise<{ name: string; mtu: number } | undefined>;
  readFdb(dev: string): Promise<FdbEntry[]>;
  /** `bridge -force -batch` lines. */
  bridgeBatch(lines: string[]): Promise<void>;
  readSysctl(key: string): string | undefined;
  /** For re-reading thousands beside the applies (the fake kernel can hold these open). */
  readSysctlAsync(key: string): Promise<string | undefined>;
  /** Throws when the key does not exist (its interface is not there). */
  writeSysctl(key: string, value: string): void;
  readIpsets(): Promise<Map<string, KernelIpset>>;
  /** `ipset restore` (the lines, in order; the first failure stops it and throws). */
  ipsetRestore(lines: string[]): Promise<void>;
  /** iptables-save of one family, parsed line by line as it arrives. */
  readIptables(family: 4 | 6): Promise<Map<Table, ParsedTable>>;
  /** iptables-restore --noflush of one family. */
  iptablesRestore(family: 4 | 6, script: string): Promise<void>;
  /**
   * Calls `onDrift` whenever someone else changes felix's iptables (nft backend: kernel
   * events); undefined where the backend has no events (legacy: the refresh timer only).
   */
  watchIptables?(onDrift: () => void): { stop(): void } | undefined;
  /** A device went: tools that remember device names (a long-running `ip -batch`) start afresh. */
  devicesChanged(): void;
  /** Resolves once long-running helpers have started. */
  ready(): Promise<void>;
  /** Ends long-running tools. */
  close(): void;
}
