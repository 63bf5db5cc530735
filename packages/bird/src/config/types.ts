/** The speaker's configuration, whatever its source (flags, file, etcd). */
import type { Family } from '../session/capabilities.js';

export interface PeerSpec {
  address: string;
  port?: number | undefined;
  /** Peer AS; undefined = same as ours (iBGP). */
  as?: number | undefined;
  passive?: boolean | undefined;
  name?: string | undefined;
  rrClient?: boolean | undefined;
  holdTime?: number | undefined;
  keepaliveTime?: number | undefined;
  gracefulRestart?: boolean | undefined;
  families?: Family[] | undefined;
  localAddress?: string | undefined;
  /** TCP MD5 password (RFC 2385), at most 80 bytes; never logged or shown. */
  password?: string | undefined;
}

export interface SpeakerConfig {
  routerId: string;
  localAs: number;
  /** Where to listen for BGP; undefined = do not listen. */
  listen: { host: string; port: number } | undefined;
  peers: PeerSpec[];
  /** Prefixes we originate. */
  exports: string[];
  /** Import only routes inside these prefixes (empty = all). */
  importAllow: string[];
  kernel: boolean;
  kernelReconcileSeconds: number;
  controlPath: string | undefined;
  holdTime: number;
  keepaliveTime: number | undefined;
  connectRetry: number;
  /** Seconds (at most) a session waits before its first connect (BIRD's connect delay time). */
  connectDelay: number;
  gracefulRestart: { enabled: boolean; restartTime: number };
  /**
   * Readiness asks every peer to be Established until the mesh was complete once, or for
   * this many seconds after start (Calico's threshold time); afterwards one is enough.
   */
  readinessStrictSeconds: number;
  /** Act as a route reflector with this cluster id (dotted quad). */
  clusterId: string | undefined;
  /** Next hop for IPv6 routes on IPv4 sessions (and vice versa). */
  nextHopV4: string | undefined;
  nextHopV6: string | undefined;
  health: { host: string; port: number } | undefined;
  metrics: { host: string; port: number } | undefined;
  logLevel: string;
}

export const DEFAULTS: SpeakerConfig = {
  routerId: '',
  localAs: 64512,
  listen: { host: '0.0.0.0', port: 179 },
  peers: [],
  exports: [],
  importAllow: [],
  kernel: true,
  kernelReconcileSeconds: 10,
  controlPath: '/var/run/tricolor/bird.ctl',
  holdTime: 90,
  keepaliveTime: undefined,
  connectRetry: 5,
  connectDelay: 5,
  gracefulRestart: { enabled: true, restartTime: 120 },
  readinessStrictSeconds: 30,
  clusterId: undefined,
  nextHopV4: undefined,
  nextHopV6: undefined,
  health: undefined,
  metrics: undefined,
  logLevel: 'info',
};

export class BirdConfigError extends Error {
  override readonly name = 'BirdConfigError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}
