import {
  type Capability,
  capabilityCode,
  decodeCapability,
  encodeCapabilityValue,
} from '../capabilities/index.js';
import { AS_TRANS, MessageType } from '../constants.js';
import {
  afiSafiKey,
  type ContextOptions,
  createContext,
  DEFAULT_CONTEXT,
  type DecodeContext,
} from '../context.js';
import { BgpDecodeError } from '../errors.js';
import { finishHeader, writeHeader } from '../header.js';
import { u16, u32, Writer } from '../writer.js';

/** A Capabilities optional parameter (type 2, RFC 5492); it may hold several capabilities. */
export interface CapabilitiesParameter {
  type: 2;
  capabilities: Capability[];
}

/** Any other optional parameter (only produced by callers; decoding rejects them with 2/4). */
export interface RawParameter {
  type: number;
  data: Uint8Array;
}

export type OptionalParameter = CapabilitiesParameter | RawParameter;

export interface OpenFields {
  version: number;
  /** The 2-octet My Autonomous System field (AS_TRANS when the real AS needs 4 octets). */
  myAs: number;
  holdTime: number;
  /** BGP Identifier as an unsigned 32-bit number. */
  bgpId: number;
  params: OptionalParameter[];
  /** RFC 9072 extended optional parameters length format (chosen automatically when needed). */
  extendedParams?: boolean;
}

export interface OpenMessage extends OpenFields {
  type: 'OPEN';
}

function openError(subcode: number, data: Uint8Array, detail: string): BgpDecodeError {
  return new BgpDecodeError(2, subcode, data, detail);
}

/** Decodes an OPEN body buf[off..end) with the RFC 4271 §6.2 checks (2/1, 2/2, 2/3, 2/4, 2/6). */
export function decodeOpenBody(buf: Uint8Array, off: number, end: number): OpenMessage {
  if (end - off < 10) throw new BgpDecodeError(1, 2, new Uint8Array(0), 'OPEN shorter than 29 octets');
  const version = buf[off]!;
  if (version !== 4) throw openError(1, new Uint8Array([0, 4]), `version ${version}`);
  const myAs = u16(buf, off + 1);
  const holdTime = u16(buf, off + 3);
  const bgpId = u32(buf, off + 5);
  if (myAs === 0) throw openError(2, new Uint8Array(0), 'AS 0');
  if (holdTime === 1 || holdTime === 2) throw openError(6, new Uint8Array(0), `hold time ${holdTime}`);
  if (bgpId === 0) throw openError(3, new Uint8Array(0), 'BGP identifier 0');
  let optLen = buf[off + 9]!;
  let p = off + 10;
  let extendedParams = false;
  if (optLen === 255 && p < end && buf[p] === 255) {
    // RFC 9072: Non-Ext OP Type 255, then a 2-octet length; parameters use 2-octet lengths.
    if (p + 3 > end) throw openError(0, new Uint8Array(0), 'truncated extended optional parameters length');
    extendedParams = true;
    optLen = u16(buf, p + 1);
    p += 3;
  }
  if (p + optLen !== end)
    throw openError(0, new Uint8Array(0), 'optional parameters length does not match the message');
  const params: OptionalParameter[] = [];
  const hl = extendedParams ? 3 : 2;
  while (p < end) {
    if (p + hl > end) throw openError(0, new Uint8Array(0), 'truncated optional parameter');
    const type = buf[p]!;
    const len = extendedParams ? u16(buf, p + 1) : buf[p + 1]!;
    const v = p + hl;
    if (v + len > end) throw openError(0, new Uint8Array(0), 'optional parameter overruns');
    if (type !== 2) throw openError(4, new Uint8Array(0), `optional parameter type ${type}`);
    const capabilities: Capability[] = [];
    let c = v;
    while (c < v + len) {
      if (c + 2 > v + len) throw openError(0, new Uint8Array(0), 'truncated capability');
      const code = buf[c]!;
      const clen = buf[c + 1]!;
      if (c + 2 + clen > v + len)
        throw openError(0, buf.slice(c, v + len), 'capability overruns its parameter');
      const cap = decodeCapability(code, buf.subarray(c + 2, c + 2 + clen));
      if (typeof cap === 'string') throw openError(0, buf.slice(c, c + 2 + clen), cap);
      capabilities.push(cap);
      c += 2 + clen;
    }
    params.push({ type: 2, capabilities });
    p = v + len;
  }
  // RFC 7607 §2: a four-octet speaker carries its real AS in capability 65; 0 there is Bad Peer AS too.
  for (const c of openCapabilities({ params }))
    if (c.kind === 'four-octet-as' && c.as === 0)
      throw openError(2, new Uint8Array(0), 'AS 0 in the four-octet AS capability');
  const msg: OpenMessage = { type: 'OPEN', version, myAs, holdTime, bgpId, params };
  if (extendedParams) msg.extendedParams = true;
  return msg;
}

export function encodeOpen(o: OpenFields, ctx: DecodeContext = DEFAULT_CONTEXT): Uint8Array {
  const body = new Writer(64);
  for (const prm of o.params) {
    const value = new Writer(64);
    if ('capabilities' in prm) {
      for (const cap of prm.capabilities) {
        const v = encodeCapabilityValue(cap);
        if (v.length > 255) throw new RangeError('capability value longer than 255 octets');
        value.u8(capabilityCode(cap));
        value.u8(v.length);
        value.bytes(v);
      }
    } else {
      value.bytes(prm.data);
    }
    body.u8(prm.type);
    const bytes = value.finish();
    if (o.extendedParams) body.u16(bytes.length);
    else {
      if (bytes.length > 255) throw new RangeError('optional parameter too long; set extendedParams');
      body.u8(bytes.length);
    }
    body.bytes(bytes);
  }
  const params = body.finish();
  const w = new Writer(64 + params.length);
  const start = writeHeader(w, MessageType.OPEN);
  w.u8(o.version);
  w.u16(o.myAs);
  w.u16(o.holdTime);
  w.u32(o.bgpId);
  if (o.extendedParams) {
    w.u8(255);
    w.u8(255);
    w.u16(params.length);
  } else {
    if (params.length > 255) throw new RangeError('optional parameters too long; set extendedParams');
    w.u8(params.length);
  }
  w.bytes(params);
  finishHeader(w, start, ctx, MessageType.OPEN);
  return w.finish();
}

/** All capabilities of an OPEN, across its optional parameters. */
export function openCapabilities(o: Pick<OpenFields, 'params'>): Capability[] {
  const out: Capability[] = [];
  for (const p of o.params) if ('capabilities' in p) out.push(...p.capabilities);
  return out;
}

/** The speaker's AS: the 4-octet AS capability's value when present, else My Autonomous System. */
export function openAs(o: OpenFields): number {
  for (const c of openCapabilities(o)) if (c.kind === 'four-octet-as') return c.as;
  return o.myAs;
}

/** Builds an OPEN with one capability per optional parameter (like most speakers do). */
export function makeOpen(opts: {
  as: number;
  holdTime?: number;
  bgpId: number;
  capabilities: Capability[];
}): OpenMessage {
  return {
    type: 'OPEN',
    version: 4,
    myAs: opts.as > 0xffff ? AS_TRANS : opts.as,
    holdTime: opts.holdTime ?? 90,
    bgpId: opts.bgpId,
    params: opts.capabilities.map((c) => ({ type: 2 as const, capabilities: [c] })),
  };
}

/**
 * The decoding context of a session from both OPENs (RFC 6793, RFC 7911, RFC 8654):
 * add-path receive for a family when we offered receive and the peer offered send, and so on.
 */
/**
 * The session's decoding context from both OPENs. `policy` adds what the OPENs do not say
 * (the peer's type, first-AS enforcement, AFI/SAFI disable), as in createContext.
 */
export function negotiateContext(
  local: OpenFields,
  remote: OpenFields,
  policy: Pick<ContextOptions, 'peerType' | 'enforceFirstAs' | 'afiSafiDisable'> = {},
): DecodeContext {
  const lc = openCapabilities(local);
  const rc = openCapabilities(remote);
  const both = (kind: Capability['kind']) =>
    lc.some((c) => c.kind === kind) && rc.some((c) => c.kind === kind);
  const modes = (caps: Capability[]) => {
    const m = new Map<number, number>();
    for (const c of caps)
      if (c.kind === 'add-path') for (const f of c.families) m.set(afiSafiKey(f.afi, f.safi), f.mode & 3);
    return m;
  };
  const lm = modes(lc);
  const rm = modes(rc);
  const addPath = new Map<number, number>();
  for (const [k, l] of lm) {
    const r = rm.get(k) ?? 0;
    const mode = (l & 1 && r & 2 ? 1 : 0) | (l & 2 && r & 1 ? 2 : 0);
    if (mode) addPath.set(k, mode);
  }
  // RFC 8950: the next hops this side accepts are the ones it advertised it can receive.
  const extendedNextHop = new Map<number, number[]>();
  for (const c of lc)
    if (c.kind === 'extended-next-hop')
      for (const e of c.entries) {
        const k = afiSafiKey(e.afi, e.safi);
        extendedNextHop.set(k, [...(extendedNextHop.get(k) ?? []), e.nextHopAfi]);
      }
  return createContext({
    ...policy,
    extendedNextHop,
    fourOctetAs: both('four-octet-as'),
    extendedMessage: both('extended-message'),
    addPath,
    checkMarker: true,
  });
}
