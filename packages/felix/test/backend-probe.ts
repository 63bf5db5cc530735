/**
 * Run inside a network namespace by backends.e2e.test.ts (`ip netns exec <ns> node
 * backend-probe.js`): detects the iptables backend the way the agent does, programs a
 * small desired state with it (both families, ipsets first), adds one endpoint through the
 * calculation's delta, and prints what the kernel then holds as JSON.
 */
import { CalcCache, computeDesiredState } from '../src/calc/desired-state.js';
import { EndpointIndex } from '../src/calc/endpoint-index.js';
import { cmd } from '../src/dataplane/exec.js';
import { IpsetDriver } from '../src/dataplane/ipsets.js';
import { binaries, detectBackend, IptablesDriver, readTables } from '../src/dataplane/iptables.js';
import { pool, settings, wep } from './helpers.js';

const backend = await detectBackend();
const endpoints = new EndpointIndex('n1');
const add = (i: number) =>
  endpoints.set(
    `default/p${i}`,
    wep(`p${i}`, 'n1', `cali${String(i).padStart(11, '0')}`, `10.244.1.${i}/32`),
  );
for (let i = 1; i <= 3; i++) add(i);
const inputs = {
  nodeName: 'n1',
  settings: settings(),
  endpoints,
  pools: [pool('v4', '10.244.0.0/16', { natOutgoing: true }), pool('v6', 'fd00:10::/64', { blockSize: 122 })],
  affinities: [],
  nodes: [],
};
const cache = new CalcCache();
const first = computeDesiredState(inputs, cache);
await new IpsetDriver('tri-').apply(first.ipsets);
const v4 = new IptablesDriver(backend, 'tri-', 4);
const v6 = new IptablesDriver(backend, 'tri-', 6);
await v4.apply(first.iptables);
await v6.apply(first.ip6tables!);
add(4);
const next = computeDesiredState(inputs, cache);
const delta4 = await v4.apply(next.iptables, next.changes?.iptables);
const delta6 = await v6.apply(next.ip6tables!, next.changes?.ip6tables);
const tables = async (family: 4 | 6) => {
  const t = await readTables(backend, family);
  return Object.fromEntries([...t].map(([name, tab]) => [name, Object.fromEntries(tab.chains)]));
};
// Drift made by hand, then the refresh timer's background read while one more endpoint is
// added: the apply after the read rewrites the drifted chain and nothing felix wrote meanwhile.
await cmd(binaries(backend, 4).iptables, ['-D', 'tri-FORWARD', '1']);
const reading = v4.refresh();
add(5);
const fifth = computeDesiredState(inputs, cache);
const during = await v4.apply(fifth.iptables, fifth.changes?.iptables);
await reading;
const after = await v4.apply(fifth.iptables);
v4.invalidate();
const settled = await v4.apply(fifth.iptables);
await v6.apply(fifth.ip6tables!, fifth.changes?.ip6tables);
// Another agent inserts a rule above felix's jump: the next full apply moves the jump back
// to the top (deleting it by its text) and keeps both foreign rules.
await cmd(binaries(backend, 4).iptables, ['-I', 'FORWARD', '1', '-s', '203.0.113.10/32', '-j', 'DROP']);
v4.invalidate();
const hookFix = await v4.apply(fifth.iptables);
const v6Programmed = await tables(6);
// IPv6 switched off (the last IPv6 pool gone) right after another agent inserted a rule
// above felix's jump — felix's model of FORWARD is stale: its jump is removed by text, the
// other agent's rule stays.
await cmd(binaries(backend, 6).iptables, ['-I', 'FORWARD', '1', '-s', '2001:db8::10/128', '-j', 'DROP']);
const none = { chains: new Map(), hooks: [], ruleCount: 0 };
await v6.apply({ raw: none, mangle: none, nat: none, filter: none });
process.stdout.write(
  `${JSON.stringify({
    backend,
    delta: [delta4.changedChains, delta6.changedChains],
    refresh: [during.changedChains, after.changedChains, settled.changedChains],
    hookFixes: hookFix.hookChanges,
    during: [...(during.touched.get('filter')?.written ?? [])].map((c) => c.name),
    v4: await tables(4),
    v6: v6Programmed,
    v6Forward: (await readTables(backend, 6)).get('filter')?.chains.get('FORWARD') ?? [],
  })}\n`,
);
