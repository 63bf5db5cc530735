/** Pure parts, no sockets: FSM, decision process, prefix table, policies, kernel diff, config. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BgpDecodeError, createContext, encodeUpdate, parsePrefix } from 'bgp-parser-ts';
import { KernelChannel } from '../src/channels/kernel-channel.js';
import { parseArgs, parsePeerFlag } from '../src/config/cli.js';
import { BirdConfigError } from '../src/config/types.js';
import type { KernelIo, RouteWrite } from '../src/kernel/io.js';
import { routeSpec } from '../src/kernel/routes.js';
import { outboundPath } from '../src/policy/export.js';
import { makeImportPolicy } from '../src/policy/import.js';
import { exportedPrefixes } from '../src/policy/originate.js';
import { AttrStore } from '../src/rib/attrs.js';
import { type Candidate, selectBest } from '../src/rib/decision.js';
import { LocRib } from '../src/rib/loc-rib.js';
import { PrefixTable, parseV4Prefix, v4String } from '../src/rib/prefix-table.js';
import { mayAdvertise, reflect } from '../src/rib/reflection.js';
import { applyUpdate } from '../src/rib/update-in.js';
import { collisionChoice } from '../src/session/collision.js';
import { DEFAULT_FSM_CONFIG, type FsmEvent, type FsmState, INITIAL_STATE, step } from '../src/session/fsm.js';

const cfg = { ...DEFAULT_FSM_CONFIG, connectRetrySeconds: 5, idleHoldSeconds: 1, maxIdleHoldSeconds: 8 };
function run(events: FsmEvent[], c = cfg, s0: FsmState = INITIAL_STATE) {
  let s = s0;
  const all: string[] = [];
  for (const e of events) {
    const r = step(c, s, e, 1000);
    s = r.state;
    all.push(
      ...r.actions.map((a) =>
        a.type === 'sendNotification'
          ? `notify ${a.code}/${a.subcode}`
          : a.type === 'startTimer'
            ? `start ${a.timer} ${a.seconds}`
            : a.type === 'stopTimer'
              ? `stop ${a.timer}`
              : a.type,
      ),
    );
  }
  return { s, all };
}

describe('fsm', () => {
  test('active open to Established', () => {
    const { s, all } = run([
      { type: 'ManualStart' },
      { type: 'TcpConnectionSucceeds' },
      { type: 'BGPOpen', holdTime: 9, keepaliveTime: 3 },
      { type: 'KeepAliveMsg' },
    ]);
    assert.equal(s.name, 'Established');
    assert.deepEqual(
      all.filter((a) => !a.startsWith('st')),
      ['connect', 'sendOpen', 'sendKeepalive', 'established'],
    );
    assert.ok(all.includes('start hold 9') && all.includes('start keepalive 3'));
  });
  test('passive waits in Active and never connects', () => {
    const { s, all } = run([{ type: 'ManualStart' }, { type: 'ConnectRetryTimerExpires' }], {
      ...cfg,
      passive: true,
    });
    assert.equal(s.name, 'Active');
    assert.ok(!all.includes('connect'));
  });
  test('connect retry, then failure moves to Active and retries', () => {
    const { s, all } = run([
      { type: 'ManualStart' },
      { type: 'TcpConnectionFails' },
      { type: 'ConnectRetryTimerExpires' },
    ]);
    assert.equal(s.name, 'Connect');
    assert.equal(all.filter((a) => a === 'connect').length, 2);
  });
  test('hold timer expiry sends 4/0 and reports the session down; backoff grows', () => {
    const up = [
      { type: 'ManualStart' },
      { type: 'TcpConnectionSucceeds' },
      { type: 'BGPOpen', holdTime: 9, keepaliveTime: 3 },
      { type: 'KeepAliveMsg' },
    ] as FsmEvent[];
    const r1 = run([...up, { type: 'HoldTimerExpires' }]);
    assert.equal(r1.s.name, 'Idle');
    assert.ok(
      r1.all.includes('notify 4/0') && r1.all.includes('sessionDown') && r1.all.includes('start idleHold 1'),
    );
    const r2 = run(
      [{ type: 'IdleHoldTimerExpires' }, ...up.slice(1), { type: 'HoldTimerExpires' }],
      cfg,
      r1.s,
    );
    assert.ok(r2.all.includes('start idleHold 2'), r2.all.join());
    assert.equal(r2.s.flaps, 2);
  });
  test('UPDATE in OpenConfirm is an FSM error 5/2; OPEN errors send their NOTIFICATION', () => {
    const r = run([
      { type: 'ManualStart' },
      { type: 'TcpConnectionSucceeds' },
      { type: 'BGPOpen', holdTime: 9, keepaliveTime: 3 },
      { type: 'UpdateMsg' },
    ]);
    assert.ok(r.all.includes('notify 5/2'));
    const o = run([
      { type: 'ManualStart' },
      { type: 'TcpConnectionSucceeds' },
      { type: 'MessageError', code: 2, subcode: 2 },
    ]);
    assert.ok(o.all.includes('notify 2/2'));
    assert.equal(o.s.name, 'Idle');
  });
  test('ManualStop sends Cease/2 and disables restarts; collision dump sends 6/7', () => {
    const r = run([{ type: 'ManualStart' }, { type: 'TcpConnectionSucceeds' }, { type: 'ManualStop' }]);
    assert.ok(r.all.includes('notify 6/2'));
    assert.equal(r.s.enabled, false);
    const c = run([
      { type: 'ManualStart' },
      { type: 'TcpConnectionSucceeds' },
      { type: 'OpenCollisionDump' },
    ]);
    assert.ok(c.all.includes('notify 6/7'));
  });
  test('connection-level failures before the OPEN exchange retry on connect-retry, without backoff', () => {
    const refused = run([
      { type: 'ManualStart' },
      { type: 'TcpConnectionSucceeds' },
      { type: 'TcpConnectionFails' },
    ]);
    assert.equal(refused.s.name, 'Active');
    assert.equal(refused.s.flaps, 0);
    assert.ok(refused.all.includes('start connectRetry 5') && !refused.all.includes('start idleHold 1'));
    for (const subcode of [5, 7]) {
      const cease = run([
        { type: 'ManualStart' },
        { type: 'TcpConnectionSucceeds' },
        { type: 'NotifMsg', code: 6, subcode },
      ]);
      assert.equal(cease.s.name, 'Active', `Cease 6/${subcode}`);
      assert.equal(cease.s.flaps, 0);
    }
    const bad = run([
      { type: 'ManualStart' },
      { type: 'TcpConnectionSucceeds' },
      { type: 'NotifMsg', code: 2, subcode: 2 },
    ]);
    assert.equal(bad.s.name, 'Idle');
    assert.equal(bad.s.flaps, 1);
  });
  test('collision switch: Cease 6/7 on the old connection in OpenConfirm, a restart report when Established', () => {
    const up: FsmEvent[] = [
      { type: 'ManualStart' },
      { type: 'TcpConnectionSucceeds' },
      { type: 'BGPOpen', holdTime: 9, keepaliveTime: 3 },
    ];
    const oc = run([...up, { type: 'CollisionSwitch' }]);
    assert.equal(oc.s.name, 'OpenSent');
    assert.ok(oc.all.includes('notify 6/7') && oc.all.includes('closeConnection'));
    assert.equal(
      oc.all.filter((a) => a === 'sendOpen').length,
      1,
      'our OPEN was sent on the new connection already',
    );
    const est = run([...up, { type: 'KeepAliveMsg' }, { type: 'CollisionSwitch' }]);
    assert.equal(est.s.name, 'OpenSent');
    assert.ok(est.all.includes('sessionDown') && !est.all.includes('notify 6/7'));
    assert.equal(est.s.flaps, 0);
  });
  test('collision choice (RFC 4271 §6.8): higher identifier initiates, Established is kept unless its peer restarted', () => {
    const base = {
      state: 'OpenConfirm' as const,
      existingOutgoing: true,
      localId: 10,
      remoteId: 20,
      restarting: false,
      probeSurvived: false,
    };
    assert.equal(collisionChoice(base), 'take-new');
    assert.equal(collisionChoice({ ...base, localId: 30 }), 'keep-existing');
    assert.equal(collisionChoice({ ...base, existingOutgoing: false, localId: 30 }), 'take-new');
    assert.equal(collisionChoice({ ...base, state: 'Active', existingOutgoing: undefined }), 'take-new');
    const est = { ...base, state: 'Established' as const, localId: 5 };
    assert.equal(collisionChoice(est), 'wait');
    assert.equal(collisionChoice({ ...est, probeSurvived: true }), 'keep-existing');
    assert.equal(collisionChoice({ ...est, restarting: true }), 'take-new');
  });
});

const attrs = (o: Partial<Candidate['attrs']> = {}) => ({
  localPref: 100,
  asPathLen: 1,
  neighborAs: 65001,
  origin: 0,
  med: undefined,
  originatorId: undefined,
  clusterList: [],
  ...o,
});
const cand = (o: Partial<Candidate> & { a?: Partial<Candidate['attrs']> } = {}): Candidate => ({
  local: false,
  ebgp: false,
  peerRouterId: 5,
  peerAddress: '05',
  ...o,
  attrs: attrs(o.a),
});

describe('decision', () => {
  test('each step of the order decides', () => {
    assert.deepEqual(selectBest([cand({ a: { localPref: 100 } }), cand({ a: { localPref: 200 } })])[0], 1);
    assert.deepEqual(selectBest([cand({ a: { asPathLen: 3 } }), cand({ a: { asPathLen: 2 } })])[0], 1);
    assert.deepEqual(selectBest([cand({ a: { origin: 2 } }), cand({ a: { origin: 0 } })])[0], 1);
    assert.deepEqual(selectBest([cand({ a: { med: 10 } }), cand({ a: { med: 5 } })])[0], 1);
    assert.deepEqual(selectBest([cand({ ebgp: false }), cand({ ebgp: true })])[0], 1);
    assert.deepEqual(
      selectBest([
        cand({ peerRouterId: 9, peerAddress: '01' }),
        cand({ peerRouterId: 3, peerAddress: '02' }),
      ]),
      [1, 0],
      'ties are ECMP',
    );
    assert.deepEqual(
      selectBest([cand({ local: true, a: { localPref: 1 } }), cand({ a: { localPref: 500 } })])[0],
      0,
    );
  });
  test('MED only compared within the same neighbour AS', () => {
    const r = selectBest([
      cand({ peerRouterId: 1, a: { med: 50, neighborAs: 1 } }),
      cand({ peerRouterId: 2, a: { med: 5, neighborAs: 2 } }),
    ]);
    assert.equal(r[0], 0);
  });
});

describe('prefix table', () => {
  test('set/get/delete, growth, tombstones', () => {
    const t = new PrefixTable(4);
    for (let i = 0; i < 20000; i++) t.set((i << 8) >>> 0, 24, i, 1);
    assert.equal(t.size, 20000);
    for (let i = 0; i < 20000; i += 2) assert.ok(t.delete((i << 8) >>> 0, 24));
    assert.equal(t.size, 10000);
    assert.equal(t.slotA(t.find((1 << 8) >>> 0, 24)), 1);
    assert.equal(t.find(0, 24), -1);
    assert.ok(t.set(0, 23, 7));
    assert.equal(t.slotA(t.find(0, 23)), 7);
    assert.equal(v4String(0x0a000100, 24), '10.0.1.0/24');
    assert.deepEqual(parseV4Prefix('10.0.1.77/24'), { addr: 0x0a000100, len: 24 });
  });
});

describe('rib', () => {
  const ctx = createContext();
  const upd = (nh: string, prefixes: string[], lp = 100) =>
    encodeUpdate(
      {
        withdrawn: [],
        nlri: prefixes.map((p) => parsePrefix(p)),
        attributes: [
          { kind: 'origin', flags: 0x40, origin: 0 },
          { kind: 'as-path', flags: 0x40, segments: [] },
          {
            kind: 'next-hop',
            flags: 0x40,
            nextHop: parsePrefix(`${nh}/32`).addr.reduce((a, b) => a * 256 + b, 0),
          },
          { kind: 'local-pref', flags: 0x40, localPref: lp },
        ],
      },
      ctx,
    );
  const ic = { localAs: 64512, routerId: 1, clusterId: undefined };
  test('attribute sets are shared, best path follows LOCAL_PREF, withdraw frees', () => {
    const store = new AttrStore();
    const rib = new LocRib(store);
    const a = rib.addPeer({
      name: 'a',
      local: false,
      ebgp: false,
      routerId: 10,
      addressKey: '0a',
      rrClient: false,
    });
    const b = rib.addPeer({
      name: 'b',
      local: false,
      ebgp: false,
      routerId: 11,
      addressKey: '0b',
      rrClient: false,
    });
    const pfx = Array.from({ length: 500 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
    assert.equal(applyUpdate(upd('192.0.2.1', pfx), ctx, a, rib, ic).announced, 500);
    applyUpdate(upd('192.0.2.1', ['20.0.0.0/8']), ctx, a, rib, ic);
    assert.equal(store.size, 1, 'one attribute set for 501 prefixes');
    applyUpdate(upd('192.0.2.2', ['10.0.5.0/24'], 200), ctx, b, rib, ic);
    assert.equal(rib.paths('10.0.5.0/24')[0]!.peer, b.idx);
    assert.equal(rib.paths('10.0.6.0/24')[0]!.peer, a.idx);
    rib.clearPeer(b);
    assert.equal(rib.paths('10.0.5.0/24')[0]!.peer, a.idx);
    assert.equal(store.size, 1);
    rib.clearPeer(a);
    assert.equal(rib.size, 0);
    assert.equal(store.size, 0, 'sets freed with their last route');
  });
  test("the kernel channel writes a route once its next hop's device is known, looking again at the prefixes that waited on it alone", async () => {
    const rib = new LocRib(new AttrStore());
    const peer = (name: string, routerId: number) =>
      rib.addPeer({ name, local: false, ebgp: false, routerId, addressKey: name, rrClient: false });
    const a = peer('a', 10);
    const b = peer('b', 11);
    // Next hops resolve when the test says so, as a slow netlink lookup would.
    const lookups = new Map<string, (dev: string) => void>();
    const written: RouteWrite[] = [];
    const io: KernelIo = {
      apply: async (ws) => {
        const list = [...ws];
        written.push(...list);
        return { writes: list.length, failed: 0, errors: [] };
      },
      routes: async () => undefined,
      deviceFor: (addr) => new Promise((resolve) => lookups.set(addr, resolve)),
    };
    const silent = { warn() {}, info() {}, debug() {}, error() {} } as never;
    const kernel = new KernelChannel({ rib, io, log: silent });
    // What the speaker does on every batch: the dirty prefixes to the channel, then flush.
    const feed = () => {
      rib.drainDirty(
        (addr, len, id) => kernel.updateV4(addr, len, rib.pathsV4(addr, len), id),
        (p) => kernel.updateOther(p, rib.paths(p)),
      );
      kernel.flush();
    };
    const pfx = Array.from({ length: 250 }, (_, i) => `10.1.${i}.0/24`);
    applyUpdate(upd('192.0.2.1', pfx), ctx, a, rib, ic);
    feed();
    await kernel.settle();
    assert.equal(written.length, 0, 'nothing written while the next hop is unknown');
    assert.deepEqual([...lookups.keys()], ['192.0.2.1'], 'one lookup for 250 prefixes');
    lookups.get('192.0.2.1')!('eth0');
    await kernel.idle();
    assert.equal(written.length, 250);
    assert.deepEqual(written[0]!.hops, [{ via: '192.0.2.1', dev: 'eth0' }]);

    // A second peer's first route: its next hop is new, and only its prefix waits on it.
    written.length = 0;
    applyUpdate(upd('192.0.2.2', ['10.2.0.0/24']), ctx, b, rib, ic);
    feed();
    let looked = 0;
    const pathsV4 = rib.pathsV4.bind(rib);
    rib.pathsV4 = (addr, len) => {
      looked++;
      return pathsV4(addr, len);
    };
    lookups.get('192.0.2.2')!('eth1');
    await kernel.idle();
    assert.deepEqual(
      written.map((w) => [w.prefix, w.hops]),
      [['10.2.0.0/24', [{ via: '192.0.2.2', dev: 'eth1' }]]],
    );
    assert.equal(looked, 1, 'the resolution looked at the one waiting prefix, not the whole Loc-RIB');
    assert.equal(kernel.installed, 251);
  });
  test('RFC 7606: a bad ORIGIN is treat-as-withdraw, a bad prefix length throws 3/10', () => {
    const rib = new LocRib(new AttrStore());
    const a = rib.addPeer({
      name: 'a',
      local: false,
      ebgp: false,
      routerId: 10,
      addressKey: '0a',
      rrClient: false,
    });
    applyUpdate(upd('192.0.2.1', ['10.9.0.0/16']), ctx, a, rib, ic);
    const bad = upd('192.0.2.1', ['10.9.0.0/16']);
    bad[19 + 4 + 3] = 9; // ORIGIN value
    const r = applyUpdate(bad, ctx, a, rib, ic);
    assert.equal(r.treatAsWithdraw, true);
    assert.equal(rib.size, 0);
    const worse = upd('192.0.2.1', ['10.9.0.0/16']);
    worse[worse.length - 3] = 40;
    assert.throws(
      () => applyUpdate(worse, ctx, a, rib, ic),
      (e) => e instanceof BgpDecodeError && e.code === 3 && e.subcode === 10,
    );
  });
  test('RFC 7606: the same attribute octets from an internal and an external peer are two sets (LOCAL_PREF kept / discarded); withdraw-only UPDATEs with bad attributes reset (§5.2)', () => {
    const rib = new LocRib(new AttrStore());
    const peer = (name: string, ebgp: boolean) =>
      rib.addPeer({ name, local: false, ebgp, routerId: 10, addressKey: name, rrClient: false });
    const ibgp = peer('0a', false);
    const ebgp = peer('0b', true);
    const internal = createContext({ peerType: 'internal' });
    const external = createContext({ peerType: 'external' });
    applyUpdate(upd('192.0.2.1', ['10.9.0.0/16'], 200), internal, ibgp, rib, ic);
    // The very same octets from the external peer: not the internal peer's set.
    const r = applyUpdate(upd('192.0.2.1', ['10.8.0.0/16'], 200), external, ebgp, rib, ic);
    assert.deepEqual(
      r.errors.map((e) => [e.action, e.rule]),
      [['attribute-discard', 'RFC 7606 §7.5']],
    );
    const lp = (p: string) => rib.store.get(rib.paths(p)[0]!.attrId).localPref;
    assert.equal(lp('10.9.0.0/16'), 200);
    assert.equal(lp('10.8.0.0/16'), undefined, 'LOCAL_PREF from an external peer is discarded');
    // Again from the external peer (now a fast-path hit of its own set): still discarded.
    applyUpdate(upd('192.0.2.1', ['10.7.0.0/16'], 200), external, ebgp, rib, ic);
    assert.equal(lp('10.7.0.0/16'), undefined);
    // Withdrawals with an ORIGIN of 9 and no NLRI: the error cannot be treated as a withdraw.
    const withdrawOnly = encodeUpdate(
      {
        withdrawn: [parsePrefix('10.9.0.0/16')],
        nlri: [],
        attributes: [{ kind: 'origin', flags: 0x40, origin: 0 }],
      },
      internal,
    );
    withdrawOnly[withdrawOnly.length - 1] = 9;
    assert.throws(
      () => applyUpdate(withdrawOnly, internal, ibgp, rib, ic),
      (e) => e instanceof BgpDecodeError && e.code === 3 && e.subcode === 6 && e.rule === 'RFC 7606 §5.2',
    );
    withdrawOnly[withdrawOnly.length - 1] = 0;
    assert.equal(
      applyUpdate(withdrawOnly, internal, ibgp, rib, ic).withdrawn,
      1,
      'clean attributes: a withdrawal',
    );
    assert.equal(rib.paths('10.9.0.0/16').length, 0);
  });
});

describe('policy and reflection', () => {
  test('export: own blocks and borrowed /32s, never own per-pod /32s, nothing from disableBGPExport pools', () => {
    const pools = [
      { cidr: '10.244.0.0/16', disabled: false, disableBGPExport: false, ipip: false },
      { cidr: '10.250.0.0/16', disabled: false, disableBGPExport: true, ipip: false },
    ];
    assert.deepEqual(
      exportedPrefixes({
        ownBlocks: ['10.244.1.0/26', '10.250.0.0/26'],
        borrowed: ['10.244.1.5', '10.244.9.7', '10.250.3.3'],
        pools,
      }),
      ['10.244.1.0/26', '10.244.9.7/32'],
    );
  });
  test('import: enabled pools only, tunl0 for IPIP pools; no pools = all', () => {
    const p = makeImportPolicy({
      pools: [
        { cidr: '10.244.0.0/16', disabled: false, disableBGPExport: false, ipip: true },
        { cidr: '10.9.0.0/16', disabled: true, disableBGPExport: false, ipip: false },
      ],
    });
    assert.ok(p.accept('10.244.3.0/26'));
    assert.ok(!p.accept('10.9.0.0/26') && !p.accept('8.8.8.0/24'));
    assert.equal(p.device('10.244.3.0/26'), 'tunl0');
    assert.ok(makeImportPolicy({}).accept('8.8.8.0/24'));
  });
  test('split horizon and RFC 4456 reflection', () => {
    const ibgp = { peerIdx: 1, local: false, ebgp: false, rrClient: false, routerId: 7 };
    assert.equal(mayAdvertise(ibgp, { peerIdx: 2, ebgp: false, rrClient: false }, false), false);
    assert.equal(mayAdvertise(ibgp, { peerIdx: 2, ebgp: false, rrClient: true }, true), true);
    assert.equal(mayAdvertise(ibgp, { peerIdx: 2, ebgp: false, rrClient: false }, true), false);
    assert.equal(
      mayAdvertise({ ...ibgp, rrClient: true }, { peerIdx: 2, ebgp: false, rrClient: false }, true),
      true,
    );
    assert.equal(mayAdvertise(ibgp, { peerIdx: 1, ebgp: false, rrClient: true }, true), false);
    const r = reflect([{ kind: 'cluster-list', flags: 0x80, clusterIds: [5] }], 7, 9);
    assert.deepEqual(
      r.map((a) => a.kind),
      ['originator-id', 'cluster-list'],
    );
    assert.deepEqual((r[1] as { clusterIds: number[] }).clusterIds, [9, 5]);
  });
  test('eBGP outbound: our AS prepended, LOCAL_PREF dropped, next hop self', () => {
    const set = {
      attributes: [{ kind: 'local-pref', flags: 0x40, localPref: 100 }],
      asPath: [{ type: 2, asns: [65001] }],
      nextHop: '10.0.0.9',
    } as never;
    const o = outboundPath(set, { local: false, ebgp: false, routerId: 1 }, { ebgp: true }, false, {
      localAs: 64512,
      routerId: 1,
      clusterId: undefined,
    });
    assert.deepEqual(o.attributes, [
      { kind: 'as-path', flags: 0x40, segments: [{ type: 2, asns: [64512, 65001] }] },
    ]);
    assert.equal(o.nextHop, '');
  });
});

describe('kernel and config', () => {
  test('route specs', () => {
    assert.equal(routeSpec([{ via: '10.0.0.2', dev: 'eth0' }]), 'via 10.0.0.2 dev eth0 onlink');
    assert.equal(
      routeSpec([
        { via: '10.0.0.3', dev: 'eth0' },
        { via: '10.0.0.2', dev: 'eth1' },
      ]),
      'nexthop via 10.0.0.2 dev eth1 onlink nexthop via 10.0.0.3 dev eth0 onlink',
    );
  });
  test('the control socket: --control, else BIRD_CONTROL (as tricolor-birdc reads it), else the default', () => {
    assert.equal(parseArgs([], {}).config.controlPath, '/var/run/tricolor/bird.ctl');
    assert.equal(parseArgs([], { BIRD_CONTROL: '/run/a.ctl' }).config.controlPath, '/run/a.ctl');
    assert.equal(
      parseArgs(['--control', '/run/b.ctl'], { BIRD_CONTROL: '/run/a.ctl' }).config.controlPath,
      '/run/b.ctl',
    );
  });
  test('flags and clear errors', () => {
    const p = parseArgs(
      [
        '--router-id',
        '10.0.0.1',
        '--as',
        '4200000001',
        '--listen',
        '10.0.0.1:1790',
        '--peer',
        '10.0.0.2:65000,passive',
        '--peer',
        '[2001:db8::2]:65001',
        '--export',
        '10.244.0.0/26',
        '--no-kernel',
      ],
      { BIRD_HEALTHPORT: '9999' },
    );
    assert.equal(p.config.localAs, 4200000001);
    assert.deepEqual(p.config.listen, { host: '10.0.0.1', port: 1790 });
    assert.deepEqual(p.config.peers, [
      { address: '10.0.0.2', as: 65000, passive: true },
      { address: '2001:db8::2', as: 65001 },
    ]);
    assert.deepEqual(p.config.health, { host: '127.0.0.1', port: 9999 });
    assert.equal(p.config.kernel, false);
    assert.throws(
      () => parseArgs(['--router-id', '10.0.0.1', '--as', '4294967296']),
      (e) => e instanceof BirdConfigError && /out of range/.test(e.message),
    );
    assert.throws(() => parseArgs(['--router-id', '10.0.0.1', '--peer', 'foo']), /unknown address family/);
    assert.throws(
      () =>
        parsePeerFlag('10.0.0.1,families=ipx') &&
        parseArgs(['--router-id', '1.1.1.1', '--peer', '10.0.0.1,families=ipx']),
      /unknown address family/,
    );
  });
});
