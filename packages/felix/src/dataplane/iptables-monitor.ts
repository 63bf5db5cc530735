import { follow } from '@tricolor/linux';

/**
 * Drift of felix's iptables seen as it happens (nft backend): `xtables-monitor -e` prints every
 * rule and chain change of the iptables-nft tables, then one `NEWGEN` line per committed
 * generation naming the process that committed it. A generation that touched felix's chains
 * (or its hooks in the built-in chains) and was not committed by felix's own iptables-restore
 * means someone changed felix's rules: the caller re-reads and repairs at once instead of on
 * the refresh timer. The legacy backend has no such events and keeps the periodic refresh.
 */

/** One committed generation: who committed it and whether it touched what felix owns. */
export interface Generation {
  pid: number;
  touchesFelix: boolean;
}

const BUILTIN = new Set(['INPUT', 'OUTPUT', 'FORWARD', 'PREROUTING', 'POSTROUTING']);

/**
 * Whether one `EVENT:` line touches felix's state: a change in one of its chains, a rule
 * jumping into them added or removed, a rule added to a built-in chain (maybe ahead of its hook),
 * or a whole table or chain removed at the nft level.
 */
export function eventTouchesFelix(line: string, chainPrefix: string): boolean {
  const ev = line.trim().replace(/^EVENT:\s*/, '');
  if (ev.startsWith('nft:')) return /\bDEL (table|chain)\b/.test(ev);
  const m = /^-[46] -t \S+ -([ADIRNXFZ]) (\S+)(.*)$/.exec(ev);
  if (!m) return false;
  const [, op, chain, rest] = m as unknown as [string, string, string, string];
  if (chain.startsWith(chainPrefix)) return true;
  if (rest.includes(` -j ${chainPrefix}`) || rest.includes(` -g ${chainPrefix}`)) return true;
  // nft reports an insert as an append (`-A` whatever the position): any rule added to a
  // built-in chain may stand ahead of felix's jump.
  return (op === 'A' || op === 'I') && BUILTIN.has(chain);
}

/** Folds `xtables-monitor -e` lines into generations (events come before their NEWGEN line). */
export class GenerationReader {
  private touched = false;
  constructor(private readonly chainPrefix: string) {}

  push(lines: readonly string[]): Generation[] {
    const out: Generation[] = [];
    for (const line of lines) {
      const gen = /^NEWGEN: GENID=\d+ PID=(\d+)/.exec(line);
      if (gen) {
        out.push({ pid: Number(gen[1]), touchesFelix: this.touched });
        this.touched = false;
      } else if (/^\s*EVENT:/.test(line) && eventTouchesFelix(line, this.chainPrefix)) {
        this.touched = true;
      }
    }
    return out;
  }
}

/** How long the process id of one of felix's own restores stays recognised. */
const OWN_PID_MS = 30_000;

/**
 * Which generations felix committed itself. A restore's NEWGEN line can arrive before the
 * restore has exited (and so before its pid is known here): a generation seen while one of
 * felix's restores runs waits until every running restore has ended, then is judged.
 */
export class OwnWrites {
  private running = 0;
  private readonly pids = new Map<number, number>();
  private held: Generation[] = [];

  /** Called for each generation that changed felix's rules and was not felix's. */
  onForeign: () => void = () => undefined;

  constructor(private readonly now: () => number = Date.now) {}

  begin(): void {
    this.running++;
  }

  end(pid: number | undefined): void {
    this.running--;
    if (pid !== undefined) this.pids.set(pid, this.now());
    if (this.running > 0) return;
    const held = this.held;
    this.held = [];
    for (const g of held) this.judge(g);
  }

  generation(g: Generation): void {
    if (!g.touchesFelix) return;
    if (this.running > 0 && !this.pids.has(g.pid)) this.held.push(g);
    else this.judge(g);
  }

  private judge(g: Generation): void {
    const cutoff = this.now() - OWN_PID_MS;
    for (const [pid, at] of this.pids) if (at < cutoff) this.pids.delete(pid);
    if (!this.pids.has(g.pid)) this.onForeign();
  }
}

/** Starts `xtables-monitor -e` (restarted a second after it ends by itself). */
export function watchIptablesNft(chainPrefix: string, own: OwnWrites): { stop(): void } {
  let stopped = false;
  let current: { stop(): void } | undefined;
  const start = () => {
    const reader = new GenerationReader(chainPrefix);
    current = follow(
      // xtables-monitor buffers its output into a pipe: line-buffered through stdbuf.
      'stdbuf',
      ['-oL', 'xtables-monitor', '-e'],
      (lines) => {
        for (const g of reader.push(lines)) own.generation(g);
      },
      () => {
        if (!stopped) setTimeout(start, 1000).unref();
      },
    );
  };
  start();
  return {
    stop() {
      stopped = true;
      current?.stop();
    },
  };
}
