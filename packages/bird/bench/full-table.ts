/**
 * Learning a full table: a BIRD 2 sender with 1,000,000 static IPv4 /24s announces them
 * over eBGP to, one after the other, our speaker (Loc-RIB only), BIRD 2, GoBGP, and our
 * speaker again with kernel install. For each receiver: seconds from process start until
 * all routes are in its RIB (and kernel), and peak RSS (VmHWM). Needs root, bird, gobgpd.
 * Usage: node dist/bench/full-table.js [count]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Bird,
  Daemon,
  type Gobgp,
  hasCommand,
  isRoot,
  Netns,
  Segment,
  startBird,
  startGobgp,
  waitFor,
} from '@tricolor/testkit';
import { query } from '../src/control/client.js';
import { BIRD_JS } from '../test/helpers.js';

const COUNT = Number(process.argv[2] ?? 1_000_000);
const SENDER = '10.63.0.1';

function hwm(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function main(): Promise<void> {
  if (!isRoot() || !hasCommand('bird') || !hasCommand('gobgpd')) {
    console.error('bench needs root, bird and gobgpd');
    process.exit(1);
  }
  const dir = mkdtempSync(join(tmpdir(), 'tb-bench-'));
  const seg = await Segment.create('bench');
  const sender = await Netns.create('snd');
  const recv = await Netns.create('rcv');
  await seg.attach(sender, `${SENDER}/16`);
  await seg.attach(recv, '10.63.0.2/16');
  const daemons: Daemon[] = [];
  const rows: string[][] = [];
  try {
    const lines: string[] = [];
    for (let i = 0; i < COUNT; i++)
      lines.push(`route ${16 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24 blackhole;`);
    const snd = await startBird(sender, {
      dir,
      name: 'sender',
      readyTimeoutMs: 300_000,
      config: `router id ${SENDER};
protocol device {}
protocol static big { ipv4; ${lines.join('\n')} }
protocol bgp rcv { local ${SENDER} as 65000; neighbor 10.63.0.2 as 64512; passive on; hold time 240;
  ipv4 { import none; export all; next hop self; }; }
`,
    });
    daemons.push(snd.daemon);
    await waitFor(
      'sender loaded',
      async () =>
        /(\d+) of (\d+) routes/.exec(await snd.birdc('show route count', { timeoutMs: 60_000 }))?.[1] ===
        String(COUNT),
      300_000,
    );
    console.error(`sender ready with ${COUNT} routes`);

    const measure = async (name: string, start: () => Promise<Daemon>, done: () => Promise<boolean>) => {
      const t0 = performance.now();
      const d = await start();
      daemons.push(d);
      await waitFor(
        `${name} full table`,
        async () => (d.alive ? await done() : Promise.reject(new Error(d.logs()))),
        600_000,
      );
      const secs = (performance.now() - t0) / 1000;
      const rss = hwm(d.child.pid!);
      rows.push([name, secs.toFixed(1), rss.toFixed(0)]);
      console.error(`${name}: ${secs.toFixed(1)} s, peak RSS ${rss.toFixed(0)} MiB`);
      await d.stop('SIGKILL');
      await new Promise((r) => setTimeout(r, 2000));
    };

    const ours = (kernel: boolean) => {
      const ctl = join(dir, `ours-${kernel}.ctl`);
      return {
        start: async () =>
          Daemon.spawn(
            recv,
            process.execPath,
            [
              BIRD_JS,
              '--router-id',
              '10.63.0.2',
              '--as',
              '64512',
              '--listen',
              '10.63.0.2',
              '--peer',
              `${SENDER}:65000`,
              '--control',
              ctl,
              '--connect-retry',
              '1',
              '--no-graceful-restart',
              '--reconcile',
              '3600',
              '--log-level',
              'warn',
              ...(kernel ? ['--kernel'] : ['--no-kernel']),
            ],
            'ours',
          ),
        done: async () => {
          const s = (await query(ctl, 'show status').catch(() => undefined)) as
            | { locRibPrefixes: number; kernelRoutes: number | null }
            | undefined;
          if (!s || s.locRibPrefixes < COUNT) return false;
          if (!kernel) return true;
          const n = Number(
            execFileSync('sh', ['-c', `ip -n ${recv.name} -4 route show proto bird | wc -l`]).toString(),
          );
          return n >= COUNT;
        },
      };
    };
    const o1 = ours(false);
    await measure('tricolor-bird (Loc-RIB)', o1.start, o1.done);

    let rbird: Bird | undefined;
    await measure(
      'BIRD 2.0 (RIB)',
      async () => {
        rbird = await startBird(recv, {
          dir,
          name: 'rbird',
          config: `router id 10.63.0.2;
protocol device {}
protocol bgp snd { local 10.63.0.2 as 64512; neighbor ${SENDER} as 65000; connect delay time 0; connect retry time 1;
  ipv4 { import all; export none; }; }
`,
        });
        return rbird.daemon;
      },
      async () =>
        /(\d+) of/.exec((await rbird?.birdc('show route count', { timeoutMs: 60_000 })) ?? '')?.[1] ===
        String(COUNT),
    );

    let gobgpd: Gobgp | undefined;
    const gobgpToml = `[global.config]
  as = 64512
  router-id = "10.63.0.2"
  local-address-list = ["10.63.0.2"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${SENDER}"
    peer-as = 65000
  [neighbors.timers.config]
    connect-retry = 1
    hold-time = 240
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
`;
    await measure(
      'GoBGP 3.10 (RIB)',
      async () => {
        gobgpd = await startGobgp(recv, { dir, toml: gobgpToml });
        return gobgpd.daemon;
      },
      async () => {
        const r = await gobgpd?.gobgp(['global', 'rib', 'summary', '-a', 'ipv4'], {
          allowFail: true,
          timeoutMs: 60_000,
        });
        return Number(/Destination:\s*(\d+)/.exec(r?.stdout ?? '')?.[1] ?? 0) >= COUNT;
      },
    );

    const o2 = ours(true);
    await measure('tricolor-bird (Loc-RIB + kernel)', o2.start, o2.done);

    console.log(`\nFull table: ${COUNT.toLocaleString('en-US')} IPv4 /24s from a BIRD 2 sender over eBGP`);
    console.log(`${'receiver'.padEnd(36)}${'seconds'.padStart(9)}${'peak RSS MiB'.padStart(14)}`);
    for (const r of rows) console.log(`${r[0]!.padEnd(36)}${r[1]!.padStart(9)}${r[2]!.padStart(14)}`);
  } finally {
    for (const d of daemons) await d.stop('SIGKILL');
    await recv.destroy();
    await sender.destroy();
    await seg.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
