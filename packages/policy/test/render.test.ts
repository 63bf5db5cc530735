import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  explain,
  explainRequest,
  makePacket,
  renderExplanationJson,
  renderExplanationText,
} from '../src/index.js';
import { gnp, np, smallModel } from './fixtures.js';

test('text rendering names the policies in order, the deciding rule and the verdict', () => {
  const m = smallModel([
    np('y', 'deny-x', {
      order: 10,
      ingress: [{ action: 'Deny', source: { namespaceSelector: "ns == 'x'" } }],
    }),
    gnp('allow-all', { ingress: [{ action: 'Allow' }] }),
  ]);
  const x = explain(
    m,
    makePacket({ source: '10.0.0.1', destination: '10.0.1.2', protocol: 'TCP', port: 80 }),
  );
  assert.equal(
    renderExplanationText(x),
    [
      'TCP port 80 from x/a (10.0.0.1) to y/b (10.0.1.2)',
      'egress of x/a (endpoint node-1-k8s-a-eth0): ALLOW',
      '  policies: none apply',
      '  profiles: kns.x, ksa.x.default (absent)',
      '  no policy applies: the profiles decide',
      '  decided by profile kns.x Allow rule 0',
      'ingress of y/b (endpoint node-1-k8s-b-eth0): DENY',
      '  policies, in order:',
      '    1. y/deny-x  (NetworkPolicy, order 10)',
      '    2. global/allow-all  (GlobalNetworkPolicy, order none (last))',
      '  profiles: kns.y, ksa.y.default (absent)',
      '  decided by policy y/deny-x Deny rule 0',
      'verdict: DENY',
      '',
    ].join('\n'),
  );
  const external = explain(m, makePacket({ source: '192.0.2.1', destination: '10.0.1.2', protocol: 'ICMP' }));
  const text = renderExplanationText(external);
  assert.match(text, /^ICMP type 8 code 0 from 192\.0\.2\.1 \(no endpoint of the cluster\) to y\/b/);
  assert.match(text, /egress: not checked/);
  assert.match(text, /verdict: ALLOW/);
  const json = JSON.parse(renderExplanationJson(x));
  assert.equal(json.verdict, 'Deny');
  assert.deepEqual(json.packet, { protocol: 'TCP', source: '10.0.0.1', destination: '10.0.1.2', port: 80 });
  assert.equal(json.ingress.decision.rule.policy.name, 'deny-x');
});

test('explain requests name pods or addresses, as tricolorctl policy explain takes them', () => {
  const m = smallModel([
    np('y', 'deny', { ingress: [{ action: 'Deny', protocol: 'UDP' }, { action: 'Allow' }] }),
  ]);
  const x = explainRequest(m, { from: 'x/a', to: 'y/b', protocol: 'UDP', port: 53 });
  assert.deepEqual([x.packet.source, x.packet.destination, x.verdict], ['10.0.0.1', '10.0.1.2', 'Deny']);
  assert.equal(explainRequest(m, { from: 'x/a', to: '10.0.1.2', port: 80 }).verdict, 'Allow');
  assert.equal(
    explainRequest(m, { from: 'y/a', to: '192.0.2.1', protocol: 'ICMP' }).destination.endpoint,
    undefined,
  );
  assert.throws(
    () => explainRequest(m, { from: 'x/zz', to: 'y/b', port: 80 }),
    /source "x\/zz": no such workload endpoint/,
  );
  assert.throws(
    () => explainRequest(m, { from: 'x/a', to: 'fd00::1', port: 80 }),
    /source x\/a has no IPv6 address/,
  );
});
