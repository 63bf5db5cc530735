import { hostInterfaceName } from '@tricolor/cni';
import type { NodeHandle } from '../cluster.js';
import { type FaultContext, type Injector, nodeAt, timeUntil } from './fault.js';
import { FAULTS, type FaultKind } from './schedule.js';

interface Route {
  dst: string;
  dev?: string;
  type?: string;
  protocol?: string;
}

/** One change an operator (or another program) makes behind an agent's back, and how to see it undone. */
interface Drift {
  what: string;
  apply(): Promise<void>;
  repaired(): Promise<boolean>;
}

const routes = (n: NodeHandle, args: string[] = []) =>
  n.ns.ipJson<Route[]>(['route', 'show', 'table', 'main', ...args]);

/** The pods of a node, on the first node from `start` that has any. */
function podsFrom(ctx: FaultContext, start: number) {
  for (let i = 0; i < ctx.cluster.nodes.size; i++) {
    const node = nodeAt(ctx, start + i);
    const pods = [...ctx.cluster.pods.values()].filter((p) => p.node === node.name);
    if (pods.length) return { node, pods };
  }
  return undefined;
}

/** iptables-save of the backend felix uses (the one holding its chains). */
async function saveFilter(n: NodeHandle): Promise<{ tool: string; text: string }> {
  for (const tool of ['iptables-nft', 'iptables-legacy']) {
    const r = await n.ns.exec(`${tool}-save`, ['-t', 'filter'], { allowFail: true });
    if (r.code === 0 && /^:tri-/m.test(r.stdout)) return { tool, text: r.stdout };
  }
  throw new Error(`no tri- chains on ${n.name}`);
}

const ruleCount = (text: string, chain: string) =>
  text.split('\n').filter((l) => l.startsWith(`-A ${chain} `)).length;

async function drifts(
  kind: FaultKind,
  ctx: FaultContext,
  target: number,
): Promise<{ node: NodeHandle; drift: Drift }> {
  switch (kind) {
    case 'drift-pod-route': {
      const found = podsFrom(ctx, target);
      if (!found) throw new Error('no pod to drift');
      const pod = ctx.rng.pick(found.pods);
      const dev = hostInterfaceName(pod.namespace, pod.name);
      const has = async () => (await routes(found.node, [`${pod.ip}/32`])).some((r) => r.dev === dev);
      return {
        node: found.node,
        drift: {
          what: `route ${pod.ip}/32 dev ${dev} (pod ${pod.name})`,
          apply: async () =>
            void (await found.node.ns.exec('ip', ['route', 'del', `${pod.ip}/32`, 'dev', dev])),
          repaired: has,
        },
      };
    }
    case 'drift-bgp-route': {
      const node = nodeAt(ctx, target);
      const learned = (await routes(node)).filter((r) => r.protocol === 'bird');
      if (!learned.length) throw new Error(`no proto bird route on ${node.name}`);
      const r = ctx.rng.pick(learned);
      return {
        node,
        drift: {
          what: `route ${r.dst} proto bird`,
          apply: async () => void (await node.ns.exec('ip', ['route', 'del', r.dst, 'proto', 'bird'])),
          repaired: async () => (await routes(node, [r.dst])).some((x) => x.protocol === 'bird'),
        },
      };
    }
    case 'drift-blackhole': {
      const node = nodeAt(ctx, target);
      const holes = (await routes(node)).filter((r) => r.type === 'blackhole');
      if (!holes.length) throw new Error(`no blackhole on ${node.name}`);
      const r = ctx.rng.pick(holes);
      return {
        node,
        drift: {
          what: `blackhole ${r.dst}`,
          apply: async () => void (await node.ns.exec('ip', ['route', 'del', 'blackhole', r.dst])),
          repaired: async () => (await routes(node, ['type', 'blackhole'])).some((x) => x.dst === r.dst),
        },
      };
    }
    case 'drift-chain': {
      const node = nodeAt(ctx, target);
      const { tool, text } = await saveFilter(node);
      const chains = [...text.matchAll(/^:(tri-\S+)/gm)]
        .map((m) => m[1]!)
        .filter((c) => ruleCount(text, c) > 0);
      const chain = ctx.rng.pick(chains);
      const want = ruleCount(text, chain);
      return {
        node,
        drift: {
          what: `chain ${chain} flushed (${want} rules, ${tool})`,
          apply: async () => void (await node.ns.exec(tool, ['-t', 'filter', '-F', chain])),
          repaired: async () => ruleCount((await saveFilter(node)).text, chain) >= want,
        },
      };
    }
    case 'drift-ipset': {
      const node = nodeAt(ctx, target);
      const saved = (await node.ns.exec('ipset', ['save'])).stdout;
      const members = (set: string, t: string) =>
        t.split('\n').filter((l) => l.startsWith(`add ${set} `)).length;
      const sets = [...saved.matchAll(/^create (\S+)/gm)]
        .map((m) => m[1]!)
        .filter((s) => members(s, saved) > 0);
      if (!sets.length) throw new Error(`no ipset with members on ${node.name}`);
      const set = ctx.rng.pick(sets);
      const want = members(set, saved);
      return {
        node,
        drift: {
          what: `ipset ${set} flushed (${want} members)`,
          apply: async () => void (await node.ns.exec('ipset', ['flush', set])),
          repaired: async () => members(set, (await node.ns.exec('ipset', ['save', set])).stdout) >= want,
        },
      };
    }
    case 'drift-sysctl': {
      const found = podsFrom(ctx, target);
      if (!found) throw new Error('no pod to drift');
      const pod = ctx.rng.pick(found.pods);
      const path = `/proc/sys/net/ipv4/conf/${hostInterfaceName(pod.namespace, pod.name)}/proxy_arp`;
      return {
        node: found.node,
        drift: {
          what: `${path} = 0 (pod ${pod.name})`,
          apply: async () => void (await found.node.ns.exec('sh', ['-c', `echo 0 > ${path}`])),
          repaired: async () => (await found.node.ns.exec('cat', [path])).stdout.trim() === '1',
        },
      };
    }
    default:
      throw new Error(`${kind} is not a drift`);
  }
}

/**
 * Kernel drift on one node, then the time until the agent that owns the object puts it back.
 * Budget: repaired within the kind's repairBudgetMs; probes lost meanwhile are reported per kind.
 */
export function kernelDrift(kind: FaultKind): Injector {
  return async (ctx, plan) => {
    const { node, drift } = await drifts(kind, ctx, plan.target);
    const budget = FAULTS[kind].repairBudgetMs!;
    const startedAt = Date.now();
    await drift.apply();
    const repairMs = await timeUntil(drift.repaired, budget, 50);
    const violations =
      repairMs === undefined ? [`${drift.what} on ${node.name} not repaired within ${budget / 1000} s`] : [];
    return {
      target: node.name,
      startedAt,
      healedAt: Date.now(),
      details: { what: drift.what, repairMs },
      violations,
      findings: [],
    };
  };
}
