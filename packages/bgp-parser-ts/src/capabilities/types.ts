/** How one capability is decoded and encoded (value only; the code/length header is generic). */
export interface CapSpec<C> {
  code: number;
  kind: string;
  /** Returns the capability, or a string describing why the value is malformed. */
  decode(v: Uint8Array): C | string;
  encode(c: C): Uint8Array;
}

/** A capability the codec does not know, kept as bytes (RFC 5492 says ignore it). */
export interface UnknownCapability {
  kind: 'unknown';
  code: number;
  data: Uint8Array;
}
