/** BGP message types (RFC 4271 §4.1, RFC 2918). */
export const MessageType = {
  OPEN: 1,
  UPDATE: 2,
  NOTIFICATION: 3,
  KEEPALIVE: 4,
  ROUTE_REFRESH: 5,
} as const;

export const MESSAGE_TYPE_NAMES: Record<number, string> = {
  1: 'OPEN',
  2: 'UPDATE',
  3: 'NOTIFICATION',
  4: 'KEEPALIVE',
  5: 'ROUTE-REFRESH',
};

export const HEADER_LENGTH = 19;
export const MARKER_LENGTH = 16;
export const MAX_MESSAGE_LENGTH = 4096;
/** RFC 8654: maximum once the Extended Message capability is negotiated (not for OPEN/KEEPALIVE). */
export const MAX_EXTENDED_MESSAGE_LENGTH = 65535;

/** Path attribute flag bits (RFC 4271 §4.3). */
export const AttrFlag = {
  OPTIONAL: 0x80,
  TRANSITIVE: 0x40,
  PARTIAL: 0x20,
  EXTENDED_LENGTH: 0x10,
} as const;

/** Path attribute type codes. */
export const AttrType = {
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MULTI_EXIT_DISC: 4,
  LOCAL_PREF: 5,
  ATOMIC_AGGREGATE: 6,
  AGGREGATOR: 7,
  COMMUNITIES: 8,
  ORIGINATOR_ID: 9,
  CLUSTER_LIST: 10,
  MP_REACH_NLRI: 14,
  MP_UNREACH_NLRI: 15,
  EXTENDED_COMMUNITIES: 16,
  AS4_PATH: 17,
  AS4_AGGREGATOR: 18,
  LARGE_COMMUNITY: 32,
} as const;

export const ATTR_TYPE_NAMES: Record<number, string> = {
  1: 'ORIGIN',
  2: 'AS_PATH',
  3: 'NEXT_HOP',
  4: 'MULTI_EXIT_DISC',
  5: 'LOCAL_PREF',
  6: 'ATOMIC_AGGREGATE',
  7: 'AGGREGATOR',
  8: 'COMMUNITIES',
  9: 'ORIGINATOR_ID',
  10: 'CLUSTER_LIST',
  14: 'MP_REACH_NLRI',
  15: 'MP_UNREACH_NLRI',
  16: 'EXTENDED_COMMUNITIES',
  17: 'AS4_PATH',
  18: 'AS4_AGGREGATOR',
  32: 'LARGE_COMMUNITY',
};

export const Origin = { IGP: 0, EGP: 1, INCOMPLETE: 2 } as const;
export const ORIGIN_NAMES = ['igp', 'egp', 'incomplete'] as const;

/** AS_PATH segment types (RFC 4271, RFC 5065). */
export const AsPathSegmentType = {
  AS_SET: 1,
  AS_SEQUENCE: 2,
  AS_CONFED_SEQUENCE: 3,
  AS_CONFED_SET: 4,
} as const;

export const AS_PATH_SEGMENT_NAMES: Record<number, string> = {
  1: 'AS_SET',
  2: 'AS_SEQUENCE',
  3: 'AS_CONFED_SEQUENCE',
  4: 'AS_CONFED_SET',
};

/** RFC 6793: the 2-octet placeholder for a 4-octet AS number. */
export const AS_TRANS = 23456;

export const Afi = { IPV4: 1, IPV6: 2, L2VPN: 25 } as const;
export const Safi = { UNICAST: 1, MULTICAST: 2, MPLS_LABEL: 4, MPLS_VPN: 128, FLOWSPEC: 133 } as const;

const AFI_NAMES: Record<number, string> = { 1: 'ipv4', 2: 'ipv6', 25: 'l2vpn' };
const SAFI_NAMES: Record<number, string> = {
  1: 'unicast',
  2: 'multicast',
  4: 'mpls-label',
  65: 'vpls',
  70: 'evpn',
  128: 'mpls-vpn',
  133: 'flowspec',
  134: 'flowspec-vpn',
};

/** "ipv4-unicast" style name of an AFI/SAFI pair ("afi-25-safi-70" when unknown). */
export function afiSafiName(afi: number, safi: number): string {
  const a = AFI_NAMES[afi];
  const s = SAFI_NAMES[safi];
  return a && s ? `${a}-${s}` : `afi-${afi}-safi-${safi}`;
}

/** Parses "ipv4-unicast" / "ipv6-unicast" / "afi-1-safi-1" into [afi, safi]. */
export function parseAfiSafi(name: string): [number, number] | undefined {
  const m = /^afi-(\d+)-safi-(\d+)$/.exec(name);
  if (m) return [Number(m[1]), Number(m[2])];
  const dash = name.indexOf('-');
  if (dash < 0) return undefined;
  const a = Object.entries(AFI_NAMES).find(([, v]) => v === name.slice(0, dash));
  const s = Object.entries(SAFI_NAMES).find(([, v]) => v === name.slice(dash + 1));
  return a && s ? [Number(a[0]), Number(s[0])] : undefined;
}

/** Capability codes (IANA registry). */
export const CapabilityCode = {
  MULTIPROTOCOL: 1,
  ROUTE_REFRESH: 2,
  EXTENDED_NEXT_HOP: 5,
  EXTENDED_MESSAGE: 6,
  GRACEFUL_RESTART: 64,
  FOUR_OCTET_AS: 65,
  ADD_PATH: 69,
  ENHANCED_ROUTE_REFRESH: 70,
  FQDN: 73,
} as const;

export const CAPABILITY_NAMES: Record<number, string> = {
  1: 'multiprotocol',
  2: 'route-refresh',
  5: 'extended-next-hop',
  6: 'extended-message',
  64: 'graceful-restart',
  65: 'four-octet-as',
  69: 'add-path',
  70: 'enhanced-route-refresh',
  73: 'fqdn',
};

/** OPEN optional parameter types. */
export const OptParamType = { AUTHENTICATION: 1, CAPABILITIES: 2, EXTENDED_LENGTH: 255 } as const;

/** NOTIFICATION error codes (RFC 4271 §4.5, RFC 4486, RFC 7313). */
export const ErrorCode = {
  MESSAGE_HEADER: 1,
  OPEN_MESSAGE: 2,
  UPDATE_MESSAGE: 3,
  HOLD_TIMER_EXPIRED: 4,
  FSM: 5,
  CEASE: 6,
  ROUTE_REFRESH: 7,
} as const;

export const HeaderSubcode = {
  CONNECTION_NOT_SYNCHRONIZED: 1,
  BAD_MESSAGE_LENGTH: 2,
  BAD_MESSAGE_TYPE: 3,
} as const;

export const OpenSubcode = {
  UNSPECIFIC: 0,
  UNSUPPORTED_VERSION: 1,
  BAD_PEER_AS: 2,
  BAD_BGP_IDENTIFIER: 3,
  UNSUPPORTED_OPTIONAL_PARAMETER: 4,
  UNACCEPTABLE_HOLD_TIME: 6,
  UNSUPPORTED_CAPABILITY: 7,
} as const;

export const UpdateSubcode = {
  UNSPECIFIC: 0,
  MALFORMED_ATTRIBUTE_LIST: 1,
  UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: 2,
  MISSING_WELL_KNOWN_ATTRIBUTE: 3,
  ATTRIBUTE_FLAGS_ERROR: 4,
  ATTRIBUTE_LENGTH_ERROR: 5,
  INVALID_ORIGIN_ATTRIBUTE: 6,
  INVALID_NEXT_HOP_ATTRIBUTE: 8,
  OPTIONAL_ATTRIBUTE_ERROR: 9,
  INVALID_NETWORK_FIELD: 10,
  MALFORMED_AS_PATH: 11,
} as const;

export const CeaseSubcode = {
  MAX_PREFIXES: 1,
  ADMINISTRATIVE_SHUTDOWN: 2,
  PEER_DECONFIGURED: 3,
  ADMINISTRATIVE_RESET: 4,
  CONNECTION_REJECTED: 5,
  OTHER_CONFIGURATION_CHANGE: 6,
  CONNECTION_COLLISION_RESOLUTION: 7,
  OUT_OF_RESOURCES: 8,
  HARD_RESET: 9,
  BFD_DOWN: 10,
} as const;

export const ERROR_CODE_NAMES: Record<number, string> = {
  1: 'Message Header Error',
  2: 'OPEN Message Error',
  3: 'UPDATE Message Error',
  4: 'Hold Timer Expired',
  5: 'Finite State Machine Error',
  6: 'Cease',
  7: 'ROUTE-REFRESH Message Error',
};

export const ERROR_SUBCODE_NAMES: Record<number, Record<number, string>> = {
  1: { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' },
  2: {
    0: 'Unspecific',
    1: 'Unsupported Version Number',
    2: 'Bad Peer AS',
    3: 'Bad BGP Identifier',
    4: 'Unsupported Optional Parameter',
    5: 'Authentication Failure (deprecated)',
    6: 'Unacceptable Hold Time',
    7: 'Unsupported Capability',
    11: 'Role Mismatch',
  },
  3: {
    0: 'Unspecific',
    1: 'Malformed Attribute List',
    2: 'Unrecognized Well-known Attribute',
    3: 'Missing Well-known Attribute',
    4: 'Attribute Flags Error',
    5: 'Attribute Length Error',
    6: 'Invalid ORIGIN Attribute',
    7: 'AS Routing Loop (deprecated)',
    8: 'Invalid NEXT_HOP Attribute',
    9: 'Optional Attribute Error',
    10: 'Invalid Network Field',
    11: 'Malformed AS_PATH',
  },
  5: {
    0: 'Unspecified Error',
    1: 'Receive Unexpected Message in OpenSent State',
    2: 'Receive Unexpected Message in OpenConfirm State',
    3: 'Receive Unexpected Message in Established State',
  },
  6: {
    1: 'Maximum Number of Prefixes Reached',
    2: 'Administrative Shutdown',
    3: 'Peer De-configured',
    4: 'Administrative Reset',
    5: 'Connection Rejected',
    6: 'Other Configuration Change',
    7: 'Connection Collision Resolution',
    8: 'Out of Resources',
    9: 'Hard Reset',
    10: 'BFD Down',
  },
  7: { 1: 'Invalid Message Length' },
};

/** Human name of a NOTIFICATION code/subcode pair. */
export function errorName(code: number, subcode: number): string {
  const c = ERROR_CODE_NAMES[code] ?? `Error code ${code}`;
  const s = ERROR_SUBCODE_NAMES[code]?.[subcode];
  return s ? `${c} / ${s}` : subcode === 0 ? c : `${c} / subcode ${subcode}`;
}

/** ROUTE-REFRESH message subtypes (RFC 7313). */
export const RouteRefreshSubtype = { NORMAL: 0, BORR: 1, EORR: 2 } as const;
