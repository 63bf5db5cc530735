import { afiSafiName, parseAfiSafi } from './constants.js';

/** Add-path direction bits, as in the ADD-PATH capability's Send/Receive field (RFC 7911). */
export const AddPathMode = { RECEIVE: 1, SEND: 2, BOTH: 3 } as const;

/**
 * What was negotiated on the session and changes how messages are parsed or written.
 * Decoding looks at the RECEIVE bit of an AFI/SAFI's add-path mode, encoding at the SEND bit.
 */
export interface DecodeContext {
  /** RFC 6793: both sides announced the 4-octet AS capability (AS_PATH/AGGREGATOR use 4 octets). */
  readonly fourOctetAs: boolean;
  /** RFC 8654: both sides announced Extended Message (65535-octet messages). */
  readonly extendedMessage: boolean;
  /** Add-path per AFI/SAFI key (afi << 8 | safi): AddPathMode bits. */
  readonly addPath: ReadonlyMap<number, number>;
  /** Check the 16-octet marker (default true; false is only useful to inspect foreign captures). */
  readonly checkMarker: boolean;
  /**
   * Who the peer is, for the RFC 7606 rules that depend on it: from an 'external' peer
   * LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST are discarded (§7.5, §7.9, §7.10) and
   * confederation segments in AS_PATH are malformed (RFC 5065 §5.3); a 'confederation'
   * peer (another member AS) keeps LOCAL_PREF. Undefined means unknown: checked as internal.
   */
  readonly peerType?: PeerType;
  /**
   * RFC 4271 §6.3 first-AS check: the AS an external peer's AS_PATH must start with
   * (violations are treat-as-withdraw, RFC 7606 §7.2). Undefined: not checked.
   */
  readonly enforceFirstAs?: number;
  /**
   * Handle MP_REACH_NLRI/MP_UNREACH_NLRI errors with "AFI/SAFI disable" (RFC 4760 §7)
   * instead of a session reset where the family can be read. Default false.
   */
  readonly afiSafiDisable?: boolean;
  /**
   * RFC 8950 Extended Next Hop: per NLRI family (afiSafiKey), the next-hop AFIs this side
   * accepts besides the family's own. Undefined (not negotiated, e.g. a capture): IPv6 next
   * hops are accepted for IPv4 NLRI as RFC 8950 encodes them, IPv4 ones for IPv6 NLRI are not.
   */
  readonly extendedNextHop?: ReadonlyMap<number, readonly number[]>;
}

export type PeerType = 'internal' | 'external' | 'confederation';

export function afiSafiKey(afi: number, safi: number): number {
  return ((afi & 0xffff) << 8) | (safi & 0xff);
}

export interface ContextOptions {
  fourOctetAs?: boolean;
  extendedMessage?: boolean;
  /**
   * Add-path per family: `'all'` (IPv4 and IPv6 unicast, both directions), or a map from
   * "ipv4-unicast"-style names (or [afi, safi] keys via afiSafiKey) to 'receive' | 'send' | 'both'.
   */
  addPath?: 'all' | Record<string, 'receive' | 'send' | 'both'> | ReadonlyMap<number, number>;
  checkMarker?: boolean;
  peerType?: PeerType;
  enforceFirstAs?: number;
  afiSafiDisable?: boolean;
  /** NLRI families ("ipv6-unicast" or [afi, safi] keys via afiSafiKey) → next-hop AFIs accepted. */
  extendedNextHop?: Record<string, readonly number[]> | ReadonlyMap<number, readonly number[]>;
}

const MODE = { receive: 1, send: 2, both: 3 } as const;

export const PEER_TYPES: readonly PeerType[] = ['internal', 'external', 'confederation'];

/** Builds a context; defaults: 4-octet AS, no extended message, no add-path, marker checked. */
export function createContext(opts: ContextOptions = {}): DecodeContext {
  const addPath = new Map<number, number>();
  if (opts.addPath === 'all') {
    addPath.set(afiSafiKey(1, 1), 3);
    addPath.set(afiSafiKey(2, 1), 3);
  } else if (opts.addPath instanceof Map) {
    for (const [k, v] of opts.addPath) addPath.set(k, v);
  } else if (opts.addPath) {
    for (const [name, mode] of Object.entries(opts.addPath as Record<string, 'receive' | 'send' | 'both'>)) {
      const fam = parseAfiSafi(name);
      if (!fam) throw new TypeError(`unknown address family ${JSON.stringify(name)}`);
      addPath.set(afiSafiKey(fam[0], fam[1]), MODE[mode]);
    }
  }
  const ctx: {
    -readonly [K in keyof DecodeContext]: DecodeContext[K];
  } = {
    fourOctetAs: opts.fourOctetAs ?? true,
    extendedMessage: opts.extendedMessage ?? false,
    addPath,
    checkMarker: opts.checkMarker ?? true,
  };
  if (opts.peerType !== undefined) {
    if (!PEER_TYPES.includes(opts.peerType))
      throw new TypeError(
        `peerType ${JSON.stringify(opts.peerType)}: expected one of ${PEER_TYPES.join(', ')}`,
      );
    ctx.peerType = opts.peerType;
  }
  if (opts.enforceFirstAs !== undefined) {
    if (!Number.isInteger(opts.enforceFirstAs) || opts.enforceFirstAs < 1 || opts.enforceFirstAs > 0xffffffff)
      throw new TypeError(`enforceFirstAs ${opts.enforceFirstAs}: expected an AS number 1..4294967295`);
    ctx.enforceFirstAs = opts.enforceFirstAs;
  }
  if (opts.afiSafiDisable) ctx.afiSafiDisable = true;
  if (opts.extendedNextHop) {
    const m = new Map<number, readonly number[]>();
    if (opts.extendedNextHop instanceof Map) for (const [k, v] of opts.extendedNextHop) m.set(k, [...v]);
    else {
      for (const [name, afis] of Object.entries(opts.extendedNextHop as Record<string, readonly number[]>)) {
        const fam = parseAfiSafi(name);
        if (!fam) throw new TypeError(`unknown address family ${JSON.stringify(name)}`);
        m.set(afiSafiKey(fam[0], fam[1]), [...afis]);
      }
    }
    ctx.extendedNextHop = m;
  }
  return ctx;
}

export const DEFAULT_CONTEXT: DecodeContext = createContext();

export function addPathReceive(ctx: DecodeContext, afi: number, safi: number): boolean {
  return ctx.addPath.size > 0 && ((ctx.addPath.get(afiSafiKey(afi, safi)) ?? 0) & 1) !== 0;
}

export function addPathSend(ctx: DecodeContext, afi: number, safi: number): boolean {
  return ctx.addPath.size > 0 && ((ctx.addPath.get(afiSafiKey(afi, safi)) ?? 0) & 2) !== 0;
}

/** The same session seen from the other end: add-path send and receive swapped. */
export function mirrorContext(ctx: DecodeContext): DecodeContext {
  const addPath = new Map<number, number>();
  for (const [k, v] of ctx.addPath) addPath.set(k, ((v & 1) << 1) | ((v & 2) >> 1));
  return { ...ctx, addPath };
}

/** Lists the add-path families of a context, e.g. ["ipv4-unicast:both"]. */
export function describeAddPath(ctx: DecodeContext): string[] {
  return [...ctx.addPath].map(
    ([k, v]) => `${afiSafiName(k >> 8, k & 0xff)}:${['none', 'receive', 'send', 'both'][v]}`,
  );
}
