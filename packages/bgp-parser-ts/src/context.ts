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
}

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
}

const MODE = { receive: 1, send: 2, both: 3 } as const;

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
  return {
    fourOctetAs: opts.fourOctetAs ?? true,
    extendedMessage: opts.extendedMessage ?? false,
    addPath,
    checkMarker: opts.checkMarker ?? true,
  };
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
