/**
 * Run inside a network namespace by backends.e2e.test.ts (`ip netns exec <ns> node
 * backend-probe.js`): detects the iptables backend the way the agent does, programs a
 * small desired state with it (both families, ipsets first), adds one endpoint, and prints
 * what the kernel then holds as JSON.
 */
import { run } from '@tricolor/linux';
import { IpsetDriver } from '../src/dataplane/ipsets.js';
import { IptablesDriver } from '../src/dataplane/iptables.js';
import { binaries, detectBackend, linuxKernel, readTables } from '../src/dataplane/linux-io.js';
import { GraphHarness } from './graph-harness.js';
import { pool, settings, wep } from './helpers.js';

const backend = await detectBackend();
const eps = [1, 2, 3].map((i) =>
  wep(`p${i}`, 'n1', `cali${String(i).padStart(11, '0')}`, `10.244.1.${i}/32`),
);
const add = (i: number) =>
  eps.push(wep(`p${i}`, 'n1', `cali${String(i).padStart(11, '0')}`, `10.244.1.${i}/32`));
const inputs = {
  endpoints: eps,
  pools: [pool('v4', '10.244.0.0/16', { natOutgoing: true }), pool('v6', 'fd00:10::/64', { blockSize: 122 })],
  affinities: [],
  nodes: [],
};
const h = new GraphHarness('n1', settings());
const io = linuxKernel(backend, 'tri-');
const st = h.state;
h.sync(inputs);
await new IpsetDriver(st.ipsets, st.ipsetMembers, io, 'tri-').apply();
const v4 = new IptablesDriver(4, st.iptables[4], io, st.renderer);
const v6 = new IptablesDriver(6, st.iptables[6], io, st.renderer);
await v4.apply();
await v6.apply();
add(4);
h.sync(inputs);
const delta4 = await v4.apply();
const delta6 = await v6.apply();
const tables = async (family: 4 | 6) => {
  const t = await readTables(backend, family);
  return Object.fromEntries(
    [...t].map(([name, tab]) => [name, Object.fromEntries([...tab.chains].map(([c, p]) => [c, p.lines]))]),
  );
};
// Drift made by hand, then the refresh timer's background read while one more endpoint is
// added: the apply after the read rewrites the drifted chain and nothing felix wrote meanwhile.
await run(binaries(backend, 4).iptables, ['-D', 'tri-FORWARD', '1']);
const reading = v4.read();
add(5);
h.sync(inputs);
const during = await v4.apply();
await reading;
const after = await v4.apply();
v4.invalidate();
const settled = await v4.apply();
await v6.apply();
// Another agent inserts a rule above felix's jump: the next full apply moves the jump back
// to the top (deleting it by its text) and keeps both foreign rules.
await run(binaries(backend, 4).iptables, ['-I', 'FORWARD', '1', '-s', '203.0.113.10/32', '-j', 'DROP']);
v4.invalidate();
const hookFix = await v4.apply();
const v6Programmed = await tables(6);
// IPv6 switched off (the last IPv6 pool gone) right after another agent inserted a rule
// above felix's jump — felix's view of FORWARD is stale: its jump is removed by text, the
// other agent's rule stays.
await run(binaries(backend, 6).iptables, ['-I', 'FORWARD', '1', '-s', '2001:db8::10/128', '-j', 'DROP']);
inputs.pools = inputs.pools.slice(0, 1);
h.sync(inputs);
await v6.apply();
process.stdout.write(
  `${JSON.stringify({
    backend,
    delta: [delta4.changedChains, delta6.changedChains],
    refresh: [during.changedChains, after.changedChains, settled.changedChains],
    hookFixes: hookFix.hookChanges,
    during: during.written.filter ?? [],
    v4: await tables(4),
    v6: v6Programmed,
    v6Forward: (await readTables(backend, 6)).get('filter')?.chains.get('FORWARD')?.lines ?? [],
  })}\n`,
);
