#!/usr/bin/env node
/**
 * A raw BGP speaker for the chaos run, run inside its own network namespace on the nodes'
 * segment: for each case it connects to the node, opens a session, announces a valid route,
 * sends the malformed UPDATE and watches for 3 s what the node does — a NOTIFICATION and a
 * reset, or nothing (the session stays up: treat-as-withdraw). One JSON line per case on
 * stdout. Messages are built and read with bgp-parser-ts. Argument: JSON
 * {nodeIp, localIp, as, cases: [name]}.
 */
import { connect, type Socket } from 'node:net';
import {
  createContext,
  decodeMessage,
  encodeMessage,
  makeOpen,
  negotiateContext,
  type OpenMessage,
  StreamDecoder,
} from 'bgp-parser-ts';
import { MALFORMED_CASES, matches, type Observed, validUpdate } from './malformed-cases.js';

interface Args {
  nodeIp: string;
  localIp: string;
  as: number;
  cases: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ipNum = (ip: string) => ip.split('.').reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;

/** One session: handshake, valid UPDATE, malformed UPDATE, 3 s of watching. */
async function runCase(a: Args, bytes: Uint8Array): Promise<Observed> {
  const open = makeOpen({
    as: a.as,
    holdTime: 9,
    bgpId: ipNum(a.localIp),
    capabilities: [
      { kind: 'multiprotocol', afi: 1, safi: 1, reserved: 0 },
      { kind: 'four-octet-as', as: a.as },
    ],
  });
  const sock: Socket = await new Promise((resolve, reject) => {
    const s = connect({ host: a.nodeIp, port: 179, localAddress: a.localIp });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
  const dec = new StreamDecoder(createContext());
  const events: ({ type: string; code?: number; subcode?: number } | 'closed')[] = [];
  let wake: (() => void) | undefined;
  sock.on('data', (chunk: Buffer) => {
    try {
      for (const frame of dec.push(chunk)) {
        const m = decodeMessage(frame, dec.context);
        if (m.type === 'OPEN') dec.setContext(negotiateContext(open, m as OpenMessage));
        events.push(
          m.type === 'NOTIFICATION' ? { type: m.type, code: m.code, subcode: m.subcode } : { type: m.type },
        );
      }
    } catch {
      events.push({ type: 'undecodable' });
    }
    wake?.();
  });
  sock.on('close', () => {
    events.push('closed');
    wake?.();
  });
  sock.on('error', () => undefined);
  const until = async (pred: () => boolean, ms: number) => {
    const end = Date.now() + ms;
    while (!pred() && Date.now() < end)
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100);
      });
    return pred();
  };
  const notification = () =>
    events.find((e) => e !== 'closed' && e.type === 'NOTIFICATION') as
      | { code: number; subcode: number }
      | undefined;
  try {
    sock.write(encodeMessage(open));
    if (
      !(await until(
        () => events.some((e) => e !== 'closed' && e.type === 'OPEN') || events.includes('closed'),
        5_000,
      ))
    )
      return { kind: 'no-session', detail: 'no OPEN from the node' };
    if (events.includes('closed')) return { kind: 'no-session', detail: 'closed before OPEN' };
    sock.write(encodeMessage({ type: 'KEEPALIVE' }));
    if (!(await until(() => events.some((e) => e !== 'closed' && e.type === 'KEEPALIVE'), 5_000)))
      return { kind: 'no-session', detail: `not Established (${JSON.stringify(events)})` };
    sock.write(validUpdate({ as: a.as, nextHop: ipNum(a.localIp) }));
    await sleep(300);
    if (events.includes('closed'))
      return {
        kind: 'no-session',
        detail: `closed after the valid UPDATE (${JSON.stringify(notification())})`,
      };
    sock.write(bytes);
    const keepalive = setInterval(
      () => sock.writable && sock.write(encodeMessage({ type: 'KEEPALIVE' })),
      2_000,
    );
    await until(() => events.includes('closed'), 3_000);
    clearInterval(keepalive);
    const n = notification();
    if (n) return { kind: 'reset', code: n.code, subcode: n.subcode };
    if (events.includes('closed')) return { kind: 'closed-without-notification' };
    return { kind: 'stayed-up' };
  } finally {
    if (!events.includes('closed') && sock.writable)
      sock.end(encodeMessage({ type: 'NOTIFICATION', code: 6, subcode: 2, data: new Uint8Array() }));
    sock.destroy();
  }
}

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2] ?? '{}') as Args;
  for (const name of a.cases) {
    const c = MALFORMED_CASES.find((x) => x.name === name);
    if (!c) throw new Error(`unknown case ${name}`);
    const bytes = c.build({ as: a.as, nextHop: ipNum(a.localIp) });
    let seen: Observed = { kind: 'no-session', detail: 'not tried' };
    // The node learns about this peer from etcd and may hold off after a reset: retry a while.
    const end = Date.now() + 25_000;
    while (Date.now() < end) {
      try {
        seen = await runCase(a, bytes);
      } catch (e) {
        seen = { kind: 'no-session', detail: (e as Error).message };
      }
      if (seen.kind !== 'no-session') break;
      await sleep(500);
    }
    process.stdout.write(
      `${JSON.stringify({ case: c.name, rule: c.rule, expect: c.expect, observed: seen, ok: matches(c.expect, seen) })}\n`,
    );
    await sleep(500);
  }
}

if (process.argv[1]?.endsWith('speaker.js')) {
  main().then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`speaker: ${(e as Error).stack}\n`);
      process.exit(1);
    },
  );
}
