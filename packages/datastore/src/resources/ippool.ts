import { parseCidr } from '../net/ip.js';
import { selectorProblem } from '../selector.js';
import { Fields } from './fields.js';
import { checkEnvelope, compact, type Resource } from './resource.js';

export const ENCAP_MODES = ['Never', 'Always', 'CrossSubnet'] as const;
export type EncapMode = (typeof ENCAP_MODES)[number];

export interface IPPoolSpec {
  cidr: string;
  /** Prefix length of the blocks the pool is cut into: 26 for IPv4, 122 for IPv6 by default. */
  blockSize: number;
  ipipMode: EncapMode;
  vxlanMode: EncapMode;
  natOutgoing: boolean;
  disabled: boolean;
  disableBGPExport: boolean;
  /** Which nodes may allocate from the pool (selector over Node labels). */
  nodeSelector: string;
}
export type IPPool = Resource<'IPPool', IPPoolSpec>;

export function validateIPPool(raw: unknown): IPPool {
  const f = new Fields('IPPool', raw);
  const metadata = checkEnvelope(f, 'IPPool', false);
  f.object('spec', true);
  const cidr = f.cidr('spec.cidr', { required: true, strict: true });
  const family = cidr ? parseCidr(cidr)!.family : 4;
  const [minBlock, maxBlock] = family === 4 ? [20, 32] : [116, 128];
  const blockSize =
    f.integer('spec.blockSize', { min: minBlock, max: maxBlock }) ?? (family === 4 ? 26 : 122);
  if (cidr && blockSize < parseCidr(cidr)!.prefixLength) {
    f.fail('spec.blockSize', `${blockSize} is larger than the pool ${cidr} itself`);
  }
  const ipipMode = (f.string('spec.ipipMode', { oneOf: ENCAP_MODES }) ?? 'Never') as EncapMode;
  const vxlanMode = (f.string('spec.vxlanMode', { oneOf: ENCAP_MODES }) ?? 'Never') as EncapMode;
  if (ipipMode !== 'Never' && vxlanMode !== 'Never')
    f.fail('spec.vxlanMode', 'cannot be enabled together with ipipMode');
  if (family === 6 && ipipMode !== 'Never') f.fail('spec.ipipMode', 'IPIP is IPv4 only');
  const nodeSelector = f.string('spec.nodeSelector') ?? 'all()';
  const selProblem = selectorProblem(nodeSelector);
  if (selProblem) f.fail('spec.nodeSelector', `${JSON.stringify(nodeSelector)} ${selProblem}`);
  const spec = compact<IPPoolSpec>({
    cidr: cidr ?? '',
    blockSize,
    ipipMode,
    vxlanMode,
    natOutgoing: f.boolean('spec.natOutgoing') ?? false,
    disabled: f.boolean('spec.disabled') ?? false,
    disableBGPExport: f.boolean('spec.disableBGPExport') ?? false,
    nodeSelector,
  });
  f.done();
  return { kind: 'IPPool', apiVersion: 'tricolor.dev/v1', metadata, spec };
}
