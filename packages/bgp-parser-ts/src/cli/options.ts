/** bgp-decode's command line: the options that describe the session's decoding context. */
import { parseArgs as parseNodeArgs } from 'node:util';
import { parseAfiSafi } from '../constants.js';
import { afiSafiKey, createContext, type DecodeContext, PEER_TYPES, type PeerType } from '../context.js';

export const USAGE = `usage: bgp-decode [options] [file]
Reads hex BGP messages, one per line (spaces and colons ignored), from the file or stdin,
and prints one JSON line per message with the action RFC 7606 requires ("action").

  --two-octet-as               the session did not negotiate 4-octet AS numbers (RFC 6793)
  --add-path <families|all>    add-path receive, e.g. ipv4-unicast,ipv6-unicast (RFC 7911)
  --peer-type <type>           internal (default), external or confederation (RFC 7606 §7.5, §7.9, §7.10)
  --enforce-first-as <asn>     AS_PATH must start with the peer's AS (RFC 4271 §6.3)
  --afi-safi-disable           MP_REACH/MP_UNREACH errors disable the family instead of resetting (RFC 4760 §7)
  --extended-next-hop <fams>   families that accept the other AFI's next hop (RFC 8950), e.g. ipv6-unicast
  -h, --help`;

const PARSE = {
  allowPositionals: true,
  strict: true,
  options: {
    'two-octet-as': { type: 'boolean' },
    'add-path': { type: 'string' },
    'peer-type': { type: 'string' },
    'enforce-first-as': { type: 'string' },
    'afi-safi-disable': { type: 'boolean' },
    'extended-next-hop': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
} as const;

function families(v: string, what: string): number[][] | string {
  const out: number[][] = [];
  for (const name of v.split(',')) {
    const fam = parseAfiSafi(name.trim());
    if (!fam) return `${what}: unknown address family ${JSON.stringify(name)}`;
    out.push(fam);
  }
  return out;
}

/** Parses the command line into a decoding context and an optional input file; a string is an error or the usage. */
export function parseArgs(argv: string[]): { ctx: DecodeContext; file?: string } | string {
  let parsed: ReturnType<typeof parseNodeArgs<typeof PARSE>>;
  try {
    parsed = parseNodeArgs({ ...PARSE, args: argv });
  } catch (e) {
    return `${(e as Error).message}\n${USAGE}`;
  }
  const { values: o, positionals } = parsed;
  if (o.help) return USAGE;
  if (positionals.length > 1) return `one input file at most, got ${positionals.length}\n${USAGE}`;
  const addPath = new Map<number, number>();
  if (o['add-path'] !== undefined) {
    if (o['add-path'] === 'all') {
      addPath.set(afiSafiKey(1, 1), 3);
      addPath.set(afiSafiKey(2, 1), 3);
    } else {
      const fams = families(o['add-path'], '--add-path');
      if (typeof fams === 'string') return fams;
      for (const [afi, safi] of fams) addPath.set(afiSafiKey(afi!, safi!), 3);
    }
  }
  const peerType = o['peer-type'];
  if (peerType !== undefined && !PEER_TYPES.includes(peerType as PeerType))
    return `--peer-type: expected one of ${PEER_TYPES.join(', ')}, got ${JSON.stringify(peerType)}`;
  let enforceFirstAs: number | undefined;
  if (o['enforce-first-as'] !== undefined) {
    enforceFirstAs = Number(o['enforce-first-as']);
    if (!/^\d+$/.test(o['enforce-first-as']) || enforceFirstAs < 1 || enforceFirstAs > 0xffffffff)
      return `--enforce-first-as: expected an AS number 1..4294967295, got ${JSON.stringify(o['enforce-first-as'])}`;
  }
  let extendedNextHop: Map<number, number[]> | undefined;
  if (o['extended-next-hop'] !== undefined) {
    const fams = families(o['extended-next-hop'], '--extended-next-hop');
    if (typeof fams === 'string') return fams;
    extendedNextHop = new Map(fams.map(([afi, safi]) => [afiSafiKey(afi!, safi!), [afi === 1 ? 2 : 1]]));
  }
  const ctx = createContext({
    fourOctetAs: !o['two-octet-as'],
    addPath,
    extendedMessage: true,
    ...(peerType !== undefined ? { peerType: peerType as PeerType } : {}),
    ...(enforceFirstAs !== undefined ? { enforceFirstAs } : {}),
    ...(o['afi-safi-disable'] ? { afiSafiDisable: true } : {}),
    ...(extendedNextHop ? { extendedNextHop } : {}),
  });
  const file = positionals[0];
  return file === undefined || file === '-' ? { ctx } : { ctx, file };
}
