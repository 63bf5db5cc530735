import type { CapSpec } from './types.js';

/** Route Refresh (code 2, RFC 2918): no value. */
export interface RouteRefreshCapability {
  kind: 'route-refresh';
}

export const routeRefreshCap: CapSpec<RouteRefreshCapability> = {
  code: 2,
  kind: 'route-refresh',
  decode(v) {
    return v.length === 0 ? { kind: 'route-refresh' } : `route-refresh capability length ${v.length}`;
  },
  encode() {
    return new Uint8Array(0);
  },
};
