import type { Matrix, Probe } from './case.js';
import { PODS } from './layout.js';

/** "TCP/80", "UDP/81", "ICMP". */
export const probeLabel = (p: Pick<Probe, 'protocol' | 'port'>): string =>
  p.protocol === 'ICMP' ? 'ICMP' : `${p.protocol}/${p.port}`;

/** One cell that differs from the expectation (never a from == to cell: those are not judged). */
export interface Mismatch {
  from: string;
  to: string;
  expected: boolean;
  observed: boolean;
}

export function mismatches(observed: Matrix, expected: Matrix | undefined): Mismatch[] {
  if (!expected) return [];
  const out: Mismatch[] = [];
  for (const from of PODS)
    for (const to of PODS) {
      if (from === to) continue;
      const e = expected[from]![to]!;
      const o = observed[from]![to]!;
      if (e !== o) out.push({ from, to, expected: e, observed: o });
    }
  return out;
}

/**
 * The readable matrix of one probe: `.` reachable, `X` not, a cell that differs from the
 * expectation marked with `!` (`!X` observed unreachable where reachable was expected).
 */
export function renderMatrix(title: string, observed: Matrix, expected?: Matrix): string {
  const lines = [title, `        ${PODS.join(' ')}`];
  for (const from of PODS) {
    const cells = PODS.map((to) => {
      const o = observed[from]![to]!;
      const mark = expected && from !== to && expected[from]![to] !== o ? '!' : '';
      return `${mark}${o ? '.' : 'X'}`.padStart(4);
    });
    lines.push(`  ${from} ${cells.join('')}`);
  }
  return `${lines.join('\n')}\n`;
}

export const mismatchText = (m: Mismatch): string =>
  `${m.from} -> ${m.to}: expected ${m.expected ? 'reachable' : 'unreachable'}, observed ${m.observed ? 'reachable' : 'unreachable'}`;
