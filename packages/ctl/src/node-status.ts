import { age, table } from './output.js';

/** What bird's control socket answers to `show protocols` (one entry per BGP session). */
export interface BirdProtocol {
  name: string;
  address: string;
  port?: number;
  as: number;
  type: string;
  state: string;
  since: string;
  routerId?: string;
  holdTime?: number;
  families?: string[];
  rrClient?: boolean;
  passive?: boolean;
  gracefulRestart?: { negotiated?: boolean; pending?: boolean };
  prefixesReceived?: number;
  prefixesSent?: number;
  updatesIn?: number;
  updatesOut?: number;
  establishedTotal?: number;
  lastError?: string;
}

/** What it answers to `show status`. */
export interface BirdStatus {
  routerId: string;
  as: number;
  clusterId?: string | null;
  uptimeSeconds: number;
  ready?: boolean;
  peers?: number;
  established?: number;
}

/**
 * calicoctl's PEER TYPE from the session's name: bird names mesh sessions `Mesh_…` and
 * BGPPeer sessions `Node_…` (as Calico's BIRD config does; `Global_…` for global peers).
 */
export function peerType(p: BirdProtocol): string {
  let t = p.name.startsWith('Mesh_')
    ? 'node-to-node mesh'
    : p.name.startsWith('Global_')
      ? 'global'
      : p.name.startsWith('Node_')
        ? 'node specific'
        : p.type;
  if (p.rrClient) t += ' (rr client)';
  return t;
}

/** calicoctl's STATE column: `up` for an Established session, `start` for one being set up. */
export function peerState(p: BirdProtocol): string {
  if (p.state === 'Established') return 'up';
  if (p.state === 'Idle') return p.passive ? 'passive' : 'start';
  return 'start';
}

function sinceCell(iso: string, nowMs: number): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return `${iso.slice(0, 19).replace('T', ' ')} (${age(t, nowMs)})`;
}

function infoCell(p: BirdProtocol): string {
  const parts = [p.state];
  if (p.gracefulRestart?.pending) parts.push('graceful restart');
  if (p.lastError && p.state !== 'Established') parts.push(p.lastError);
  return parts.join('; ');
}

/** The text of `tricolorctl node status`, as `calicoctl node status` lays it out. */
export function renderNodeStatus(
  source: string,
  status: BirdStatus,
  protocols: BirdProtocol[],
  wide: boolean,
  nowMs = Date.now(),
): string {
  const out: string[] = [
    `Tricolor bird is running: router id ${status.routerId}, AS ${status.as}` +
      `${status.clusterId ? `, route reflector (cluster ${status.clusterId})` : ''}, up ${age(nowMs - status.uptimeSeconds * 1000, nowMs)}`,
    `(read from bird's control socket ${source})`,
  ];
  for (const family of [4, 6] as const) {
    const peers = protocols.filter((p) => (p.address.includes(':') ? 6 : 4) === family);
    out.push('', `IPv${family} BGP status`);
    if (peers.length === 0) {
      out.push(`No IPv${family} peers found.`);
      continue;
    }
    const headers = ['PEER ADDRESS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO'];
    if (wide) headers.push('NAME', 'ASN', 'ROUTER ID', 'HOLD', 'IMPORTED', 'EXPORTED', 'UPDATES IN/OUT');
    const rows = peers.map((p) => {
      const row: (string | number)[] = [
        p.address,
        peerType(p),
        peerState(p),
        sinceCell(p.since, nowMs),
        infoCell(p),
      ];
      if (wide)
        row.push(
          p.name,
          p.as,
          p.routerId ?? '',
          p.holdTime ?? '',
          p.prefixesReceived ?? '',
          p.prefixesSent ?? '',
          p.updatesIn === undefined ? '' : `${p.updatesIn}/${p.updatesOut ?? 0}`,
        );
      return row;
    });
    out.push(table(headers, rows).trimEnd());
  }
  return `${out.join('\n')}\n`;
}
