/** iperf3 from Debian, as the data-path benches run it: a server in a namespace, TCP runs to it. */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Netns } from '@tricolor/testkit';

/** The port every iperf3 server of the bench listens on. */
export const IPERF_PORT = 5201;

export function startIperfServer(ns: Netns): Promise<ChildProcess> {
  const child = spawn(
    'ip',
    ['netns', 'exec', ns.name, 'iperf3', '-s', '--forceflush', '-p', String(IPERF_PORT)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('Server listening')) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('exit', (code) => reject(new Error(`iperf3 server in ${ns.name} exited ${code}: ${out}`)));
  });
}

/** One iperf3 TCP run from `ns` to `ip`: received Gbit/s and the sender's retransmits. */
export async function iperf(
  ns: Netns,
  ip: string,
  seconds: number,
): Promise<{ gbps: number; retransmits: number }> {
  const r = await ns.exec('iperf3', ['-c', ip, '-p', String(IPERF_PORT), '-t', String(seconds), '-J'], {
    allowFail: true,
    timeoutMs: (seconds + 20) * 1000,
  });
  const j = JSON.parse(r.stdout || '{}') as {
    error?: string;
    end?: { sum_received?: { bits_per_second: number }; sum_sent?: { retransmits?: number } };
  };
  if (r.code !== 0 || !j.end?.sum_received) throw new Error(`iperf3 to ${ip}: ${j.error ?? r.stderr}`);
  return { gbps: j.end.sum_received.bits_per_second / 1e9, retransmits: j.end.sum_sent?.retransmits ?? 0 };
}
