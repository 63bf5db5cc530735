/**
 * Running ahead of the nodes: what stands in for machines of their own here (etcd, the block
 * claims that stand in for each node's CNI plugin) must not wait behind a hundred node
 * processes for the same two cores.
 *
 * A nice value alone does not do it where the kernel groups tasks by session (autogroup,
 * `kernel.sched_autogroup_enabled`, on by default): each node daemon is started in a session
 * of its own, so each is a scheduling group of its own, and the CPU is shared between groups
 * before a nice value counts. This process and etcd share this process's session, one group
 * among a hundred. So its group is given an autogroup nice as well.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** Nice of the process: ahead of the nodes' default 0, level with etcd (Cluster etcdNice). */
export const AHEAD_OF_NODES_NICE = -10;
/**
 * Nice of the session's scheduling group: weight 88,761 against 1,024 per node group, so with
 * 100 busy nodes the group gets up to about half of the machine when it wants it: a machine of
 * its own on two cores. Whatever it does not use, the nodes get.
 */
export const AHEAD_OF_NODES_GROUP_NICE = -20;

const AUTOGROUP = '/proc/self/autogroup';
const AUTOGROUP_ENABLED = '/proc/sys/kernel/sched_autogroup_enabled';

/** The session's autogroup nice, undefined where the kernel groups no sessions. */
export function autogroupNice(): number | undefined {
  if (!existsSync(AUTOGROUP) || !existsSync(AUTOGROUP_ENABLED)) return undefined;
  if (readFileSync(AUTOGROUP_ENABLED, 'utf8').trim() !== '1') return undefined;
  const m = /nice (-?\d+)/.exec(readFileSync(AUTOGROUP, 'utf8'));
  return m ? Number(m[1]) : undefined;
}

/**
 * Runs `fn` with this process (and, through its session's group, etcd) ahead of the nodes;
 * both priorities are restored afterwards, however `fn` ends. Says what it set through `log`.
 */
export async function aheadOfNodes<T>(fn: () => Promise<T>, log: (line: string) => void): Promise<T> {
  const nice = getPriority();
  let group = autogroupNice();
  setPriority(AHEAD_OF_NODES_NICE);
  let how = ' (the kernel groups no sessions)';
  if (group !== undefined) {
    try {
      writeFileSync(AUTOGROUP, String(AHEAD_OF_NODES_GROUP_NICE));
      how = `, session group nice ${AHEAD_OF_NODES_GROUP_NICE} (was ${group})`;
    } catch (e) {
      how = ` only: cannot set the session group's nice (${(e as Error).message})`;
      group = undefined;
    }
  }
  log(`ahead of the nodes: nice ${AHEAD_OF_NODES_NICE}${how}`);
  try {
    return await fn();
  } finally {
    setPriority(nice);
    if (group !== undefined) writeFileSync(AUTOGROUP, String(group));
  }
}
