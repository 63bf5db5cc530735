import {
  type DecodeContext,
  encodeMessage,
  ipv4FromString,
  ipv6FromString,
  makeOpen,
  type OpenMessage,
  type PathAttribute,
  type Prefix,
  parsePrefix,
  shutdownData,
  type UpdateFields,
} from '../src/index.js';

export const ip4 = ipv4FromString;

/** An OPEN with every capability the codec knows plus an unknown one. */
export function sampleOpen(): OpenMessage {
  return makeOpen({
    as: 4200000001,
    holdTime: 90,
    bgpId: ip4('192.0.2.1'),
    capabilities: [
      { kind: 'multiprotocol', afi: 1, safi: 1, reserved: 0 },
      { kind: 'multiprotocol', afi: 2, safi: 1, reserved: 0 },
      { kind: 'route-refresh' },
      { kind: 'extended-next-hop', entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] },
      { kind: 'extended-message' },
      {
        kind: 'graceful-restart',
        restartFlags: 8,
        restartTime: 120,
        families: [{ afi: 1, safi: 1, flags: 0x80 }],
      },
      { kind: 'four-octet-as', as: 4200000001 },
      { kind: 'add-path', families: [{ afi: 1, safi: 1, mode: 3 }] },
      { kind: 'enhanced-route-refresh' },
      { kind: 'fqdn', hostname: 'node-1', domain: 'example.net' },
      { kind: 'unknown', code: 128, data: new Uint8Array(0) },
    ],
  });
}

/** An UPDATE with every attribute type, IPv4 NLRI/withdrawals, and IPv6 MP_REACH/MP_UNREACH. */
export function sampleUpdate(fourOctetAs = true): UpdateFields {
  const attributes: PathAttribute[] = [
    { kind: 'origin', flags: 0x40, origin: 0 },
    {
      kind: 'as-path',
      flags: 0x40,
      segments: [
        { type: 2, asns: fourOctetAs ? [4200000001, 65001] : [23456, 65001] },
        { type: 1, asns: [64512, 64513] },
      ],
    },
    { kind: 'next-hop', flags: 0x40, nextHop: ip4('192.0.2.1') },
    { kind: 'med', flags: 0x80, med: 50 },
    { kind: 'local-pref', flags: 0x40, localPref: 200 },
    { kind: 'atomic-aggregate', flags: 0x40 },
    { kind: 'aggregator', flags: 0xc0, as: fourOctetAs ? 4200000001 : 23456, address: ip4('192.0.2.9') },
    { kind: 'communities', flags: 0xc0, communities: [((65001 << 16) | 100) >>> 0, 0xffffff01] },
    { kind: 'originator-id', flags: 0x80, originatorId: ip4('192.0.2.7') },
    { kind: 'cluster-list', flags: 0x80, clusterIds: [ip4('192.0.2.8'), ip4('192.0.2.10')] },
    {
      kind: 'mp-reach',
      flags: 0x90,
      afi: 2,
      safi: 1,
      nextHop: new Uint8Array([...ipv6FromString('2001:db8::1'), ...ipv6FromString('fe80::1')]),
      reserved: 0,
      nlri: [parsePrefix('2001:db8:1::/48'), parsePrefix('2001:db8:2::/64')],
    },
    { kind: 'mp-unreach', flags: 0x90, afi: 2, safi: 1, withdrawn: [parsePrefix('2001:db8:3::/48')] },
    {
      kind: 'extended-communities',
      flags: 0xc0,
      communities: [new Uint8Array([0, 2, 0xfd, 0xe9, 0, 0, 0, 1])],
    },
    { kind: 'large-communities', flags: 0xc0, communities: [[4200000001, 1, 2]] },
    { kind: 'unknown', code: 99, flags: 0xe0, data: new Uint8Array([1, 2, 3]) },
  ];
  if (!fourOctetAs) {
    attributes.push({
      kind: 'as4-path',
      flags: 0xc0,
      segments: [
        { type: 2, asns: [4200000001, 65001] },
        { type: 1, asns: [64512, 64513] },
      ],
    });
    attributes.push({ kind: 'as4-aggregator', flags: 0xc0, as: 4200000001, address: ip4('192.0.2.9') });
  }
  return {
    withdrawn: [parsePrefix('198.51.100.0/24')],
    attributes,
    nlri: [
      parsePrefix('10.1.0.0/16'),
      parsePrefix('10.2.3.0/24'),
      parsePrefix('0.0.0.0/0'),
      parsePrefix('10.9.9.9/32'),
    ],
  };
}

/** A plain IPv4 UPDATE with n /24 prefixes starting at 10.0.0.0 + offset*256. */
export function ipv4Update(n: number, offset = 0, pathIds = false): UpdateFields {
  const nlri: Prefix[] = [];
  for (let i = 0; i < n; i++) {
    const a = (0x0a000000 + (offset + i) * 256) >>> 0;
    const p: Prefix = {
      afi: 1,
      len: 24,
      addr: new Uint8Array([a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, 0]),
    };
    if (pathIds) p.pathId = i + 1;
    nlri.push(p);
  }
  return {
    withdrawn: [],
    nlri,
    attributes: [
      { kind: 'origin', flags: 0x40, origin: 0 },
      { kind: 'as-path', flags: 0x40, segments: [{ type: 2, asns: [65001, 4200000001, 3356] }] },
      { kind: 'next-hop', flags: 0x40, nextHop: ip4('192.0.2.1') },
      { kind: 'med', flags: 0x80, med: 10 },
      { kind: 'communities', flags: 0xc0, communities: [0xfde90064] },
    ],
  };
}

/** Encoded seed messages of every type, for fuzzing. */
export function seedMessages(ctx: DecodeContext): Uint8Array[] {
  return [
    encodeMessage(sampleOpen(), ctx),
    encodeMessage({ type: 'UPDATE', ...sampleUpdate(ctx.fourOctetAs) }, ctx),
    encodeMessage({ type: 'UPDATE', ...ipv4Update(20) }, ctx),
    encodeMessage({ type: 'NOTIFICATION', code: 6, subcode: 2, data: shutdownData('maintenance') }, ctx),
    encodeMessage(
      { type: 'NOTIFICATION', code: 3, subcode: 5, data: new Uint8Array([0x40, 1, 2, 0, 0]) },
      ctx,
    ),
    encodeMessage({ type: 'KEEPALIVE' }, ctx),
    encodeMessage({ type: 'ROUTE-REFRESH', afi: 1, subtype: 1, safi: 1 }, ctx),
  ];
}
