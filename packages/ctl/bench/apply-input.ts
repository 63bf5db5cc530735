/**
 * What `tricolorctl apply` costs on large and hostile input (issue 17: a 40 MB file used to
 * peak at 1.57 GB RSS; 20,000 invalid documents printed 20,000 errors). Each case runs the
 * compiled binary under GNU time (peak RSS, wall time) against a real etcd; the anchor is the
 * same binary doing nothing (`version --client`) in the same run.
 *
 *   npm run bench -w @tricolor/ctl          CTL_BENCH_DOCS=2000 CTL_BENCH_INVALID=20000 to pick sizes
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchRow, benchSizes, EtcdServer, hasCommand, printSummary, run } from '@tricolor/testkit';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const MiB = 1024 * 1024;

interface Measured {
  rssMb: number;
  seconds: number;
  code: number;
  stderr: string;
}

/** Runs the CLI under GNU time; its last stderr line is `<max RSS KiB> <wall seconds>`. */
async function measure(args: string[], env: NodeJS.ProcessEnv, stdinFile?: string): Promise<Measured> {
  const cmd = `/usr/bin/time -f '%M %e' ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} ${args.map((a) => JSON.stringify(a)).join(' ')}${stdinFile ? ` < ${JSON.stringify(stdinFile)}` : ''}`;
  const r = await run('bash', ['-c', cmd], { allowFail: true, env: { ...process.env, ...env } });
  // GNU time adds "Command exited with non-zero status N" before its own line.
  const lines = r.stderr
    .trimEnd()
    .split('\n')
    .filter((l) => !l.startsWith('Command exited with non-zero status'));
  const [kb, secs] = lines.pop()!.split(' ').map(Number);
  return { rssMb: kb! / 1024, seconds: secs!, code: r.code, stderr: lines.join('\n') };
}

function poolDoc(i: number, extra = ''): string {
  return `---\napiVersion: tricolor.dev/v1\nkind: IPPool\nmetadata:\n  name: pool-${i}\nspec:\n  cidr: 10.${(i >> 8) & 255}.${i & 255}.0/24${extra}\n`;
}

/** A GlobalNetworkPolicy of ~1.9 KB: ten rules with selectors, nets and ports. */
function policyDoc(i: number): string {
  const rule = (j: number) =>
    `  - action: Allow\n    protocol: TCP\n    source:\n      selector: app == 'frontend-${i}'\n      nets: [10.0.${j}.0/24, 10.1.${j}.0/24]\n    destination:\n      ports: [80, 443, 8080]\n`;
  return `---\napiVersion: tricolor.dev/v1\nkind: GlobalNetworkPolicy\nmetadata:\n  name: gnp-${i}\nspec:\n  order: ${i}\n  selector: app == 'web-${i}'\n  ingress:\n${Array.from({ length: 10 }, (_, j) => rule(j)).join('')}`;
}

async function main(): Promise<void> {
  if (!hasCommand('/usr/bin/time')) {
    process.stderr.write(
      'apply-input bench: GNU time (/usr/bin/time, Debian package "time") is missing; run scripts/setup.sh\n',
    );
    process.exit(1);
  }
  const docSizes = benchSizes([200, 2000], 'CTL_BENCH_DOCS');
  const invalidSizes = benchSizes([2000, 20000], 'CTL_BENCH_INVALID');
  const etcd = await EtcdServer.start();
  const dir = mkdtempSync(join(tmpdir(), 'ctl-bench-'));
  const env = { ETCD_ENDPOINTS: etcd.endpoint, TRICOLOR_DATASTORE_PREFIX: '/bench/' };
  const rows: BenchRow[] = [];
  try {
    const base = await measure(['version', '--client'], env);
    const anchorRss = { name: 'version --client', figure: base.rssMb };
    const anchorTime = { name: 'version --client', figure: base.seconds };
    /** A peak-RSS row against the baseline: within `ratio` of it, or under `maxMb`. */
    const rssRow = (row: string, m: Measured, limit: { ratio: number } | { maxMb: number }): BenchRow => ({
      row: `${row}: peak RSS`,
      figure: m.rssMb,
      unit: 'MB',
      anchor: anchorRss,
      target:
        'ratio' in limit
          ? { on: 'ratio', op: '<=', value: limit.ratio }
          : { on: 'figure', op: '<=', value: limit.maxMb },
    });
    process.stderr.write(`baseline: ${base.rssMb.toFixed(0)} MB, ${base.seconds} s\n`);

    // 40 MiB: a file is refused by its size; stdin is read up to the 4 MiB limit, then stopped.
    const big = join(dir, 'big40.yaml');
    let text = '';
    for (let i = 0; text.length < 40 * MiB; i++) text += poolDoc(i % 65536, '\n  natOutgoin: true');
    writeFileSync(big, text);
    text = '';
    const file40 = await measure(['apply', '-f', big], env);
    const stdin40 = await measure(['apply', '-f', '-'], env, big);
    for (const [row, m] of [
      ['40 MiB file (refused by size)', file40],
      ['40 MiB on stdin (stopped at 4 MiB)', stdin40],
    ] as const) {
      if (m.code !== 1 || !/input limit/.test(m.stderr))
        throw new Error(`${row}: unexpected result ${m.code} ${m.stderr}`);
      rows.push(rssRow(row, m, { ratio: 1.5 }));
      rows.push({
        row: `${row}: wall time`,
        figure: m.seconds,
        unit: 's',
        anchor: anchorTime,
        target: { on: 'ratio', op: '<=', value: 3 },
      });
    }

    // The largest input the default limits accept: 4 MiB of YAML, up to 2,000 documents.
    for (const n of docSizes) {
      const f = join(dir, `gnp-${n}.yaml`);
      writeFileSync(f, Array.from({ length: n }, (_, i) => policyDoc(i)).join(''));
      const m = await measure(['apply', '--dry-run', '-f', f], env);
      if (m.code !== 0) throw new Error(`${n} policies: exit ${m.code}: ${m.stderr.slice(0, 500)}`);
      rows.push(
        rssRow(`${n} policies (${((n * policyDoc(0).length) / MiB).toFixed(1)} MiB), validated`, m, {
          maxMb: 400,
        }),
      );
    }

    // Invalid documents: 20 errors printed, then a count.
    for (const n of invalidSizes) {
      const f = join(dir, `invalid-${n}.yaml`);
      writeFileSync(f, Array.from({ length: n }, (_, i) => poolDoc(i, '\n  blockSize: 40')).join(''));
      const m = await measure(['apply', '-f', f, '--max-documents', String(n)], env);
      const lines = m.stderr.split('\n').filter(Boolean).length;
      rows.push({
        row: `${n} invalid documents: error lines printed`,
        figure: lines,
        unit: 'lines',
        target: { on: 'figure', op: '<=', value: 21 },
      });
      rows.push(rssRow(`${n} invalid documents`, m, { maxMb: 400 }));
    }
  } finally {
    await etcd.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  printSummary('tricolorctl apply: input limits (default 4 MiB, 2,000 documents, 20 errors)', rows);
}

await main();
