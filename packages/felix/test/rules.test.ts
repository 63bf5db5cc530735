import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { buildIptables } from '../src/calc/iptables/chains.js';
import {
  type DispatchOptions,
  dispatchChains,
  newDispatchMemo,
  updateDispatch,
} from '../src/calc/iptables/dispatch.js';
import {
  type Chain,
  hashChain,
  type IptablesState,
  renderChain,
  renderHook,
  sameRules,
  TABLES,
  type Table,
} from '../src/calc/iptables/rules.js';
import { ChainNameWalk, writeOrder } from '../src/calc/iptables/write-order.js';
import {
  BUILTIN_CHAINS,
  type ParsedTable,
  parseSave,
  planRestore,
  type RestorePlan,
  ruleHash,
} from '../src/dataplane/iptables-render.js';
import { KernelState } from '../src/dataplane/kernel-state.js';
import { DeltaTracker } from '../src/tracker/delta-tracker.js';
import { desiredOf } from './graph-harness.js';
import { pool, settings } from './helpers.js';

/** A node with nothing on it: only the base chains and hooks. */
const noEndpoints = () =>
  desiredOf({
    nodeName: 'n1',
    settings: settings(),
    endpoints: [],
    pools: [],
    affinities: [],
    nodes: [],
  });

/** The restore felix writes for `desired` over a kernel as iptables-save showed it. */
function diffIptables(
  desired: IptablesState,
  kernel: Map<Table, ParsedTable>,
  walkBudget?: number,
): RestorePlan {
  const st = new KernelState({ chainPrefix: 'tri-', interfacePrefix: 'cali', vxlanDevice: 'vxlan.tricolor' });
  const t = st.iptables[4];
  for (const tb of TABLES) {
    for (const c of desired[tb].chains.values()) t[tb].chains.setDesired(c.name, c);
    for (const j of desired[tb].hooks) t[tb].hooks.setDesired(j.hook, j);
    const read = [...(kernel.get(tb)?.chains ?? [])];
    t[tb].chains.replaceDataplane(read.filter(([n]) => !BUILTIN_CHAINS.has(n)));
    t[tb].hooks.replaceDataplane(read.filter(([n]) => BUILTIN_CHAINS.has(n)));
  }
  return planRestore(t, st.renderer, walkBudget);
}

/** The from-workload dispatch tree as felix builds it with the default prefixes. */
const fromTree: DispatchOptions = {
  root: 'tri-from-wl-dispatch',
  childPrefix: 'tri-fd-',
  direction: '-i',
  target: (i) => `tri-fw-${i}`,
  interfacePrefix: 'cali',
  unknown: [{ action: '-j DROP' }],
};

test('rule hashes are positional and stable', () => {
  const c = { name: 'tri-x', rules: [{ action: '-j ACCEPT' }, { match: '-p tcp', action: '-j DROP' }] };
  const h = hashChain(c);
  assert.deepEqual(hashChain(c), h, 'deterministic');
  assert.equal(new Set(h).size, 2);
  const swapped = hashChain({ name: 'tri-x', rules: [c.rules[1]!, c.rules[0]!] });
  assert.notEqual(swapped[1], h[1]);
  const renamed = hashChain({ name: 'tri-y', rules: c.rules });
  assert.notEqual(renamed[0], h[0], 'the chain name is part of the hash');
  const r = renderChain(c, 'tri-');
  assert.equal(r.lines[1], `-p tcp -m comment --comment tri:${h[1]} -j DROP`);
  assert.equal(ruleHash(r.lines[1]!, 'tri-'), h[1]);
  assert.equal(ruleHash('-p tcp -m comment --comment "something else" -j DROP', 'tri-'), undefined);
});

test('base chains: hooks, failsafes, nat-outgoing with pool ipsets, unknown interfaces dropped', () => {
  const st = buildIptables(
    settings(),
    [{ iface: 'cali1234567890a', profiles: [] }],
    [pool('p', '10.244.0.0/16', { natOutgoing: true })],
  );
  assert.deepEqual(
    st.filter.hooks.map((h) => `${h.hook}->${h.target}`),
    ['INPUT->tri-INPUT', 'FORWARD->tri-FORWARD', 'OUTPUT->tri-OUTPUT'],
  );
  assert.deepEqual(
    st.nat.hooks.map((h) => h.hook),
    ['PREROUTING', 'POSTROUTING'],
  );
  assert.equal(st.raw.hooks.length, 2);
  assert.equal(st.mangle.hooks.length, 1);
  const chain = (t: 'filter' | 'nat', n: string) => st[t].chains.get(n)!;
  assert.deepEqual(
    chain('filter', 'tri-failsafe-in').rules.map((r) => r.match),
    [22, 179, 2379, 2380, 6443].map((p) => `-p tcp -m tcp --dport ${p}`),
  );
  assert.deepEqual(chain('nat', 'tri-nat-outgoing').rules, [
    {
      match: '-m set --match-set tri-masq-ipam-pools src -m set ! --match-set tri-all-ipam-pools dst',
      action: '-j MASQUERADE',
    },
  ]);
  const from = chain('filter', 'tri-from-wl-dispatch');
  assert.deepEqual(
    from.rules.map((r) => `${r.match ?? ''} ${r.action}`.trim()),
    ['-i cali1234567890a -g tri-fw-cali1234567890a', '-j DROP'],
  );
  assert.ok(chain('filter', 'tri-tw-cali1234567890a'));
  // Without natOutgoing pools the chain is empty.
  const none = buildIptables(settings(), [], [pool('p', '10.244.0.0/16')]);
  assert.deepEqual(none.nat.chains.get('tri-nat-outgoing')!.rules, []);
  // Chain prefix is configurable.
  const other = buildIptables(settings({ chainPrefix: 'zz-' }), [], []);
  assert.ok([...other.filter.chains.keys()].every((n) => n.startsWith('zz-')));
});

test('dispatch scales: 10,000 interfaces give a prefix tree with short chains, every leaf ends in DROP', () => {
  const ifaces = Array.from(
    { length: 10_000 },
    (_, i) => `cali${((i * 2654435761) % 2 ** 44).toString(16).padStart(11, '0')}`,
  );
  const chains = dispatchChains(ifaces, fromTree);
  const leaves = new Set<string>();
  for (const c of chains) {
    assert.ok(c.rules.length <= 40, `${c.name} has ${c.rules.length} rules`);
    assert.equal(c.rules.at(-1)!.action, '-j DROP', `${c.name} must end in DROP`);
    assert.ok(c.name.length <= 28, c.name);
    for (const r of c.rules) if (r.action.startsWith('-g tri-fw-')) leaves.add(r.action.slice(3));
  }
  assert.equal(leaves.size, 10_000, 'every interface is reachable exactly once');
  assert.equal(chains.at(-1)!.name, 'tri-from-wl-dispatch', 'the root comes after the chains it jumps to');
});

test('dispatch: names sharing a long prefix still give short chains; one more interface touches one leaf', () => {
  // Sequential names share 7+ characters after `cali`: the tree must skip the shared
  // levels instead of running out of chain-name length and flattening into one long chain.
  const name = (i: number) => `cali${i.toString(16).padStart(11, '0')}`;
  const opts = fromTree;
  const ifaces = Array.from({ length: 10_000 }, (_, i) => name(i));
  const before = dispatchChains([...ifaces, 'eth7'], opts);
  for (const c of before) {
    assert.ok(c.rules.length <= 40, `${c.name} has ${c.rules.length} rules`);
    assert.ok(c.name.length <= 28, c.name);
    assert.equal(c.rules.at(-1)!.action, '-j DROP');
  }
  const reached = before.flatMap((c) => c.rules.filter((r) => r.action.startsWith('-g tri-fw-')));
  assert.equal(reached.length, 10_001, 'every interface is reachable exactly once');
  const root = before.find((c) => c.name === 'tri-from-wl-dispatch')!;
  assert.equal(before.at(-1), root, 'the root comes last, after the chains it jumps to');
  assert.ok(
    root.rules.some((r) => r.match === '-i eth7'),
    'a name without the prefix sits in the root',
  );
  const after = dispatchChains([...ifaces, name(10_000), 'eth7'], opts);
  const key = (c: { name: string; rules: unknown[] }) => `${c.name}${JSON.stringify(c.rules)}`;
  const old = new Set(before.map(key));
  const changed = after.filter((c) => !old.has(key(c)));
  assert.equal(changed.length, 1, changed.map((c) => c.name).join());
  assert.ok(changed[0]!.rules.length <= 40);
});

test('restore order: every chain after the chains it jumps to; dispatch names sort below endpoint names', () => {
  const eps = Array.from({ length: 2000 }, (_, i) => ({
    iface: `cali${((i * 2654435761) % 2 ** 44).toString(16).padStart(11, '0')}`,
    profiles: [],
  }));
  const st = buildIptables(settings(), eps, []);
  for (const t of ['raw', 'mangle', 'nat', 'filter'] as const) {
    const seen = new Set<string>();
    for (const c of writeOrder(st[t].chains).map((n) => st[t].chains.get(n)!)) {
      for (const r of c.rules) {
        const target = /^-[gj] (tri-\S+)/.exec(r.action)?.[1];
        if (target) assert.ok(seen.has(target), `${t}: ${c.name} jumps to ${target} listed later`);
      }
      seen.add(c.name);
    }
  }
  // iptables-nft's chain-name list is sorted; these orders keep its walks short.
  const names = writeOrder(st.filter.chains);
  const fd = names.filter((n) => n.startsWith('tri-fd-'));
  const td = names.filter((n) => n.startsWith('tri-td-'));
  assert.ok(fd.length > 10 && td.length > 10);
  assert.ok([...fd, 'tri-from-wl-dispatch'].every((n) => n < 'tri-fw-'));
  assert.ok([...td, 'tri-to-wl-dispatch'].every((n) => n < 'tri-tw-'));
  assert.ok(
    names.indexOf('tri-to-wl-dispatch') < names.indexOf(fd[0]!),
    'the to-workload tree (higher names) comes first',
  );
});

test('iptables diff: writes only changed chains, one hook jump at the top, never names foreign rules', () => {
  const d = noEndpoints();
  const first = diffIptables(
    d.iptables,
    parseSave('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 1.2.3.4/32 -j DROP\nCOMMIT\n'),
  );
  assert.match(first.script, /-I INPUT 1 -m comment --comment tri:\S+ -j tri-INPUT/);
  assert.doesNotMatch(first.script, /1\.2\.3\.4/);
  // Feed back what the kernel would then hold: nothing more to do.
  const lines: string[] = [];
  for (const t of ['raw', 'mangle', 'nat', 'filter'] as const) {
    lines.push(`*${t}`);
    for (const c of d.iptables[t].chains.values()) lines.push(`:${c.name} - [0:0]`);
    for (const h of d.iptables[t].hooks) lines.push(`:${h.hook} ACCEPT [0:0]`);
    for (const h of d.iptables[t].hooks) {
      const m = new RegExp(`-I ${h.hook} 1 (.*-j ${h.target})`).exec(
        first.script.split(`*${t}`)[1]!.split('COMMIT')[0]!,
      );
      lines.push(`-A ${h.hook} ${m![1]}`);
    }
    if (t === 'filter') lines.push('-A INPUT -s 1.2.3.4/32 -j DROP');
    for (const c of d.iptables[t].chains.values())
      for (const l of renderChain(c, 'tri-').lines) lines.push(`-A ${c.name} ${l}`);
    lines.push('COMMIT');
  }
  const kernel = parseSave(lines.join('\n'));
  assert.equal(diffIptables(d.iptables, kernel).script, '');
  // A stale chain of ours is deleted; a foreign chain is not.
  kernel.get('filter')!.chains.set('tri-old', { lines: ['-j ACCEPT'], hashes: [undefined] });
  kernel.get('filter')!.chains.set('KUBE-X', { lines: ['-j ACCEPT'], hashes: [undefined] });
  const stale = diffIptables(d.iptables, kernel);
  assert.match(stale.script, /-X tri-old/);
  assert.doesNotMatch(stale.script, /KUBE-X/);
  // A hand-edited rule inside our chain makes that chain (only) be rewritten.
  const fwd = kernel.get('filter')!.chains.get('tri-FORWARD')!;
  fwd.lines[0] = '-j ACCEPT';
  fwd.hashes[0] = undefined;
  const edit = diffIptables(d.iptables, kernel);
  assert.equal(edit.changedChains, 1);
  assert.match(edit.script, /:tri-FORWARD - \[0:0\]/);
});

test('dispatch trees updated step by step equal trees built from scratch, and report every changed chain', () => {
  const opts = {
    ...fromTree,
    // Tiny leaves, and names from a 3-letter alphabet: deep trees whose shape (shared
    // levels skipped or not) changes as names come and go.
    maxLeaf: 2,
  };
  const name = fc
    .array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 6 })
    .map((cs) => `cali${cs.join('')}`);
  const step = fc.record({ add: fc.boolean(), name, other: fc.boolean() });
  fc.assert(
    fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
      const live = new Set<string>();
      const memo = newDispatchMemo();
      // The filter table's tracker as the sink; its view follows each step as a driver's would.
      const set = new DeltaTracker<string, Chain>({ sameDesired: (a, b) => sameRules(a.rules, b.rules) });
      set.assumeEmpty();
      const sink = {
        set: (c: Chain) => set.setDesired(c.name, c),
        delete: (n: string) => set.deleteDesired(n),
      };
      let prev = new Map<string, unknown>();
      for (const s of steps) {
        const n = s.other ? `eth${s.name.slice(4)}` : s.name;
        if (s.add) live.add(n);
        else live.delete(n);
        updateDispatch([...live].sort(), opts, memo, sink);
        const fresh = new Map<string, Chain>();
        updateDispatch([...live].sort(), opts, newDispatchMemo(), {
          set: (c) => fresh.set(c.name, c),
          delete: (n) => fresh.delete(n),
        });
        const now = new Map([...set.desired].map(([k, c]) => [k, c.rules]));
        assert.deepEqual(now, new Map([...fresh].map(([k, c]) => [k, c.rules])));
        const changed = new Set([...set.pendingSets(), ...set.pendingDeletes()].map(([k]) => k));
        for (const [k, c] of set.pendingSets()) set.wrote(k, c);
        for (const [k] of set.pendingDeletes()) set.removed(k);
        for (const k of new Set([...prev.keys(), ...now.keys()]))
          if (!changed.has(k)) assert.deepEqual(now.get(k), prev.get(k), `${k} changed but is not reported`);
        prev = now;
      }
    }),
    { numRuns: 300 },
  );
});

test('write order: every chain after the chains it jumps to, highest name first among the ready ones', () => {
  const chains = new Map(
    [
      { name: 'tri-a', rules: [{ action: '-j tri-z' }, { action: '-g tri-b' }] },
      { name: 'tri-b', rules: [{ action: '-j ACCEPT' }] },
      { name: 'tri-c', rules: [{ action: '-j tri-b' }] },
      { name: 'tri-z', rules: [{ action: '-j MARK --set-xmark 0x1/0x1' }] },
    ].map((c) => [c.name, c]),
  );
  assert.deepEqual(writeOrder(chains), ['tri-z', 'tri-b', 'tri-c', 'tri-a']);
  // A delta: jumps to chains outside it impose no order.
  assert.deepEqual(writeOrder(chains, ['tri-a', 'tri-c']), ['tri-c', 'tri-a']);
  assert.deepEqual(writeOrder(chains, ['tri-b', 'tri-a', 'tri-gone']), ['tri-b', 'tri-a']);
});

test('hook repair deletes felix jumps by their text, never by position, and never names foreign rules', () => {
  const d = noEndpoints();
  // Someone inserted a rule above our jump, and an old jump of ours lingers further down.
  const ours = renderHook({ table: 'filter', hook: 'FORWARD', target: 'tri-FORWARD' }, 'tri-');
  const kernel = parseSave(
    [
      '*filter',
      ':FORWARD ACCEPT [0:0]',
      '-A FORWARD -j KUBE-FORWARD',
      `-A FORWARD ${ours.line}`,
      '-A FORWARD -m comment --comment "tri:oldhasholdhash00" -j tri-OLD',
      'COMMIT',
    ].join('\n'),
  );
  const s = diffIptables(d.iptables, kernel).script.split('\n');
  const start = s.indexOf('*filter');
  const filter = s.slice(start, s.indexOf('COMMIT', start));
  const dels = filter.filter((l) => l.startsWith('-D FORWARD'));
  assert.deepEqual(dels, [
    '-D FORWARD -m comment --comment "tri:oldhasholdhash00" -j tri-OLD',
    `-D FORWARD ${ours.line}`,
  ]);
  const ins = filter.findIndex((l) => l.startsWith('-I FORWARD 1 '));
  assert.ok(ins > filter.lastIndexOf(dels[1]!), 'the jump is inserted after the deletions');
  assert.ok(!filter.some((l) => l.includes('KUBE-FORWARD')), 'the foreign rule is not named');
});

test('a restore of 200,000 lines is planned (no argument-count limit on the plan)', () => {
  const base = noEndpoints().iptables;
  const rules = Array.from({ length: 1000 }, (_, i) => ({
    match: `-s 10.0.${i >> 8}.${i & 255}`,
    action: '-j ACCEPT',
  }));
  const chains = new Map(base.filter.chains);
  for (let i = 0; i < 200; i++) chains.set(`tri-big-${i}`, { name: `tri-big-${i}`, rules });
  const desired = { ...base, filter: { ...base.filter, chains } };
  const plan = diffIptables(desired, new Map());
  const lines = plan.script.split('\n');
  assert.ok(lines.length > 200_000, `${lines.length} lines`);
  assert.equal(lines.filter((l) => l.startsWith('-A tri-big-199 ')).length, 1000);
  const filter = lines.slice(lines.indexOf('*filter'));
  assert.equal(plan.tables.get('filter')!.lines, filter.indexOf('COMMIT') + 1);
});

test("the walk model counts the list nodes iptables-nft's sorted chain list passes", () => {
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom('tri-a', 'tri-b', 'tri-c', 'tri-d', 'ACCEPT', 'tri-pi-x'), { maxLength: 60 }),
      (names) => {
        // The list as iptables-nft keeps it: walk from the head until a name >= the new one.
        const list: string[] = [];
        let walked = 0;
        for (const n of names) {
          let i = 0;
          while (i < list.length && list[i]! < n) i++;
          walked += i + 1;
          if (list[i] !== n) list.splice(i, 0, n);
        }
        const w = new ChainNameWalk();
        for (const n of names) w.mention(n);
        assert.equal(w.walked, walked);
      },
    ),
  );
});

test('a restore whose chain-name walk would pass the budget is cut into several, each chain after its targets', () => {
  // Endpoint chains jumping to shared policy chains (the quadratic case), a little budget.
  const base = noEndpoints().iptables;
  const chains = new Map(base.filter.chains);
  const policies = 30;
  for (let j = 0; j < policies; j++)
    chains.set(`tri-pi-${j}`, { name: `tri-pi-${j}`, rules: [{ match: '-p tcp', action: '-j ACCEPT' }] });
  for (let i = 0; i < 300; i++)
    chains.set(`tri-tw-${i}`, {
      name: `tri-tw-${i}`,
      rules: [{ action: `-j tri-pi-${i % policies}` }, { action: '-j DROP' }],
    });
  const desired = { ...base, filter: { ...base.filter, chains } };
  const whole = diffIptables(desired, new Map());
  assert.equal(whole.scripts.length, 1, 'within the default budget: one restore');
  const cut = diffIptables(desired, new Map(), 2_000);
  assert.ok(cut.scripts.length > 3, `${cut.scripts.length} restores`);
  // The same lines, in the same order, only split.
  const lines = (p: RestorePlan) =>
    p.script.split('\n').filter((l) => l && l !== 'COMMIT' && !l.startsWith('*'));
  assert.deepEqual(lines(cut).sort(), lines(whole).sort());
  // Every jump names a chain declared in the same or an earlier restore; hooks only in the last.
  const declared = new Set<string>([...BUILTIN_CHAINS]);
  cut.scripts.forEach((script, k) => {
    for (const l of script.split('\n')) if (l.startsWith(':')) declared.add(l.slice(1).split(' ')[0]!);
    for (const l of script.split('\n')) {
      const target = / -[jg] (tri-\S+)/.exec(l)?.[1];
      if (target) assert.ok(declared.has(target), `restore ${k}: ${l}`);
      if (k < cut.scripts.length - 1)
        assert.doesNotMatch(l, /^-[IDX] /, `restore ${k} changes a hook or deletes: ${l}`);
    }
    if (k < cut.scripts.length - 1) assert.match(script, /^\*filter\n[\s\S]*\nCOMMIT\n$/);
  });
  assert.match(cut.scripts.at(-1)!, /-I FORWARD 1 /);
  // Each restore's own walk stays near the budget (one chain may pass it).
  for (const script of cut.scripts.slice(0, -1)) {
    const w = new ChainNameWalk();
    for (const l of script.split('\n')) {
      const [op, name] = l.split(' ');
      if (l.startsWith(':')) w.mention(l.slice(1).split(' ')[0]!);
      else if (op === '-A') {
        w.mention(name!);
        const target = / -[jg] (\S+)/.exec(l)?.[1];
        if (target) w.mention(target);
      }
    }
    assert.ok(w.walked <= 2_000 + 200, `${w.walked} nodes walked`);
  }
});
