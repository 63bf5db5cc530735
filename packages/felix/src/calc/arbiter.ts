/** Where an arbiter's winners go: a tracker's desired side, or a graph emission. */
export interface DesiredSink<D> {
  setDesired(key: string, value: D): void;
  deleteDesired(key: string): void;
}

interface Entry<D> {
  src: string;
  value: D;
}

/**
 * Several calculators can want the same key (a block's blackhole and a VXLAN route to the
 * same block, two endpoints claiming one address): each puts its contribution under a
 * source name, and the arbiter passes the best one on to the sink — by `beats(a, b)`,
 * "source a wins over source b". A key costs what its contributors cost: one, almost always.
 */
export class Arbiter<D> {
  private readonly byKey = new Map<string, Entry<D> | Entry<D>[]>();

  constructor(
    private readonly sink: DesiredSink<D>,
    private readonly beats: (a: string, b: string) => boolean,
  ) {}

  put(key: string, src: string, value: D): void {
    const cur = this.byKey.get(key);
    if (!cur) this.byKey.set(key, { src, value });
    else if (!Array.isArray(cur)) {
      if (cur.src === src) this.byKey.set(key, { src, value });
      else this.byKey.set(key, [cur, { src, value }]);
    } else {
      const i = cur.findIndex((e) => e.src === src);
      if (i >= 0) cur[i] = { src, value };
      else cur.push({ src, value });
    }
    this.resolve(key);
  }

  remove(key: string, src: string): void {
    const cur = this.byKey.get(key);
    if (!cur) return;
    if (!Array.isArray(cur)) {
      if (cur.src !== src) return;
      this.byKey.delete(key);
    } else {
      const i = cur.findIndex((e) => e.src === src);
      if (i < 0) return;
      cur.splice(i, 1);
      if (cur.length === 1) this.byKey.set(key, cur[0]!);
    }
    this.resolve(key);
  }

  private resolve(key: string): void {
    const cur = this.byKey.get(key);
    if (!cur) {
      this.sink.deleteDesired(key);
      return;
    }
    let best = Array.isArray(cur) ? cur[0]! : cur;
    if (Array.isArray(cur)) for (const e of cur) if (this.beats(e.src, best.src)) best = e;
    this.sink.setDesired(key, best.value);
  }
}
