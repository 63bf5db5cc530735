#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ActionError } from './actions.js';
import { CaseError } from './case.js';
import { runConformance, SetupError } from './runner.js';

const USAGE = `usage: netpol-conformance.sh [--json] [--via-kubernetes] CASE.json...

Runs NetworkPolicy conformance cases (e2e/netpol/FORMAT.md) on a local multi-node Tricolor
cluster in network namespaces (as root). Prints a matrix per probe, or with --json one JSON
document on stdout. Exit 0: every judged cell matches; 1: a cell differs or a case was skipped;
2: usage or setup error (bad case file, cluster did not come up).
--via-kubernetes: namespaces, pods, labels and NetworkPolicies go through a Kubernetes API
server (testkit's fake; no kube-apiserver runs here) and tricolor-kube-controllers, and the
CNI plugin reads each pod from it, instead of being written to the datastore directly.
After each step's actions it waits until every node's felix reports (GET /status) the
datastore revision of those writes as programmed.
Environment: TRICOLOR_NETPOL_SETTLE_MS (a fixed wait after each step instead, max 10000 ms).`;

async function main(): Promise<number> {
  let parsed: ReturnType<
    typeof parseArgs<{
      options: {
        json: { type: 'boolean' };
        'via-kubernetes': { type: 'boolean' };
        help: { type: 'boolean'; short: 'h' };
      };
      allowPositionals: true;
    }>
  >;
  try {
    parsed = parseArgs({
      options: {
        json: { type: 'boolean' },
        'via-kubernetes': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    });
  } catch (e) {
    process.stderr.write(`netpol-conformance: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (parsed.positionals.length === 0) {
    process.stderr.write(`netpol-conformance: no case files given\n${USAGE}\n`);
    return 2;
  }
  try {
    return await runConformance({
      files: parsed.positionals,
      json: parsed.values.json === true,
      viaKubernetes: parsed.values['via-kubernetes'] === true,
    });
  } catch (e) {
    if (e instanceof CaseError || e instanceof SetupError || e instanceof ActionError) {
      process.stderr.write(`netpol-conformance: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`netpol-conformance: ${(e as Error).stack ?? String(e)}\n`);
    return 2;
  }
}

main().then((code) => process.exit(code));
