#!/usr/bin/env node
/**
 * The long-lived prober of one pod (run inside the pod's network namespace): answers probes
 * on UDP port PORT and sends one probe to every peer every 100 ms. A probe without a reply
 * within 1 s is lost. Losses count only once the pair is established, and only for probes
 * sent after the first one answered: a new pod's routes take a moment to spread. Peers come on stdin as JSON lines
 * `{"v":n,"peers":[{"name","ip"}]}` (a full list; a removed peer's pending probes are dropped,
 * not lost; answered with `{"ack":n}`); events go to stdout as JSON lines: `{"ready":…}`, `{"established":{peer,at}}`,
 * `{"lost":{peer,seq,at}}` (at = send time, ms since the epoch) and every second
 * `{"stats":{sent,received,lost}}` (this pod's totals so far).
 */
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { PROBE_INTERVAL_MS, PROBE_PORT, PROBE_TIMEOUT_MS, type ProberEvent } from './probe-protocol.js';

const PROBE = 1;
const REPLY = 2;

interface Peer {
  name: string;
  ip: string;
  seq: number;
  pending: Map<number, number>;
  /** The first probe answered: probes sent before it went out before the path worked. */
  establishedSeq: number | undefined;
  sent: number;
  received: number;
  lost: number;
}

function main(): void {
  const peers = new Map<string, Peer>(); // by ip
  /** Every probe this pod sent, whatever became of its peer since. */
  const totals = { sent: 0, received: 0, lost: 0 };
  const sock = createSocket('udp4');
  const emit = (o: ProberEvent) => process.stdout.write(`${JSON.stringify(o)}\n`);
  sock.on('message', (msg, rinfo) => {
    if (msg.length !== 5) return;
    const type = msg[0];
    const seq = msg.readUInt32BE(1);
    if (type === PROBE) {
      msg[0] = REPLY;
      sock.send(msg, rinfo.port, rinfo.address);
      return;
    }
    const p = peers.get(rinfo.address);
    const sentAt = p?.pending.get(seq);
    if (!p || sentAt === undefined) return; // late (already lost) or a removed peer
    p.pending.delete(seq);
    p.received++;
    totals.received++;
    if (p.establishedSeq === undefined) {
      p.establishedSeq = seq;
      emit({ established: { peer: p.name, at: Date.now() } });
    }
  });
  sock.on('error', (e) => {
    process.stderr.write(`prober: ${e.message}\n`);
    process.exit(1);
  });
  sock.bind(PROBE_PORT, () => emit({ ready: { at: Date.now() } }));

  createInterface({ input: process.stdin }).on('line', (line) => {
    const cmd = JSON.parse(line) as { v: number; peers?: { name: string; ip: string }[] };
    if (!cmd.peers) return;
    const want = new Map(cmd.peers.map((p) => [p.ip, p.name]));
    for (const ip of peers.keys()) if (!want.has(ip)) peers.delete(ip);
    for (const [ip, name] of want)
      if (!peers.has(ip))
        peers.set(ip, {
          name,
          ip,
          seq: 0,
          pending: new Map(),
          establishedSeq: undefined,
          sent: 0,
          received: 0,
          lost: 0,
        });
    emit({ ack: cmd.v });
  });
  // Last totals out before leaving (a pipe write completes asynchronously).
  process.stdin.on('end', () =>
    process.stdout.write(`${JSON.stringify({ stats: totals })}\n`, () => process.exit(0)),
  );

  setInterval(() => {
    const now = Date.now();
    for (const p of peers.values()) {
      for (const [seq, at] of p.pending) {
        if (now - at < PROBE_TIMEOUT_MS) break; // in send order
        p.pending.delete(seq);
        if (p.establishedSeq !== undefined && seq > p.establishedSeq) {
          p.lost++;
          totals.lost++;
          emit({ lost: { peer: p.name, seq, at } });
        }
      }
      p.seq++;
      const out = Buffer.alloc(5); // dgram may still hold the previous one
      out[0] = PROBE;
      out.writeUInt32BE(p.seq >>> 0, 1);
      p.pending.set(p.seq, now);
      p.sent++;
      totals.sent++;
      sock.send(out, PROBE_PORT, p.ip);
    }
  }, PROBE_INTERVAL_MS);
  setInterval(() => emit({ stats: { ...totals } }), 1_000);
}

main();
