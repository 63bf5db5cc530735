// Runs a RouteSocket inside a network namespace for route-socket.test.ts (a netlink socket
// belongs to the namespace of the process that opens it): one JSON request per stdin line,
// one JSON reply per stdout line.
import { createInterface } from 'node:readline';
import { type DecodedRoute, RouteSocket, type RouteWrite } from '../src/route-socket.js';

type Request =
  | { op: 'write'; writes: RouteWrite[]; protocol: number }
  | { op: 'generate'; count: number; via: string; dev: string; protocol: number; removeMissing?: number }
  | { op: 'routes'; protocol: number }
  | { op: 'get'; address: string };

const socket = new RouteSocket();

/** `count` /24s from 20.0.0.0 on, written; one removal of a prefix never written at `removeMissing`. */
function* generated(r: Extract<Request, { op: 'generate' }>): Generator<RouteWrite> {
  for (let i = 0; i < r.count; i++) {
    if (i === r.removeMissing) yield { prefix: '19.255.255.0/24' };
    yield {
      prefix: `${20 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`,
      hops: [{ via: r.via, dev: r.dev }],
    };
  }
}

async function handle(r: Request): Promise<unknown> {
  switch (r.op) {
    case 'write':
      return socket.write(r.writes, r.protocol);
    case 'generate':
      return socket.write(generated(r), r.protocol);
    case 'routes': {
      const out: DecodedRoute[] = [];
      await socket.eachRoute((x) => {
        if (x.protocolNumber === r.protocol) out.push(x);
      });
      return out;
    }
    case 'get':
      return { dev: (await socket.deviceFor(r.address)) ?? null };
  }
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  try {
    process.stdout.write(`${JSON.stringify({ ok: await handle(JSON.parse(line) as Request) })}\n`);
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ error: (e as Error).message })}\n`);
  }
}
socket.close();
