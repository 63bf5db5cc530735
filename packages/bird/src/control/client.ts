/** birdc side of the control socket. */
import { createConnection } from 'node:net';

export function query(path: string, cmd: string, args: string[] = [], timeoutMs = 10_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer from ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify({ cmd, args })}\n`));
    sock.on('data', (d: string) => {
      buf += d;
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot reach the daemon at ${path}: ${e.message}`));
    });
    sock.on('end', () => {
      clearTimeout(timer);
      try {
        const r = JSON.parse(buf) as { result?: unknown; error?: string };
        if (r.error) reject(new Error(r.error));
        else resolve(r.result);
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}
