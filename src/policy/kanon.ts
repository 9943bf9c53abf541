/**
 * k-anonymity on generalized cells (Sweeney, 2002): a cell is released only when at least k
 * distinct vehicles were seen in it within the current time window. Counts are in memory and
 * cover the current and the previous window only; after a restart they start at zero, which
 * suppresses more, never less.
 */
export class CellCounter {
  private readonly windows = new Map<number, Map<string, Set<string>>>();

  constructor(private readonly windowMs: number) {}

  /** Notes that `vin` was seen in each of `cells` at time `t`. */
  see(vin: string, t: number, cells: readonly string[]): void {
    const w = Math.floor(t / this.windowMs);
    let counts = this.windows.get(w);
    if (!counts) {
      counts = new Map();
      this.windows.set(w, counts);
      for (const old of this.windows.keys()) if (old < w - 1) this.windows.delete(old);
    }
    for (const c of cells) {
      let set = counts.get(c);
      if (!set) counts.set(c, (set = new Set()));
      set.add(vin);
    }
  }

  /** Distinct vehicles seen in `cell` in the window of `t`. */
  count(t: number, cell: string): number {
    return this.windows.get(Math.floor(t / this.windowMs))?.get(cell)?.size ?? 0;
  }
}
