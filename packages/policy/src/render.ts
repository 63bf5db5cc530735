import type { DirectionExplanation, Explanation, RuleHit } from './evaluate.js';
import { policyRefText } from './normalize.js';

const hitText = (h: RuleHit): string =>
  `${h.policy ? `policy ${policyRefText(h.policy)}` : `profile ${h.profile}`} ${h.action} rule ${h.index}`;

function directionLines(d: DirectionExplanation): string[] {
  const title = `${d.direction.toLowerCase()} of ${d.endpoint.workload} (endpoint ${d.endpoint.name})`;
  const lines = [`${title}: ${d.verdict.toUpperCase()}`];
  if (d.policies.length === 0) lines.push('  policies: none apply');
  else {
    lines.push('  policies, in order:');
    for (const [i, p] of d.policies.entries())
      lines.push(`    ${i + 1}. ${policyRefText(p)}  (${p.kind}, order ${p.order ?? 'none (last)'})`);
  }
  const profiles = d.profiles.map((p) => (p.absent ? `${p.name} (absent)` : p.name));
  lines.push(`  profiles: ${profiles.length > 0 ? profiles.join(', ') : 'none'}`);
  for (const l of d.logged) lines.push(`  logged by ${hitText(l)}`);
  const dec = d.decision;
  switch (dec.by) {
    case 'policy':
      lines.push(`  decided by ${hitText(dec.rule)}`);
      break;
    case 'profile':
      if (dec.passedBy) lines.push(`  passed to the profiles by ${hitText(dec.passedBy)}`);
      else if (d.policies.length === 0) lines.push('  no policy applies: the profiles decide');
      lines.push(`  decided by ${hitText(dec.rule)}`);
      break;
    case 'end-of-policies':
      lines.push('  no rule of the applying policies matched: dropped at the end of the policies');
      break;
    case 'end-of-profiles':
      if (dec.passedBy) lines.push(`  passed to the profiles by ${hitText(dec.passedBy)}`);
      lines.push('  no profile rule matched: dropped at the end of the profiles');
      break;
  }
  return lines;
}

const endText = (e: Explanation['source']): string =>
  e.endpoint ? `${e.endpoint.workload} (${e.address})` : `${e.address} (no endpoint of the cluster)`;

/** The explanation as people read it (`tricolorctl policy explain`). */
export function renderExplanationText(x: Explanation): string {
  const what =
    x.packet.port !== undefined
      ? `${x.packet.protocol} port ${x.packet.port}`
      : x.packet.icmp
        ? `${x.packet.protocol} type ${x.packet.icmp.type} code ${x.packet.icmp.code}`
        : x.packet.protocol;
  const lines = [`${what} from ${endText(x.source)} to ${endText(x.destination)}`];
  if (x.egress) lines.push(...directionLines(x.egress));
  else lines.push('egress: not checked (the source is no endpoint of the cluster)');
  if (x.ingress) lines.push(...directionLines(x.ingress));
  else lines.push('ingress: not checked (the destination is no endpoint of the cluster)');
  lines.push(`verdict: ${x.verdict.toUpperCase()}`);
  return `${lines.join('\n')}\n`;
}

/** The explanation as JSON (the `--output json` form): the Explanation structure itself. */
export function renderExplanationJson(x: Explanation): string {
  return `${JSON.stringify(x, null, 2)}\n`;
}
