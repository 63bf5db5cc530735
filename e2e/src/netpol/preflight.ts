import { ValidationError, validateResource } from '@tricolor/datastore';
import { convertKubernetesNetworkPolicy } from '@tricolor/policy';
import { type Case, CaseError } from './case.js';
import { PODS } from './layout.js';
import { substituteTokens } from './tokens.js';

/** Stand-in addresses (10.244.0.1 …) to check tokens and policies before a cluster exists. */
export const PLACEHOLDER_IPS: ReadonlyMap<string, string> = new Map(
  PODS.map((p, i) => [p, `10.244.0.${i + 1}`]),
);

/**
 * Checks what a case would write before anything runs: its address tokens, and that every
 * policy converts and validates as the product will take it — a bad case exits 2 up front
 * instead of failing half-way through a run.
 */
export function preflight(c: Case): void {
  for (const [i, step] of c.steps.entries())
    for (const [j, a] of step.actions.entries()) {
      const where = `${c.file}: steps[${i}].actions[${j}]`;
      try {
        if (a.op === 'createPolicy' || a.op === 'updatePolicy')
          convertKubernetesNetworkPolicy(substituteTokens(a.policy, PLACEHOLDER_IPS, `${where}.policy`));
        else if (a.op === 'applyResource')
          validateResource(substituteTokens(a.resource, PLACEHOLDER_IPS, `${where}.resource`));
      } catch (e) {
        if (e instanceof ValidationError) throw new CaseError(`${where}: ${e.message}`);
        throw e;
      }
    }
}
