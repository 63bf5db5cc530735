#!/usr/bin/env node
/**
 * The conformance agent: one long-lived process per pod, run inside the pod's network
 * namespace. It serves TCP and UDP on 80 and 81 (UDP echoes each datagram) — and SCTP through
 * two long-lived socat listeners where the kernel has SCTP (Node has no SCTP sockets) — and
 * performs probes on request: JSON lines on stdin `{"id","protocol","address","port","timeoutMs"}`,
 * answers `{"id","ok"}` on stdout. TCP and UDP probes spawn nothing; ICMP and SCTP probes run
 * `ping` / `socat` (Node has neither raw nor SCTP sockets).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { createInterface } from 'node:readline';

interface ProbeRequest {
  id: number;
  protocol: 'TCP' | 'UDP' | 'SCTP' | 'ICMP';
  address: string;
  port?: number;
  timeoutMs: number;
}

const PORTS = [80, 81];
const children: ChildProcess[] = [];

function tcpProbe(address: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: address, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

function udpProbe(address: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    const token = randomBytes(8).toString('hex');
    let finished = false;
    const done = (ok: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('message', (msg) => {
      if (msg.toString() === token) done(true);
    });
    sock.on('error', () => done(false));
    sock.connect(port, address, () => sock.send(token));
  });
}

function commandProbe(
  cmd: string,
  args: string[],
  input: string | undefined,
  timeoutMs: number,
  ok: (code: number | null, out: string) => boolean,
): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'ignore'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 500);
    child.once('error', () => resolve(false));
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve(ok(code, out));
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

function probe(r: ProbeRequest): Promise<boolean> {
  const seconds = Math.max(1, Math.floor(r.timeoutMs / 1000));
  switch (r.protocol) {
    case 'TCP':
      return tcpProbe(r.address, r.port!, r.timeoutMs);
    case 'UDP':
      return udpProbe(r.address, r.port!, r.timeoutMs);
    case 'ICMP':
      return commandProbe(
        'ping',
        ['-n', '-q', '-c', '1', '-W', String(seconds), r.address],
        undefined,
        r.timeoutMs,
        (code) => code === 0,
      );
    case 'SCTP': {
      const token = randomBytes(8).toString('hex');
      return commandProbe(
        'socat',
        ['-T', String(seconds), '-', `SCTP-CONNECT:${r.address}:${r.port},connect-timeout=${seconds}`],
        `${token}\n`,
        r.timeoutMs,
        (_code, out) => out.includes(token),
      );
    }
  }
}

async function serve(sctp: boolean): Promise<void> {
  for (const port of PORTS) {
    const tcp = net.createServer((s) => {
      s.on('error', () => undefined);
      s.end();
    });
    await new Promise<void>((resolve, reject) => tcp.once('error', reject).listen(port, '0.0.0.0', resolve));
    const udp = dgram.createSocket('udp4');
    udp.on('message', (msg, rinfo) => udp.send(msg, rinfo.port, rinfo.address));
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, '0.0.0.0', resolve);
    });
    if (sctp) {
      const listener = spawn('socat', [`SCTP-LISTEN:${port},reuseaddr,fork`, 'EXEC:cat'], {
        stdio: 'ignore',
      });
      listener.once('error', (e) => process.stderr.write(`agent: SCTP listener on ${port}: ${e.message}\n`));
      children.push(listener);
    }
  }
}

function exit(code: number): never {
  for (const c of children) c.kill('SIGTERM');
  process.exit(code);
}

async function main(): Promise<void> {
  await serve(process.argv.includes('--sctp'));
  const write = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
  write({ ready: true });
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const r = JSON.parse(line) as ProbeRequest;
    probe(r).then(
      (ok) => write({ id: r.id, ok }),
      () => write({ id: r.id, ok: false }),
    );
  });
  lines.on('close', () => exit(0));
  process.on('SIGTERM', () => exit(0));
}

main().catch((e: unknown) => {
  process.stderr.write(`agent: ${(e as Error).message}\n`);
  exit(1);
});
