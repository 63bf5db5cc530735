import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateProfile } from '@tricolor/datastore';
import { explain, makePacket } from '../src/index.js';
import { gnp, namespaceProfile, np, smallModel } from './fixtures.js';

const tcp = (source: string, destination: string, port = 80) =>
  makePacket({ source, destination, protocol: 'TCP', port });

test('no policy: the namespace profiles allow both directions', () => {
  const x = explain(smallModel([]), tcp('10.0.0.1', '10.0.1.2'));
  assert.equal(x.verdict, 'Allow');
  assert.deepEqual(x.egress?.decision, {
    by: 'profile',
    rule: { profile: 'kns.x', index: 0, action: 'Allow' },
  });
  assert.deepEqual(x.ingress?.decision, {
    by: 'profile',
    rule: { profile: 'kns.y', index: 0, action: 'Allow' },
  });
  assert.deepEqual(x.ingress?.profiles, [
    { name: 'kns.y', absent: false },
    { name: 'ksa.y.default', absent: true },
  ]);
});

test('an absent namespace profile allows (the sync writes it allow-all); a profile without a matching rule drops', () => {
  assert.equal(explain(smallModel([], []), tcp('10.0.0.1', '10.0.1.2')).verdict, 'Allow');
  const denyNothing = validateProfile({
    kind: 'Profile',
    metadata: { name: 'kns.y' },
    spec: { labelsToApply: {} },
  });
  const x = explain(smallModel([], [namespaceProfile('x'), denyNothing]), tcp('10.0.0.1', '10.0.1.2'));
  assert.equal(x.verdict, 'Deny');
  assert.deepEqual(x.ingress?.decision, { by: 'end-of-profiles' });
});

test('a policy that applies makes its direction default-deny; the end of policies drops', () => {
  const m = smallModel([np('y', 'deny-in', { selector: 'all()', types: ['Ingress'] })]);
  const x = explain(m, tcp('10.0.0.1', '10.0.1.2'));
  assert.equal(x.verdict, 'Deny');
  assert.equal(x.egress?.verdict, 'Allow');
  assert.deepEqual(x.ingress?.decision, { by: 'end-of-policies' });
  assert.deepEqual(x.ingress?.policies, [{ kind: 'NetworkPolicy', namespace: 'y', name: 'deny-in' }]);
});

test('order: a Deny at 10 beats an Allow at 20; Log goes on; Pass hands over to the profiles', () => {
  const deny = np('y', 'deny-x', {
    order: 10,
    ingress: [{ action: 'Deny', source: { namespaceSelector: "ns == 'x'" } }],
  });
  const log = np('y', 'log', { order: 5, ingress: [{ action: 'Log' }] });
  const allow = np('y', 'allow', { order: 20, ingress: [{ action: 'Allow' }] });
  const x = explain(smallModel([allow, deny, log]), tcp('10.0.0.1', '10.0.1.2'));
  assert.equal(x.verdict, 'Deny');
  assert.deepEqual(x.ingress?.logged, [
    { policy: { kind: 'NetworkPolicy', namespace: 'y', name: 'log' }, index: 0, action: 'Log' },
  ]);
  assert.deepEqual(x.ingress?.decision, {
    by: 'policy',
    rule: { policy: { kind: 'NetworkPolicy', namespace: 'y', name: 'deny-x' }, index: 0, action: 'Deny' },
  });
  // From y itself the Deny does not match and the Allow decides.
  assert.equal(
    explain(smallModel([allow, deny]), tcp('10.0.1.1', '10.0.1.2')).ingress?.decision.by,
    'policy',
  );
  const pass = gnp('pass', {
    order: 1,
    ingress: [{ action: 'Pass', source: { selector: "tricolor.dev/namespace == 'x'" } }],
  });
  const denyAll = gnp('deny', { order: 2, ingress: [{ action: 'Deny' }] });
  const p = explain(smallModel([pass, denyAll]), tcp('10.0.0.1', '10.0.1.2'));
  assert.equal(p.verdict, 'Allow');
  assert.deepEqual(p.ingress?.decision, {
    by: 'profile',
    rule: { profile: 'kns.y', index: 0, action: 'Allow' },
    passedBy: { policy: { kind: 'GlobalNetworkPolicy', name: 'pass' }, index: 0, action: 'Pass' },
  });
  assert.equal(explain(smallModel([pass, denyAll]), tcp('10.0.1.1', '10.0.1.2')).verdict, 'Deny');
});

test('ports: numbers, ranges, named ports resolved on the destination with their protocol; ICMP never matches ports', () => {
  const only = (ports: unknown[], protocol = 'TCP') =>
    smallModel([np('y', 'p', { ingress: [{ action: 'Allow', protocol, destination: { ports } }] })]);
  assert.equal(explain(only([80]), tcp('10.0.0.1', '10.0.1.2', 80)).verdict, 'Allow');
  assert.equal(explain(only([80]), tcp('10.0.0.1', '10.0.1.2', 81)).verdict, 'Deny');
  assert.equal(explain(only(['75:80']), tcp('10.0.0.1', '10.0.1.2', 75)).verdict, 'Allow');
  assert.equal(explain(only(['http']), tcp('10.0.0.1', '10.0.1.2', 80)).verdict, 'Allow');
  assert.equal(explain(only(['http']), tcp('10.0.0.1', '10.0.1.2', 81)).verdict, 'Deny');
  // "dns" is a UDP port: a TCP rule naming it matches nothing.
  assert.equal(explain(only(['dns']), tcp('10.0.0.1', '10.0.1.2', 53)).verdict, 'Deny');
  const udp = makePacket({ source: '10.0.0.1', destination: '10.0.1.2', protocol: 'UDP', port: 53 });
  assert.equal(explain(only(['dns'], 'UDP'), udp).verdict, 'Allow');
  const ping = makePacket({ source: '10.0.0.1', destination: '10.0.1.2', protocol: 'ICMP' });
  assert.equal(explain(only([80]), ping).verdict, 'Deny');
  // Egress to an address that is no endpoint: a named port cannot resolve.
  const egress = smallModel([
    np('x', 'e', { egress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['http'] } }] }),
  ]);
  assert.equal(explain(egress, tcp('10.0.0.1', '10.0.1.2', 80)).verdict, 'Allow');
  assert.equal(explain(egress, tcp('10.0.0.1', '192.0.2.1', 80)).verdict, 'Deny');
  const notPorts = smallModel([
    np('y', 'np', { ingress: [{ action: 'Allow', protocol: 'TCP', destination: { notPorts: ['79:80'] } }] }),
  ]);
  assert.equal(explain(notPorts, tcp('10.0.0.1', '10.0.1.2', 80)).verdict, 'Deny');
  assert.equal(explain(notPorts, tcp('10.0.0.1', '10.0.1.2', 81)).verdict, 'Allow');
});

test('ICMP type/code, protocol numbers, notProtocol, nets/notNets, notSelector, ipVersion', () => {
  const ping = (type = 8, code = 0) =>
    makePacket({
      source: '10.0.0.1',
      destination: '10.0.1.2',
      protocol: 'ICMP',
      icmpType: type,
      icmpCode: code,
    });
  const icmp = smallModel([
    np('y', 'i', {
      ingress: [
        { action: 'Deny', protocol: 'ICMP', icmp: { type: 8, code: 0 } },
        { action: 'Allow', protocol: 1, notICMP: { type: 13 } },
      ],
    }),
  ]);
  assert.equal(explain(icmp, ping()).verdict, 'Deny');
  assert.equal(explain(icmp, ping(0)).verdict, 'Allow');
  assert.equal(explain(icmp, ping(13)).verdict, 'Deny');
  // A global policy: its notSelector is not narrowed to a namespace (a NetworkPolicy's would be).
  const m = smallModel([
    gnp('n', {
      selector: "tricolor.dev/namespace == 'y'",
      ingress: [
        { action: 'Allow', notProtocol: 'UDP', source: { nets: ['10.0.0.0/16'], notNets: ['10.0.0.2/32'] } },
        { action: 'Allow', protocol: 17, source: { notSelector: "pod == 'a'" } },
        { action: 'Allow', ipVersion: 6 },
      ],
    }),
  ]);
  assert.equal(explain(m, tcp('10.0.0.1', '10.0.1.2')).verdict, 'Allow');
  assert.equal(explain(m, tcp('10.0.0.2', '10.0.1.2')).verdict, 'Deny');
  const udp = (src: string) =>
    makePacket({ source: src, destination: '10.0.1.2', protocol: 'UDP', port: 81 });
  assert.equal(explain(m, udp('10.0.0.1')).verdict, 'Deny');
  assert.equal(explain(m, udp('10.0.0.2')).verdict, 'Allow');
  // notSelector: an address that is no endpoint is not selected, so it matches.
  assert.equal(explain(m, udp('192.0.2.9')).verdict, 'Allow');
  assert.equal(explain(m, udp('192.0.2.9')).egress, undefined);
  // In a NetworkPolicy of y the same notSelector matches only endpoints of y.
  const scoped = smallModel([
    np('y', 's', { ingress: [{ action: 'Allow', source: { notSelector: "pod == 'a'" } }] }),
  ]);
  assert.equal(explain(scoped, udp('10.0.0.2')).verdict, 'Deny');
  assert.equal(explain(scoped, udp('10.0.1.2')).verdict, 'Allow');
  assert.equal(explain(scoped, udp('192.0.2.9')).verdict, 'Deny');
});

test('GlobalNetworkPolicy namespaceSelector and selectors across namespaces; has() and in {}', () => {
  const m = smallModel([
    gnp('g', {
      namespaceSelector: "ns in {'y'}",
      ingress: [{ action: 'Allow', source: { selector: "has(pod) && pod in {'b'}" } }],
    }),
  ]);
  assert.equal(explain(m, tcp('10.0.0.2', '10.0.1.1')).verdict, 'Allow');
  assert.equal(explain(m, tcp('10.0.0.1', '10.0.1.1')).verdict, 'Deny');
  // Namespace x is not selected: no policy applies there.
  assert.equal(explain(m, tcp('10.0.1.1', '10.0.0.1')).ingress?.policies.length, 0);
});

test('packets are checked as a user types them', () => {
  assert.throws(
    () => makePacket({ source: '10.0.0.1', destination: 'nope', protocol: 'TCP', port: 80 }),
    /destination "nope"/,
  );
  assert.throws(
    () => makePacket({ source: '10.0.0.1', destination: '10.0.0.2', protocol: 'TCP' }),
    /needs a destination port/,
  );
  assert.throws(
    () => makePacket({ source: '10.0.0.1', destination: '10.0.0.2', protocol: 'ICMP', port: 1 }),
    /has no ports/,
  );
  assert.throws(
    () => makePacket({ source: '10.0.0.1', destination: 'fd00::1', protocol: 'UDP', port: 1 }),
    /different IP families/,
  );
  assert.throws(
    () => makePacket({ source: '10.0.0.1', destination: '10.0.0.2', protocol: 'GRE' }),
    /not known/,
  );
  assert.deepEqual(makePacket({ source: '10.0.0.1', destination: '10.0.0.2', protocol: 'icmp' }).icmp, {
    type: 8,
    code: 0,
  });
});
