import { type PolicyRef, policyRefText } from '@tricolor/policy';
import type { Rule } from '../iptables/rules.js';
import {
  clearMark,
  type Direction,
  MARK,
  markClear,
  markSet,
  policyChainName,
  profileChainName,
} from './names.js';

/**
 * The body of one endpoint chain (`tri-tw-<iface>` for ingress, `tri-fw-<iface>` for
 * egress), Calico's layout: clear the accept and pass bits; when policies apply to this
 * direction, jump to each policy's chain in order while no policy passed the packet,
 * return as soon as one accepted it, and drop at the end of the policies unless one passed
 * it; then each profile's chain in order, return when one accepted; drop at the end.
 * Established and related flows never get here (accepted before the dispatch), and invalid
 * ones are dropped there.
 */
export function endpointChainRules(
  chainPrefix: string,
  dir: Direction,
  policies: readonly PolicyRef[],
  profiles: readonly string[],
): Rule[] {
  const out: Rule[] = [{ action: clearMark(MARK.accept | MARK.pass) }];
  if (policies.length > 0) {
    for (const p of policies)
      out.push(
        {
          match: markClear(MARK.pass),
          action: `-j ${policyChainName(chainPrefix, p, dir)}`,
          note: `${p.kind} ${policyRefText(p)}`,
        },
        { match: markSet(MARK.accept), action: '-j RETURN' },
      );
    out.push({ match: markClear(MARK.pass), action: '-j DROP', note: 'no policy accepted the packet' });
  }
  for (const name of profiles)
    out.push(
      { action: `-j ${profileChainName(chainPrefix, name, dir)}`, note: `Profile ${name}` },
      { match: markSet(MARK.accept), action: '-j RETURN' },
    );
  out.push({ action: '-j DROP', note: 'no profile accepted the packet' });
  return out;
}
