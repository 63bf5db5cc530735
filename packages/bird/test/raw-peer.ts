/**
 * A scriptable BGP peer for session tests, run as its own process inside a network
 * namespace (`node raw-peer.js`): it opens, accepts and writes on raw TCP connections as
 * told, so a test can produce exactly the byte sequences and timings a real daemon only
 * produces by chance (a bare connection, an OPEN and a KEEPALIVE in one write, a second
 * connection while Established).
 *
 * Commands, one JSON object per stdin line:
 *   {"op":"listen","host":H,"port":P}
 *   {"op":"connect","conn":"c1","host":H,"port":P,"local":L}
 *   {"op":"send","conn":"c1","msgs":[Msg...]}      one write with every message
 *   {"op":"close","conn":"c1"}
 * Msg: {"open":{"as":N,"id":"A.B.C.D","hold":S,"restarting":bool}} | {"keepalive":true} |
 *      {"update":HEX-BODY} | {"notification":[code,subcode]}
 * Events, one JSON object per stdout line: {"ev":"listening"}, {"ev":"connected","conn"},
 * {"ev":"accepted","conn"}, {"ev":"msg","conn","type","code","subcode"}, {"ev":"closed","conn"}.
 */
import { createServer, connect as netConnect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import {
  type Capability,
  decodeMessage,
  encodeKeepalive,
  encodeMessage,
  encodeNotification,
  ipv4FromString,
  makeOpen,
  StreamDecoder,
} from 'bgp-parser-ts';

type Msg =
  | { open: { as: number; id: string; hold?: number; restarting?: boolean } }
  | { keepalive: true }
  | { update: string }
  | { notification: [number, number] };

const conns = new Map<string, Socket>();
let accepted = 0;
const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

function watch(name: string, s: Socket): void {
  conns.set(name, s);
  const dec = new StreamDecoder();
  s.on('data', (chunk) => {
    try {
      for (const f of dec.push(chunk)) {
        const m = decodeMessage(f) as { type: string; code?: number; subcode?: number };
        say({ ev: 'msg', conn: name, type: m.type, code: m.code, subcode: m.subcode });
      }
    } catch (e) {
      say({ ev: 'error', conn: name, message: (e as Error).message });
    }
  });
  s.on('error', () => undefined);
  s.on('close', () => say({ ev: 'closed', conn: name }));
}

function encode(m: Msg): Uint8Array {
  if ('keepalive' in m) return encodeKeepalive();
  if ('notification' in m)
    return encodeNotification({
      code: m.notification[0],
      subcode: m.notification[1],
      data: new Uint8Array(0),
    });
  if ('update' in m) {
    const body = Buffer.from(m.update, 'hex');
    const out = Buffer.alloc(19 + body.length, 0xff);
    out.writeUInt16BE(19 + body.length, 16);
    out[18] = 2;
    body.copy(out, 19);
    return out;
  }
  const caps: Capability[] = [
    { kind: 'multiprotocol', afi: 1, safi: 1, reserved: 0 },
    { kind: 'four-octet-as', as: m.open.as },
  ];
  if (m.open.restarting !== undefined)
    caps.push({
      kind: 'graceful-restart',
      restartFlags: m.open.restarting ? 8 : 0,
      restartTime: 120,
      families: [{ afi: 1, safi: 1, flags: 0x80 }],
    });
  return encodeMessage(
    makeOpen({
      as: m.open.as,
      holdTime: m.open.hold ?? 90,
      bgpId: ipv4FromString(m.open.id),
      capabilities: caps,
    }),
  );
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (!line.trim()) return;
  const c = JSON.parse(line) as {
    op: string;
    conn?: string;
    host?: string;
    port?: number;
    local?: string;
    msgs?: Msg[];
  };
  if (c.op === 'listen') {
    const srv = createServer((s) => {
      const name = `in${++accepted}`;
      watch(name, s);
      say({ ev: 'accepted', conn: name, port: s.remotePort });
    });
    srv.listen(c.port, c.host, () => say({ ev: 'listening' }));
  } else if (c.op === 'connect') {
    const s = netConnect({ host: c.host!, port: c.port!, localAddress: c.local });
    watch(c.conn!, s);
    s.once('connect', () => say({ ev: 'connected', conn: c.conn, port: s.localPort }));
  } else if (c.op === 'send') {
    const s = conns.get(c.conn!);
    s?.write(Buffer.concat((c.msgs ?? []).map(encode)));
  } else if (c.op === 'close') {
    conns.get(c.conn!)?.destroy();
  }
});
rl.on('close', () => process.exit(0));
