import { hostInterfaceName } from '@tricolor/cni';
import { type Injector, nodeAt, sleep } from './fault.js';
import { failureText, NAMESPACE } from './pods.js';

/**
 * One etcd member SIGKILLed — half the time the leader — and started again after the hold.
 * Budget: no probe lost; the churn's CNI commands meanwhile succeed (counted by the report).
 */
export const etcdMemberKill: Injector = async (ctx, plan) => {
  const etcd = ctx.cluster.etcd;
  const leader = await etcd.leader();
  const member = leader && ctx.rng.next() < 0.5 ? leader : etcd.members[plan.target % etcd.members.length]!;
  const startedAt = Date.now();
  await etcd.killMember(member);
  await sleep(plan.holdMs);
  await etcd.restartMember(member);
  const violations: string[] = [];
  await etcd.waitHealthy(30_000).catch((e: Error) => violations.push(`etcd not healthy again: ${e.message}`));
  return {
    target: member.name,
    startedAt,
    healedAt: Date.now(),
    details: { wasLeader: member === leader, downMs: Date.now() - startedAt },
    violations,
    findings: [],
  };
};

/**
 * Two of three members down for `holdMs` (20 s): the data plane keeps forwarding (no probe
 * lost), a CNI ADD fails cleanly — code 101, nothing left in the pod or on the node — and
 * once quorum is back the same sandbox's DEL and ADD succeed (kubelet's retry).
 */
export const etcdQuorumLoss: Injector = async (ctx, plan) => {
  const etcd = ctx.cluster.etcd;
  const violations: string[] = [];
  await ctx.churn.pause();
  const node = nodeAt(ctx, plan.target);
  const sandbox = await ctx.pods.sandbox(node.name);
  const startedAt = Date.now();
  const down = await etcd.loseQuorum();
  const add = await ctx.pods.add(sandbox);
  if (add.ok) violations.push(`CNI ADD on ${node.name} succeeded without etcd quorum`);
  else if (add.code !== 101)
    violations.push(`CNI ADD without quorum failed with code ${add.code} (want 101): ${add.msg}`);
  const podLink = await sandbox.ns.exec('ip', ['link', 'show', 'eth0'], { allowFail: true });
  if (podLink.code === 0) violations.push('the failed ADD left eth0 in the pod');
  const hostIf = hostInterfaceName(NAMESPACE, sandbox.name);
  const hostLink = await node.ns.exec('ip', ['link', 'show', hostIf], { allowFail: true });
  if (hostLink.code === 0) violations.push(`the failed ADD left ${hostIf} on ${node.name}`);
  const rest = plan.holdMs - (Date.now() - startedAt);
  if (rest > 0) await sleep(rest);
  await etcd.restoreAll(60_000).catch((e: Error) => violations.push(`etcd did not recover: ${e.message}`));
  const healedAt = Date.now();
  // kubelet: DEL for the failed sandbox, then ADD again.
  const del = await ctx.pods.del(sandbox);
  if (!del.ok) violations.push(`DEL after quorum came back failed: ${failureText(del)}`);
  const retry = await ctx.pods.add(sandbox);
  if (!retry.ok) {
    violations.push(`CNI ADD after quorum came back failed: ${failureText(retry)}`);
    await ctx.pods.abandon(sandbox);
  }
  ctx.churn.resume();
  return {
    target: down.map((m) => m.name).join('+'),
    startedAt,
    healedAt,
    details: {
      membersDown: down.map((m) => m.name),
      addWithoutQuorum: { code: add.code ?? 0, ms: Math.round(add.ms), msg: add.msg },
      addAfter: { ok: retry.ok, code: retry.code, ms: Math.round(retry.ms) },
    },
    violations,
    findings: [],
  };
};
