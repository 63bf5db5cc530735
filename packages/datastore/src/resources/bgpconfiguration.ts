import { type BGPPassword, bgpPassword } from './bgp-password.js';
import { AS_RANGE, Fields } from './fields.js';
import { checkEnvelope, compact, type Resource } from './resource.js';

export interface BGPConfigurationSpec {
  asNumber: number;
  nodeToNodeMeshEnabled: boolean;
  listenPort: number;
  /** Seconds. RFC 4271 suggests hold 90 s and keepalive a third of it. */
  keepaliveTime: number;
  holdTime: number;
  /** Seconds a restarting peer's routes are kept stale (RFC 4724). */
  gracefulRestartTime: number;
  /** TCP MD5 password (RFC 2385) of every node-to-node mesh session; never logged. */
  nodeMeshPassword?: BGPPassword;
  logSeverity?: 'debug' | 'info' | 'warn' | 'error';
}
export type BGPConfiguration = Resource<'BGPConfiguration', BGPConfigurationSpec>;

export const DEFAULT_BGP_CONFIGURATION: BGPConfigurationSpec = {
  asNumber: 64512,
  nodeToNodeMeshEnabled: true,
  listenPort: 179,
  keepaliveTime: 30,
  holdTime: 90,
  gracefulRestartTime: 120,
};

export function validateBGPConfiguration(raw: unknown): BGPConfiguration {
  const f = new Fields('BGPConfiguration', raw);
  const metadata = checkEnvelope(f, 'BGPConfiguration', false);
  const d = DEFAULT_BGP_CONFIGURATION;
  const holdTime = f.integer('spec.holdTime', { min: 0, max: 65535 }) ?? d.holdTime;
  if (holdTime === 1 || holdTime === 2) f.fail('spec.holdTime', 'must be 0 or at least 3 seconds (RFC 4271)');
  const keepaliveTime = f.integer('spec.keepaliveTime', { min: 0, max: 21845 }) ?? Math.floor(holdTime / 3);
  if (holdTime > 0 && keepaliveTime >= holdTime)
    f.fail('spec.keepaliveTime', `${keepaliveTime} must be below holdTime ${holdTime}`);
  const spec = compact<BGPConfigurationSpec>({
    asNumber: f.integer('spec.asNumber', AS_RANGE) ?? d.asNumber,
    nodeToNodeMeshEnabled: f.boolean('spec.nodeToNodeMeshEnabled') ?? d.nodeToNodeMeshEnabled,
    listenPort: f.integer('spec.listenPort', { min: 1, max: 65535 }) ?? d.listenPort,
    keepaliveTime,
    holdTime,
    gracefulRestartTime:
      f.integer('spec.gracefulRestartTime', { min: 0, max: 4095 }) ?? d.gracefulRestartTime,
    nodeMeshPassword: bgpPassword(f, 'spec.nodeMeshPassword'),
    logSeverity: f.string('spec.logSeverity', {
      oneOf: ['debug', 'info', 'warn', 'error'],
    }) as BGPConfigurationSpec['logSeverity'],
  });
  f.done();
  return { kind: 'BGPConfiguration', apiVersion: 'tricolor.dev/v1', metadata, spec };
}
