/**
 * STATUS readiness of the node's agents: the conflist's `health_urls` (the local felix's and
 * bird's /readiness) must each answer 200, so kubelet does not start pods on a node whose
 * routes and BGP sessions are not up yet.
 */
import { nodeHttp } from '@tricolor/datastore';
import { CniCode, CniError } from './errors.js';

function probe(url: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = nodeHttp().request(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? undefined : `${url} answered ${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => resolve(`${url}: ${e.message}`));
    req.end();
  });
}

/** Throws CniError 50 (plugin not available) naming every agent that is not ready. */
export async function checkAgentsReady(urls: readonly string[], timeoutMs = 2000): Promise<void> {
  const problems = (await Promise.all(urls.map((u) => probe(u, timeoutMs)))).filter((p) => p !== undefined);
  if (problems.length)
    throw new CniError(CniCode.PluginNotAvailable, `node agents not ready: ${problems.join('; ')}`);
}
