import { readFileSync } from 'node:fs';
import type { Datastore, KeyValueStore } from '@tricolor/datastore';
import { CniCode, CniError } from './errors.js';
import type { NetConf } from './spec.js';

/**
 * Where felix writes its node name when it starts (Calico: /var/lib/calico/nodename), for a
 * plugin whose config has no `nodename`. The chart mounts /var/lib/tricolor into felix.
 */
export const DEFAULT_NODENAME_FILE = '/var/lib/tricolor/nodename';

/** Kubernetes node names: DNS subdomains (lower case, digits, '-', '.'; at most 253). */
const NODE_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * The node this plugin acts for, as Calico's plugin finds it: `nodename` from the config,
 * else the file felix writes at start (`nodename_file`, default DEFAULT_NODENAME_FILE).
 * Never the hostname: a guessed name claims blocks for a node nobody exports, leaving the
 * pod unreachable (issue 17). Missing file → "try again later" (felix has not started yet).
 */
export function resolveNodename(conf: NetConf, read: (path: string) => string = readText): string {
  if (conf.nodename) return conf.nodename;
  const file = conf.nodename_file ?? DEFAULT_NODENAME_FILE;
  let text: string;
  try {
    text = read(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CniError(
      code === 'ENOENT' ? CniCode.TryAgainLater : CniCode.IoFailure,
      code === 'ENOENT'
        ? `node name unknown: the network config has no "nodename" and ${file} does not exist ` +
            '(tricolor-felix writes it when it starts: is the tricolor node agent running on this host?)'
        : `node name unknown: the network config has no "nodename" and ${file} cannot be read: ${(e as Error).message}`,
    );
  }
  const name = text.trim();
  if (!NODE_NAME.test(name))
    throw new CniError(
      CniCode.InvalidNetworkConfig,
      `node name file ${file}: ${JSON.stringify(name.slice(0, 80))} is not a node name (lower-case DNS subdomain)`,
    );
  return name;
}

function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

/**
 * Refuses to allocate for a node that has no Node resource: its blocks would be exported by
 * nobody and its pods unreachable. felix writes the Node when it starts on the host.
 */
export async function requireNodeResource(ds: Datastore<KeyValueStore>, node: string): Promise<void> {
  if (await ds.get('Node', node)) return;
  throw nodeNotRegistered(node);
}

export function nodeNotRegistered(node: string): CniError {
  return new CniError(
    CniCode.NodeNotRegistered,
    `node ${JSON.stringify(node)} has no Node resource: no address is allocated for a node no agent runs on ` +
      '(is tricolor-felix running on this host, and does the config\'s "nodename" match its NODENAME?)',
  );
}
