/**
 * tricolor-node's configuration: the variables felix and bird read when they run as separate
 * processes (NODENAME, IP, ETCD_*, FELIX_*, BIRD_*), read all before anything starts so that
 * an operator sees every problem at once, each naming its variable.
 */
import { BirdConfigError, parseArgs as birdArgs, type SpeakerConfig } from '@tricolor/bird';
import { ConfigError, type EtcdConfig, configFromEnv as etcdConfigFromEnv } from '@tricolor/datastore';
import { type EnvConfig, FelixConfigError, configFromEnv as felixConfigFromEnv } from '@tricolor/felix';

export class NodeConfigError extends Error {
  override readonly name = 'NodeConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

export interface NodeConfig {
  etcd: EtcdConfig;
  felix: EnvConfig;
  /** bird's etcd-mode base configuration (health, metrics, control socket, log level). */
  bird: SpeakerConfig;
}

/** Reads every daemon's variables; throws NodeConfigError listing each problem. */
export function nodeConfigFromEnv(env: NodeJS.ProcessEnv): NodeConfig {
  const problems: string[] = [];
  const read = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      if (e instanceof FelixConfigError) problems.push(...e.problems);
      else if (e instanceof BirdConfigError || e instanceof ConfigError) problems.push(e.message);
      else throw e;
      return undefined;
    }
  };
  const etcd = read(() => etcdConfigFromEnv(env));
  const felix = read(() => felixConfigFromEnv(env));
  // No flags: bird in etcd mode, as the DaemonSet runs it.
  const bird = read(() => birdArgs([], env).config);
  if (!etcd || !felix || !bird) throw new NodeConfigError(problems);
  return { etcd, felix, bird };
}
