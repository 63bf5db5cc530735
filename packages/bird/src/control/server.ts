/**
 * The control socket: a Unix socket (mode 0600) answering read-only birdc commands with
 * one JSON document per connection. Request: one line `{"cmd":"show route","args":[...]}`;
 * answer `{"result":…}` or `{"error":"…"}` (the handler decides which commands exist).
 */
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname } from 'node:path';

export type ControlHandler = (cmd: string, args: string[]) => unknown;

export async function startControl(path: string, handle: ControlHandler): Promise<Server> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (existsSync(path)) unlinkSync(path);
  const server = createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', () => sock.destroy());
    sock.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > 65536) sock.destroy();
        return;
      }
      let reply: unknown;
      try {
        const req = JSON.parse(buf.slice(0, nl)) as { cmd?: unknown; args?: unknown };
        const cmd = String(req.cmd ?? '');
        const args = Array.isArray(req.args) ? req.args.map(String) : [];
        reply = { result: handle(cmd, args) };
      } catch (e) {
        reply = { error: (e as Error).message };
      }
      sock.end(`${JSON.stringify(reply)}\n`);
    });
  });
  const old = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  } finally {
    process.umask(old);
  }
  chmodSync(path, 0o600);
  return server;
}
