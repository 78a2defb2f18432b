/**
 * Fragmenter: turns range tombstones that may overlap into fragments that do not, each carrying the
 * sequence numbers of every tombstone that covers it, newest first. The model is Pebble's
 * keyspan.Fragmenter: tombstones arrive in start order, and a fragment is emitted as soon as no later
 * tombstone can change it (when the start moves past it), so memory holds only the tombstones that
 * overlap the current start.
 * Example: [a,e)#5 and [c,g)#9 become [a,c){5} [c,e){9,5} [e,g){9}.
 * Contract: add() tombstones with non-decreasing start (bytewise), each with start < end; finish()
 * once. Fragments are emitted in start order, do not overlap, and share the callers' key arrays.
 * Adjacent fragments are not merged even when their seqs match (a boundary costs one entry; merging
 * would need the next tombstone to be known). Safe in a worker.
 * Not here: queries over the fragments (fragment-set.ts).
 */
import { compareBytes, printableKey } from '../base/bytes.js';
import { InvalidArgumentError } from '../errors.js';
import type { RangeTombstone } from './range-tombstone.js';

/** A piece of the key space [start, end) and the seqs of the tombstones covering it, descending, unique. */
export interface Fragment {
  readonly start: Uint8Array;
  readonly end: Uint8Array;
  readonly seqs: readonly number[];
}

export class Fragmenter {
  /** Tombstones that cover `cur` (start <= cur < end), in arrival order. */
  private pending: RangeTombstone[] = [];
  private cur: Uint8Array | undefined;
  private readonly out: Fragment[] = [];
  private finished = false;

  /** Adds one tombstone. InvalidArgumentError for an empty range or a start before the previous one. */
  add(t: RangeTombstone): void {
    if (this.finished) throw new InvalidArgumentError('Fragmenter.add after finish()');
    if (compareBytes(t.start, t.end) >= 0) {
      throw new InvalidArgumentError(`range tombstone start ${printableKey(t.start)} must be before its end ${printableKey(t.end)}`);
    }
    if (this.cur !== undefined) {
      const c = compareBytes(t.start, this.cur);
      if (c < 0 && this.pending.length > 0) {
        throw new InvalidArgumentError(`range tombstones must be added in start order: ${printableKey(t.start)} after ${printableKey(this.cur)}`);
      }
      if (c > 0) this.emitUpTo(t.start);
    }
    if (this.pending.length === 0) this.cur = t.start;
    this.pending.push(t);
  }

  /** Emits what is left; the fragments, in order. */
  finish(): Fragment[] {
    if (!this.finished) {
      this.emitUpTo(undefined);
      this.finished = true;
    }
    return this.out;
  }

  /** Emits every fragment that ends at or before `limit` (undefined: everything). */
  private emitUpTo(limit: Uint8Array | undefined): void {
    let cur = this.cur;
    while (this.pending.length > 0 && cur !== undefined && (limit === undefined || compareBytes(cur, limit) < 0)) {
      let stop = this.pending[0]!.end;
      for (const p of this.pending) if (compareBytes(p.end, stop) < 0) stop = p.end;
      if (limit !== undefined && compareBytes(limit, stop) < 0) stop = limit;
      this.out.push({ start: cur, end: stop, seqs: seqsOf(this.pending) });
      cur = stop;
      const at = cur;
      this.pending = this.pending.filter((p) => compareBytes(p.end, at) > 0);
    }
    // A gap: nothing covers [cur, limit), and the next tombstone starts at limit.
    this.cur = this.pending.length > 0 ? cur : limit;
  }
}

function seqsOf(ts: readonly RangeTombstone[]): number[] {
  const seqs = ts.map((t) => t.seq).sort((a, b) => b - a);
  let n = 0;
  for (let i = 0; i < seqs.length; i++) if (i === 0 || seqs[i] !== seqs[n - 1]) seqs[n++] = seqs[i]!;
  seqs.length = n;
  return seqs;
}

/** Fragments tombstones given in any order (sorted here by start; the input array is not changed). */
export function fragmentTombstones(tombstones: readonly RangeTombstone[]): Fragment[] {
  const sorted = tombstones.slice().sort((a, b) => compareBytes(a.start, b.start));
  const f = new Fragmenter();
  for (const t of sorted) f.add(t);
  return f.finish();
}
