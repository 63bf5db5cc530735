import type { CapSpec } from './types.js';

/** Enhanced Route Refresh (code 70, RFC 7313): no value. */
export interface EnhancedRouteRefreshCapability {
  kind: 'enhanced-route-refresh';
}

export const enhancedRouteRefreshCap: CapSpec<EnhancedRouteRefreshCapability> = {
  code: 70,
  kind: 'enhanced-route-refresh',
  decode(v) {
    return v.length === 0
      ? { kind: 'enhanced-route-refresh' }
      : `enhanced-route-refresh capability length ${v.length}`;
  },
  encode() {
    return new Uint8Array(0);
  },
};
