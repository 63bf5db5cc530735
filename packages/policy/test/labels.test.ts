import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Profile, validateProfile, validateWorkloadEndpoint } from '@tricolor/datastore';
import { effectiveLabels } from '../src/index.js';

const profile = (name: string, labelsToApply: Record<string, string>): Profile =>
  validateProfile({ kind: 'Profile', metadata: { name }, spec: { labelsToApply } });

test("effective labels: the endpoint's own, the namespace's under pcns., the service account's under pcsa.", () => {
  const wep = validateWorkloadEndpoint({
    kind: 'WorkloadEndpoint',
    metadata: {
      name: 'n1-k8s-a-eth0',
      namespace: 'x',
      labels: { pod: 'a', env: 'mine', 'tricolor.dev/namespace': 'x' },
    },
    spec: {
      node: 'n1',
      workload: 'x/a',
      interfaceName: 'cali0123456789a',
      ipNetworks: ['10.0.0.1/32'],
      profiles: ['kns.x', 'ksa.x.default', 'shared'],
      serviceAccountName: 'default',
    },
  });
  const profiles = new Map(
    [
      profile('kns.x', { ns: 'x', 'kubernetes.io/metadata.name': 'x' }),
      profile('ksa.x.default', { team: 'a' }),
      profile('shared', { env: 'shared', tier: 'web' }),
    ].map((p) => [p.metadata.name, p]),
  );
  assert.deepEqual(effectiveLabels(wep, profiles), {
    pod: 'a',
    env: 'mine',
    tier: 'web',
    'tricolor.dev/namespace': 'x',
    'pcns.ns': 'x',
    'pcns.kubernetes.io/metadata.name': 'x',
    'pcns.tricolor.dev/name': 'x',
    'pcsa.team': 'a',
    'pcsa.tricolor.dev/name': 'default',
  });
  // Before the namespace's profile exists, its name is still known.
  assert.deepEqual(effectiveLabels(wep, new Map()), {
    pod: 'a',
    env: 'mine',
    'tricolor.dev/namespace': 'x',
    'pcns.tricolor.dev/name': 'x',
    'pcsa.tricolor.dev/name': 'default',
  });
});
