import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Netns, requireCommands, requireRoot } from '@tricolor/testkit';

const PROBE = fileURLToPath(new URL('./backend-probe.js', import.meta.url));

interface Probe {
  backend: string;
  delta: number[];
  refresh: number[];
  hookFixes: number;
  v6Forward: string[];
  during: string[];
  v4: Record<string, Record<string, string[]>>;
  v6: Record<string, Record<string, string[]>>;
}

/** The host's iptables backend is the one that already holds rules; felix programs it, both families. */
for (const backend of ['legacy', 'nft'] as const) {
  test(`iptables backend ${backend}: detected from the rules already there, programmed in both families, deltas applied`, async (t) => {
    if (
      !requireRoot(t) ||
      !requireCommands(t, `iptables-${backend}-save`, `ip6tables-${backend}-restore`, 'ipset')
    )
      return;
    const ns = await Netns.create('ipt');
    try {
      // The operator's rule (kube-proxy, docker, …) tells felix which backend the host uses.
      await ns.exec(`iptables-${backend}`, ['-A', 'FORWARD', '-s', '203.0.113.9/32', '-j', 'DROP']);
      const out = await ns.exec(process.execPath, [PROBE]);
      const p = JSON.parse(out.stdout.trim().split('\n').at(-1)!) as Probe;
      assert.equal(p.backend, backend);
      for (const [family, tables] of [
        ['v4', p.v4],
        ['v6', p.v6],
      ] as const) {
        const filter = tables.filter!;
        for (let i = 1; i <= 4; i++)
          assert.ok(filter[`tri-tw-cali${String(i).padStart(11, '0')}`], `${family}: endpoint ${i} chain`);
        assert.ok(
          filter.FORWARD!.some((r) => / -j tri-FORWARD$/.test(r)),
          `${family}: FORWARD jumps to tri-FORWARD`,
        );
        assert.ok(filter['tri-from-wl-dispatch'], `${family}: dispatch`);
      }
      // After the hook repair: felix's jump first, then the operator's rules, in their order.
      assert.equal(p.hookFixes, 1);
      const fwd = p.v4.filter!.FORWARD!;
      assert.match(fwd[0]!, / -j tri-FORWARD$/);
      assert.deepEqual(fwd.slice(1), ['-s 203.0.113.10/32 -j DROP', '-s 203.0.113.9/32 -j DROP']);
      assert.deepEqual(
        p.v6Forward,
        ['-s 2001:db8::10/128 -j DROP'],
        "IPv6 off: only the other agent's rule is left",
      );
      assert.match(p.v6.nat!['tri-nat-outgoing']!.join('\n'), /^$/, 'no natOutgoing IPv6 pool: empty chain');
      // One more endpoint: its two chains and the two dispatch chains that lead to them, per family.
      assert.deepEqual(p.delta, [4, 4]);
      // The refresh: the drifted tri-FORWARD is rewritten by whichever apply came after the
      // read finished, endpoint 5's four chains once; a final full re-read finds nothing.
      const [during, after, settled] = p.refresh as [number, number, number];
      const repairedDuring = p.during.includes('tri-FORWARD');
      assert.equal(during, repairedDuring ? 5 : 4, p.during.join());
      assert.equal(after, repairedDuring ? 0 : 1);
      assert.equal(settled, 0);
      for (let i = 1; i <= 5; i++) assert.ok(p.v4.filter![`tri-fw-cali${String(i).padStart(11, '0')}`]);
      assert.ok(
        p.v4.filter!['tri-FORWARD']!.some((r) => /INVALID/.test(r)),
        'drift repaired',
      );
    } finally {
      await ns.destroy();
    }
  });
}
