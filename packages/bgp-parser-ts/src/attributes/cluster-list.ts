import { u32 } from '../writer.js';
import { type AttrSpec, FLAGS_WITHDRAW_3C, notInternal, problem } from './types.js';

/** CLUSTER_LIST (type 10, RFC 4456): cluster ids as 32-bit numbers. */
export interface ClusterListAttribute {
  kind: 'cluster-list';
  flags: number;
  clusterIds: number[];
}

export const clusterListSpec: AttrSpec<ClusterListAttribute> = {
  code: 10,
  kind: 'cluster-list',
  flags: 0x80,
  onError: 'treat-as-withdraw',
  rule: 'RFC 7606 §7.10',
  onFlagsError: FLAGS_WITHDRAW_3C,
  ignoredOn: (ctx) => notInternal(ctx, 'CLUSTER_LIST', 'RFC 7606 §7.10'),
  decode(v, flags) {
    if (v.length === 0 || v.length % 4 !== 0) return problem(5, `CLUSTER_LIST length ${v.length}`);
    const clusterIds = new Array<number>(v.length / 4);
    for (let i = 0; i < clusterIds.length; i++) clusterIds[i] = u32(v, i * 4);
    return { kind: 'cluster-list', flags, clusterIds };
  },
  encode(a, w) {
    for (const c of a.clusterIds) w.u32(c);
  },
};
