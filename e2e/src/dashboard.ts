import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.js';

/** The chart's Grafana dashboard. */
export const DASHBOARD_FILE = join(REPO_ROOT, 'charts/tricolor/dashboards/tricolor.json');

export interface PanelQuery {
  panel: string;
  refId: string;
  /** The target's expression as the dashboard has it (with Grafana variables). */
  expr: string;
}

interface Panel {
  title: string;
  type: string;
  panels?: Panel[];
  targets?: { refId: string; expr: string }[];
}

interface Dashboard {
  panels: Panel[];
  templating: { list: { name: string; type: string; allValue?: string; definition?: string }[] };
}

export function readDashboard(file = DASHBOARD_FILE): Dashboard {
  return JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
}

/** Every query of every panel (rows' own panels included). */
export function panelQueries(d: Dashboard): PanelQuery[] {
  return d.panels
    .flatMap((p) => [p, ...(p.panels ?? [])])
    .flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, refId: t.refId, expr: t.expr })));
}

/**
 * An expression as Grafana sends it to Prometheus with every query variable at "All" (its
 * `allValue`) and `$__rate_interval` at `rateInterval` (Grafana: at least four scrape
 * intervals).
 */
export function expand(d: Dashboard, expr: string, rateInterval: string): string {
  let out = expr.replaceAll('$__rate_interval', rateInterval);
  for (const v of d.templating.list) {
    if (v.type !== 'query') continue;
    const all = v.allValue ?? '.*';
    out = out.replaceAll(`\${${v.name}}`, all).replace(new RegExp(`\\$${v.name}\\b`, 'g'), all);
  }
  if (/\$\w/.test(out)) throw new Error(`a Grafana variable is left in ${out}`);
  return out;
}
