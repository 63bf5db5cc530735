import { type AddPathCapability, addPathCap } from './add-path.js';
import { type EnhancedRouteRefreshCapability, enhancedRouteRefreshCap } from './enhanced-route-refresh.js';
import { type ExtendedMessageCapability, extendedMessageCap } from './extended-message.js';
import { type ExtendedNextHopCapability, extendedNextHopCap } from './extended-next-hop.js';
import { type FourOctetAsCapability, fourOctetAsCap } from './four-octet-as.js';
import { type FqdnCapability, fqdnCap } from './fqdn.js';
import { type GracefulRestartCapability, gracefulRestartCap } from './graceful-restart.js';
import { type MultiprotocolCapability, multiprotocolCap } from './multiprotocol.js';
import { type RouteRefreshCapability, routeRefreshCap } from './route-refresh.js';
import type { CapSpec, UnknownCapability } from './types.js';

export type { AddPathCapability } from './add-path.js';
export type { EnhancedRouteRefreshCapability } from './enhanced-route-refresh.js';
export type { ExtendedMessageCapability } from './extended-message.js';
export type { ExtendedNextHopCapability } from './extended-next-hop.js';
export type { FourOctetAsCapability } from './four-octet-as.js';
export type { FqdnCapability } from './fqdn.js';
export type { GracefulRestartCapability } from './graceful-restart.js';
export type { MultiprotocolCapability } from './multiprotocol.js';
export type { RouteRefreshCapability } from './route-refresh.js';
export type { CapSpec, UnknownCapability } from './types.js';

export type Capability =
  | MultiprotocolCapability
  | RouteRefreshCapability
  | ExtendedNextHopCapability
  | ExtendedMessageCapability
  | GracefulRestartCapability
  | FourOctetAsCapability
  | AddPathCapability
  | EnhancedRouteRefreshCapability
  | FqdnCapability
  | UnknownCapability;

type AnyCap = CapSpec<Capability>;

const SPECS = [
  multiprotocolCap,
  routeRefreshCap,
  extendedNextHopCap,
  extendedMessageCap,
  gracefulRestartCap,
  fourOctetAsCap,
  addPathCap,
  enhancedRouteRefreshCap,
  fqdnCap,
] as unknown as AnyCap[];

export const CAP_BY_CODE = new Map<number, AnyCap>(SPECS.map((s) => [s.code, s]));
export const CAP_BY_KIND = new Map<string, AnyCap>(SPECS.map((s) => [s.kind, s]));

export function capabilityCode(c: Capability): number {
  return c.kind === 'unknown' ? c.code : CAP_BY_KIND.get(c.kind)!.code;
}

/** Decodes one capability value; returns a string when it is malformed. */
export function decodeCapability(code: number, v: Uint8Array): Capability | string {
  const spec = CAP_BY_CODE.get(code);
  return spec ? spec.decode(v) : { kind: 'unknown', code, data: v.slice() };
}

export function encodeCapabilityValue(c: Capability): Uint8Array {
  return c.kind === 'unknown' ? c.data : CAP_BY_KIND.get(c.kind)!.encode(c);
}
