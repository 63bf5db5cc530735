/**
 * tricolor-kube-controllers' settings from the environment, validated at start with errors
 * that name the variable. etcd comes from the datastore's usual ETCD_* variables; the API
 * server from KUBECONFIG, or the in-cluster service account when it is unset.
 */
import { hostname } from 'node:os';

export const CONTROLLERS = [
  'node',
  'namespace',
  'serviceaccount',
  'workloadendpoint',
  'ipamgc',
  'policy',
] as const;
export type ControllerName = (typeof CONTROLLERS)[number];

export interface KubeControllersConfig {
  kubeconfig?: string;
  enabled: ControllerName[];
  resyncPeriodMs: number;
  gcIntervalMs: number;
  gcGraceMs: number;
  healthHost: string;
  healthPort: number;
  metricsHost: string;
  metricsPort: number;
  /** namespace/name of the Lease; undefined: no election (one replica, e.g. tests). */
  lease?: { namespace: string; name: string };
  identity: string;
  logLevel: string;
}

export class KubeControllersConfigError extends Error {}

export function configFromEnv(env: NodeJS.ProcessEnv): KubeControllersConfig {
  const problems: string[] = [];
  const seconds = (name: string, dflt: number, min = 1): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return dflt * 1000;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) {
      problems.push(`${name}: ${JSON.stringify(raw)} is not a number of seconds >= ${min}`);
      return dflt * 1000;
    }
    return n * 1000;
  };
  const port = (name: string, dflt: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return dflt;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      problems.push(`${name}: ${JSON.stringify(raw)} is not a port (0-65535)`);
      return dflt;
    }
    return n;
  };
  const enabledRaw =
    env.ENABLED_CONTROLLERS ?? 'node,namespace,serviceaccount,workloadendpoint,ipamgc,policy';
  const enabled: ControllerName[] = [];
  for (const c of enabledRaw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if ((CONTROLLERS as readonly string[]).includes(c)) enabled.push(c as ControllerName);
    else problems.push(`ENABLED_CONTROLLERS: ${JSON.stringify(c)} is not one of ${CONTROLLERS.join(', ')}`);
  }
  let lease: KubeControllersConfig['lease'];
  const leaseRaw = env.TRICOLOR_KUBECONTROLLERS_LEASE ?? '';
  if (leaseRaw) {
    const m = /^([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(leaseRaw);
    if (m) lease = { namespace: m[1]!, name: m[2]! };
    else problems.push(`TRICOLOR_KUBECONTROLLERS_LEASE: ${JSON.stringify(leaseRaw)} is not namespace/name`);
  }
  const cfg: KubeControllersConfig = {
    kubeconfig: env.KUBECONFIG || undefined,
    enabled,
    resyncPeriodMs: seconds('TRICOLOR_KUBECONTROLLERS_RESYNC_PERIOD', 300),
    gcIntervalMs: seconds('TRICOLOR_KUBECONTROLLERS_GC_INTERVAL', 60),
    gcGraceMs: seconds('TRICOLOR_KUBECONTROLLERS_GC_GRACE', 600, 0),
    healthHost: env.TRICOLOR_KUBECONTROLLERS_HEALTHHOST || '127.0.0.1',
    healthPort: port('TRICOLOR_KUBECONTROLLERS_HEALTHPORT', 9096),
    metricsHost: env.TRICOLOR_KUBECONTROLLERS_METRICSHOST || '127.0.0.1',
    metricsPort: port('TRICOLOR_KUBECONTROLLERS_METRICSPORT', 9094),
    lease,
    identity: env.POD_NAME || hostname(),
    logLevel: env.LOG_LEVEL || 'info',
  };
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(cfg.logLevel))
    problems.push(
      `LOG_LEVEL: ${JSON.stringify(cfg.logLevel)} is not trace, debug, info, warn, error or fatal`,
    );
  if (problems.length) throw new KubeControllersConfigError(`invalid configuration: ${problems.join('; ')}`);
  return cfg;
}
