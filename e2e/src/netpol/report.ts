import type { Matrix, ProbeProtocol } from './case.js';
import { type Mismatch, mismatches, probeLabel } from './matrix.js';

export interface ProbeResult {
  protocol: ProbeProtocol;
  port?: number;
  observed: Matrix;
  expect?: Matrix;
}

export interface CaseResult {
  name: string;
  skipped?: string;
  steps: { probes: ProbeResult[] }[];
}

/** The `--json` document (FORMAT.md section 4): observations only, in input order. */
export function jsonReport(results: CaseResult[]): string {
  const cases = results.map((c) => {
    if (c.skipped !== undefined) return { name: c.name, skipped: c.skipped, steps: [] };
    return {
      name: c.name,
      steps: c.steps.map((s) => ({
        probes: s.probes.map((p) =>
          p.port === undefined
            ? { protocol: p.protocol, observed: p.observed }
            : { port: p.port, protocol: p.protocol, observed: p.observed },
        ),
      })),
    };
  });
  return `${JSON.stringify({ cases })}\n`;
}

export interface CaseMismatch extends Mismatch {
  step: number;
  probe: string;
}

export function caseMismatches(c: CaseResult): CaseMismatch[] {
  return c.steps.flatMap((s, i) =>
    s.probes.flatMap((p) =>
      mismatches(p.observed, p.expect).map((m) => ({ ...m, step: i + 1, probe: probeLabel(p) })),
    ),
  );
}

const judged = (c: CaseResult) => c.steps.some((s) => s.probes.some((p) => p.expect !== undefined));

export interface Summary {
  cases: number;
  passed: number;
  failed: number;
  skipped: number;
  reportedOnly: number;
  mismatchedCells: number;
}

export function summarize(results: CaseResult[]): Summary {
  const s: Summary = {
    cases: results.length,
    passed: 0,
    failed: 0,
    skipped: 0,
    reportedOnly: 0,
    mismatchedCells: 0,
  };
  for (const c of results) {
    if (c.skipped !== undefined) s.skipped++;
    else if (!judged(c)) s.reportedOnly++;
    else {
      const n = caseMismatches(c).length;
      s.mismatchedCells += n;
      if (n === 0) s.passed++;
      else s.failed++;
    }
  }
  return s;
}

export const summaryLine = (s: Summary): string =>
  `${s.cases} cases: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped, ${s.reportedOnly} without expectations; ${s.mismatchedCells} mismatched cells`;

/** 0 when every judged cell matches and nothing was skipped; 1 otherwise. (2 is for usage and setup errors.) */
export const exitCode = (s: Summary): number => (s.failed > 0 || s.skipped > 0 ? 1 : 0);
