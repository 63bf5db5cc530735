import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventTouchesFelix, GenerationReader, OwnWrites } from '../src/dataplane/iptables-monitor.js';

test('xtables-monitor events: what touches felix chains, hooks and tables', () => {
  const yes = [
    ' EVENT: -4 -t filter -D tri-FORWARD -m conntrack --ctstate INVALID -j DROP',
    ' EVENT: -6 -t filter -F tri-fw-cali0a1b2c3d4e5',
    ' EVENT: -4 -t filter -X tri-pi-default.allow',
    ' EVENT: -4 -t filter -D FORWARD -m comment --comment "tri:abc" -j tri-FORWARD',
    ' EVENT: -4 -t nat -D POSTROUTING -j tri-POSTROUTING',
    ' EVENT: -4 -t filter -A OUTPUT -g tri-OUTPUT',
    // A rule added to a built-in chain, maybe ahead of felix's jump (nft reports inserts as -A).
    ' EVENT: -4 -t filter -I FORWARD -s 203.0.113.1/32 -j DROP',
    ' EVENT: -4 -t filter -A FORWARD -s 203.0.113.1/32 -j DROP',
    ' EVENT: nft: DEL table: table filter ip flags 0 use 0 handle 1',
  ];
  const no = [
    ' EVENT: -4 -t filter -D FORWARD -s 203.0.113.1/32 -j DROP',
    ' EVENT: -4 -t nat -A KUBE-SERVICES -j KUBE-MARK-MASQ',
    ' EVENT: -4 -t filter -N KUBE-FIREWALL',
    ' EVENT: nft: NEW table: table filter ip flags 0 use 1 handle 1',
    'NEWGEN: GENID=3 PID=4241 NAME=iptables-nft',
    'garbage',
  ];
  for (const l of yes) assert.equal(eventTouchesFelix(l, 'tri-'), true, l);
  for (const l of no) assert.equal(eventTouchesFelix(l, 'tri-'), false, l);
});

test('generations: events fold into the NEWGEN line that commits them, across reads', () => {
  const r = new GenerationReader('tri-');
  assert.deepEqual(r.push([' EVENT: -4 -t filter -N KUBE-X', 'NEWGEN: GENID=2 PID=10 NAME=iptables-nft']), [
    { pid: 10, touchesFelix: false },
  ]);
  assert.deepEqual(r.push([' EVENT: -4 -t filter -D tri-FORWARD -j DROP']), []);
  assert.deepEqual(r.push([' EVENT: -4 -t filter -N KUBE-Y', 'NEWGEN: GENID=3 PID=11 NAME=iptables-nft']), [
    { pid: 11, touchesFelix: true },
  ]);
  assert.deepEqual(r.push(['NEWGEN: GENID=4 PID=12 NAME=iptables-nft']), [{ pid: 12, touchesFelix: false }]);
});

test("own writes: felix's restores are not drift, whether their NEWGEN comes before or after they end", () => {
  let now = 0;
  const own = new OwnWrites(() => now);
  let foreign = 0;
  own.onForeign = () => foreign++;
  // A generation that does not touch felix: never drift.
  own.generation({ pid: 1, touchesFelix: false });
  assert.equal(foreign, 0);
  // Someone else's change, no restore of ours running: drift at once.
  own.generation({ pid: 2, touchesFelix: true });
  assert.equal(foreign, 1);
  // Our restore's NEWGEN before the restore has ended: held, then recognised.
  own.begin();
  own.generation({ pid: 3, touchesFelix: true });
  assert.equal(foreign, 1);
  own.end(3);
  assert.equal(foreign, 1);
  // Our restore's NEWGEN after it ended: recognised by pid.
  own.begin();
  own.end(4);
  own.generation({ pid: 4, touchesFelix: true });
  assert.equal(foreign, 1);
  // Someone else's change while our restore runs: judged once ours has ended.
  own.begin();
  own.generation({ pid: 5, touchesFelix: true });
  assert.equal(foreign, 1);
  own.end(6);
  assert.equal(foreign, 2);
  // A failed restore (no pid) still releases what was held.
  own.begin();
  own.generation({ pid: 7, touchesFelix: true });
  own.end(undefined);
  assert.equal(foreign, 3);
  // A pid of ours is forgotten after a while (pids are reused).
  now = 60_000;
  own.generation({ pid: 4, touchesFelix: true });
  assert.equal(foreign, 4);
});
