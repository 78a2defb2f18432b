/**
 * Range tombstones in a compaction: which covered versions may go, which tombstones are carried to
 * the outputs, and which piece of them each output holds. Pure functions over FragmentSets, so the
 * runner stays about cutting files and the rules can be tested without tables. Safe in a worker.
 *
 * Rules (RocksDB's, with the point-delete stripe rule of compaction-iterator.ts):
 * - A version (key, k) is dropped when a tombstone with seq t > k covers it and t lies in the same
 *   snapshot stripe as k: no live snapshot can see k without also seeing t.
 * - Of one fragment's seqs only the newest per stripe matters to any reader; the rest are dropped.
 *   The oldest stripe's seq is dropped as well when no deeper level overlaps the fragment (every
 *   version it covered in this compaction is already gone, and nothing below can resurface).
 * - Outputs partition the key space: output i holds the carried fragments clipped to
 *   [successor(last key of output i-1), successor(last key of output i)), the first output from the
 *   start and the last to the end. The recorded bounds then never share a user key between two
 *   outputs of a level (MANIFEST invariant 4), and the gap between two outputs' keys stays covered.
 */
import { compareBytes } from '../src/base/bytes.js';
import type { Fragment } from '../src/rangedel/fragmenter.js';
import { FragmentSet } from '../src/rangedel/fragment-set.js';
import type { KeyRange } from './compaction-iterator.js';
import { stripeOf } from './snapshot-stripes.js';

/** Whether some deeper range overlaps [start, end) (user keys; ranges inclusive). */
function deeperOverlaps(deeper: readonly KeyRange[], start: Uint8Array, end: Uint8Array): boolean {
  for (const r of deeper) {
    if (compareBytes(r.smallest, end) >= 0) break; // sorted by smallest: the rest start later
    if (compareBytes(r.largest, start) >= 0) return true;
  }
  return false;
}

/**
 * The fragments the outputs carry: per fragment the newest seq of each stripe, without the oldest
 * stripe's when nothing deeper overlaps the fragment (header).
 */
export function carriedFragments(all: FragmentSet, snapshots: readonly number[], deeper: readonly KeyRange[]): FragmentSet {
  const out: Fragment[] = [];
  for (const f of all.fragments()) {
    const seqs: number[] = [];
    let lastStripe = -1;
    for (const s of f.seqs) { // descending: the first of each stripe is its newest
      const stripe = stripeOf(snapshots, s);
      if (stripe === lastStripe) continue;
      lastStripe = stripe;
      seqs.push(s);
    }
    if (lastStripe === 0 && !deeperOverlaps(deeper, f.start, f.end)) seqs.pop();
    if (seqs.length > 0) out.push(seqs.length === f.seqs.length ? f : { start: f.start, end: f.end, seqs });
  }
  return FragmentSet.fromFragments(out);
}

/**
 * Answers "is this version covered in its own stripe" for keys in ascending order (a cursor over the
 * fragments, so a whole compaction costs one pass).
 */
export class CoverageCursor {
  private i = 0;
  private readonly frags: readonly Fragment[];
  constructor(all: FragmentSet, private readonly snapshots: readonly number[]) {
    this.frags = all.fragments();
  }

  /** True when a tombstone newer than `seq`, in seq's stripe, covers userKey. Keys must not decrease. */
  covers(userKey: Uint8Array, seq: number): boolean {
    const fr = this.frags;
    while (this.i < fr.length && compareBytes(fr[this.i]!.end, userKey) <= 0) this.i++;
    const f = fr[this.i];
    if (f === undefined || compareBytes(f.start, userKey) > 0) return false;
    // The oldest tombstone newer than seq is the one most likely to share its stripe.
    let t = 0;
    for (const s of f.seqs) {
      if (s > seq) t = s;
      else break;
    }
    return t > 0 && stripeOf(this.snapshots, t) === stripeOf(this.snapshots, seq);
  }
}

/** The fragments clipped to [from, to) (undefined: unbounded on that side). */
export function clipFragments(set: FragmentSet, from: Uint8Array | undefined, to: Uint8Array | undefined): FragmentSet {
  const out: Fragment[] = [];
  for (const f of set.fragments()) {
    const start = from !== undefined && compareBytes(f.start, from) < 0 ? from : f.start;
    const end = to !== undefined && compareBytes(f.end, to) > 0 ? to : f.end;
    if (compareBytes(start, end) < 0) out.push(start === f.start && end === f.end ? f : { start, end, seqs: f.seqs });
  }
  return FragmentSet.fromFragments(out);
}
