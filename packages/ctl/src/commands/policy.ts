import { explainRequest, PolicyModel, renderExplanationText } from '@tricolor/policy';
import { atMostPositionals, intFlag, OUTPUT_OPTION, outputFlag, parse, UsageError } from '../args.js';
import type { Ctx } from '../context.js';
import { EXIT, render } from '../output.js';

const OPTIONS = {
  ...OUTPUT_OPTION,
  port: { type: 'string' },
  protocol: { type: 'string' },
  'source-port': { type: 'string' },
  'icmp-type': { type: 'string' },
  'icmp-code': { type: 'string' },
} as const;

/**
 * `policy explain <ns/pod> <ns/pod|ADDRESS>`: which policies and profiles apply to each end of
 * a packet, in order, which rule decides each direction, and the verdict. It reads what felix
 * reads (endpoints, profiles, policies) and decides with @tricolor/policy, the code felix's
 * policy calculators use, so the answer is the dataplane's.
 */
async function explainCommand(ctx: Ctx): Promise<number> {
  const { values, positionals } = parse('policy explain', ctx.args, OPTIONS);
  const [from, to] = positionals;
  if (!from || !to)
    throw new UsageError(
      'policy explain: give the source pod and the destination (namespace/pod or an address)',
    );
  atMostPositionals('policy explain', positionals, 2);
  const format = outputFlag(values.output);
  const ds = await ctx.store();
  const [endpoints, profiles, policies, globals] = await Promise.all([
    ds.list('WorkloadEndpoint'),
    ds.list('Profile'),
    ds.list('NetworkPolicy'),
    ds.list('GlobalNetworkPolicy'),
  ]);
  const model = new PolicyModel({
    endpoints: endpoints.items,
    profiles: profiles.items,
    policies: [...policies.items, ...globals.items],
  });
  let explanation: ReturnType<typeof explainRequest>;
  try {
    explanation = explainRequest(model, {
      from,
      to,
      protocol: values.protocol,
      port: intFlag('port', values.port, 0),
      sourcePort: intFlag('source-port', values['source-port'], 0),
      icmpType: intFlag('icmp-type', values['icmp-type'], 0),
      icmpCode: intFlag('icmp-code', values['icmp-code'], 0),
    });
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`policy explain: ${(e as Error).message}`);
  }
  ctx.out(render(format, explanation, () => renderExplanationText(explanation)));
  return EXIT.OK;
}

export const policyExplainCommand = {
  usage: [
    'policy explain <ns/pod> <ns/pod|ADDRESS> [--protocol P] [--port N] [--icmp-type T] [--icmp-code C] [-o table|json|yaml]   which policies decide, and the verdict',
  ],
  options: OPTIONS,
  run: explainCommand,
};
