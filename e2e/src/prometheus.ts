import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Netns, waitFor } from '@tricolor/testkit';
import { Daemon } from './daemon.js';

/** One scrape job: `host:port` targets with the labels the chart's monitors give them (`node`). */
export interface ScrapeJob {
  job: string;
  targets: { address: string; labels?: Record<string, string> }[];
}

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

/** prometheus.yml for `jobs`, scraped every `intervalS` seconds at /metrics. */
export function scrapeConfig(jobs: ScrapeJob[], intervalS: number): string {
  const config = {
    global: { scrape_interval: `${intervalS}s`, evaluation_interval: `${intervalS}s` },
    scrape_configs: jobs.map((j) => ({
      job_name: j.job,
      metrics_path: '/metrics',
      static_configs: j.targets.map((t) => ({ targets: [t.address], labels: t.labels ?? {} })),
    })),
  };
  // JSON is YAML.
  return `${JSON.stringify(config, null, 2)}\n`;
}

/**
 * A real Prometheus (Debian's `prometheus`) inside a network namespace, scraping the given
 * jobs; its HTTP API is read with curl inside the namespace (it listens on that namespace's
 * loopback only).
 */
export class Prometheus {
  private constructor(
    readonly ns: Netns,
    readonly dir: string,
    readonly daemon: Daemon,
    readonly port: number,
  ) {}

  static async start(ns: Netns, jobs: ScrapeJob[], opts: { intervalS?: number; port?: number } = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'tricolor-prometheus-'));
    const port = opts.port ?? 9090;
    writeFileSync(join(dir, 'prometheus.yml'), scrapeConfig(jobs, opts.intervalS ?? 1));
    const daemon = new Daemon(
      'prometheus',
      ns,
      [
        'prometheus',
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      {},
      join(dir, 'prometheus.log'),
    );
    daemon.start();
    const p = new Prometheus(ns, dir, daemon, port);
    await waitFor(
      `prometheus ready\n${daemon.log().slice(-2000)}`,
      async () => (await p.get('/-/ready')).ok,
      30_000,
      200,
    );
    return p;
  }

  private async get(
    path: string,
    params: Record<string, string> = {},
  ): Promise<{ ok: boolean; body: string }> {
    const args = ['-s', '-m', '10', '-G', '-w', '\n%{http_code}'];
    for (const [k, v] of Object.entries(params)) args.push('--data-urlencode', `${k}=${v}`);
    args.push(`http://127.0.0.1:${this.port}${path}`);
    const r = await this.ns.exec('curl', args, { allowFail: true });
    const lines = r.stdout.trimEnd().split('\n');
    const status = lines.pop();
    return { ok: status === '200', body: lines.join('\n') };
  }

  private async api<T>(path: string, params: Record<string, string> = {}): Promise<T> {
    const r = await this.get(path, params);
    const parsed = JSON.parse(r.body || '{}') as { status?: string; data?: T; error?: string };
    if (parsed.status !== 'success')
      throw new Error(`${path} ${JSON.stringify(params)}: ${parsed.error ?? r.body}`);
    return parsed.data as T;
  }

  /** An instant query (`/api/v1/query`); a scalar comes back as one sample without labels. */
  async query(expr: string): Promise<Sample[]> {
    const data = await this.api<{ resultType: string; result: unknown }>('/api/v1/query', { query: expr });
    if (data.resultType === 'scalar')
      return [{ metric: {}, value: Number((data.result as [number, string])[1]) }];
    if (data.resultType !== 'vector') throw new Error(`${expr}: a ${data.resultType}, not a vector`);
    return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({
      metric: r.metric,
      value: Number(r.value[1]),
    }));
  }

  /** The values of a label on the series of `match` (Grafana's `label_values(match, label)`). */
  labelValues(label: string, match: string): Promise<string[]> {
    return this.api<string[]>(`/api/v1/label/${label}/values`, { 'match[]': match });
  }

  /** Every target's health, `job/instance` → `up` | `down` | `unknown`. */
  async targets(): Promise<Map<string, string>> {
    const data = await this.api<{ activeTargets: { labels: Record<string, string>; health: string }[] }>(
      '/api/v1/targets',
    );
    return new Map(data.activeTargets.map((t) => [`${t.labels.job}/${t.labels.instance}`, t.health]));
  }

  async stop(): Promise<void> {
    await this.daemon.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
