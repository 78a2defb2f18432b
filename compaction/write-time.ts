/**
 * An upper bound on when an entry of a compaction was written, from its sequence number alone: for
 * the ttl compaction filter without `fromValue`, and for the `write_time.newest` property of the
 * outputs (sstable/FORMAT.md), so the bound survives compactions instead of restarting at each one.
 * Why by seq: sequence numbers are given in commit order, so an entry with seq s was written no later
 * than any entry with a larger seq; every input table F vouches that its entries, the one with
 * largestSeq(F) among them, were written by newestWriteTime(F). So min over the inputs with
 * largestSeq >= s of newestWriteTime is a bound for s: never early, and at least as tight as the
 * bound of the table the entry came from (one of those inputs), without tracking the source of each
 * merged entry. It assumes the clock does not run backwards between writes (as does every bound
 * taken from a table's creation time).
 * Pure; safe in a worker.
 */
export interface InputWriteTime {
  largestSeq: number;
  /** properties.ts newestWriteTimeOf(): write_time.newest, else creation_time. */
  newestWriteTimeMs: number;
}

export class WriteTimeBound {
  /** Inputs by largestSeq ascending, and the suffix minimum of their write times. */
  private readonly seqs: number[];
  private readonly times: number[];

  constructor(inputs: readonly InputWriteTime[]) {
    const sorted = [...inputs].sort((a, b) => a.largestSeq - b.largestSeq);
    this.seqs = sorted.map((x) => x.largestSeq);
    this.times = sorted.map((x) => x.newestWriteTimeMs);
    for (let i = this.times.length - 2; i >= 0; i--) this.times[i] = Math.min(this.times[i]!, this.times[i + 1]!);
  }

  /** The bound for an entry with sequence `seq` of one of the inputs; undefined if no input could hold it. */
  boundFor(seq: number): number | undefined {
    let lo = 0, hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqs[mid]! < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.times.length ? this.times[lo] : undefined;
  }
}
