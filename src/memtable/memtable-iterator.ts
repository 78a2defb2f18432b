/**
 * MemTableIterator: the memtable's InternalIterator, over internal keys (userKey + 8-byte trailer)
 * in internal order. Every movement completes synchronously (returns undefined).
 *
 * Two levels: across user keys it merges the memtable's sorted runs of key groups (sorted-runs.ts);
 * within a user key it follows the group's version chain (newest first = internal order).
 * Position, per run r: pos[r] counts the run's groups below the current user key (FORWARD) or at or
 * below it (BACKWARD), so each run's candidate is ids[pos[r]] (FORWARD) or ids[pos[r] - 1]
 * (BACKWARD), and `order` lists the runs that have one, best first; the current group is the
 * candidate of order[0]. A step moves that run's pos by one and re-inserts it in `order` (usually
 * one comparison of 8-byte prefixes). Runs hold disjoint keys, so switching direction is a +-1 on
 * the current run's pos and a re-sort of `order`, never a re-seek.
 *
 * Concurrent adds: every seek* takes the memtable's current run set (pending groups sorted in
 * first) and keeps it until the next seek*; see the header of memtable.ts for why nothing that
 * existed at positioning is skipped or repeated. The memtable's entry pages may be replaced as they
 * grow, so entries are read through the memtable on every move, never cached here.
 * Views: key() and value() are views into the arena (never copied); the memtable never rewrites a
 * record, so they stay valid while the memtable is alive, beyond what the interface promises.
 * Cost: a move within a chain is O(1); across user keys O(runs) at worst (~6 plus one per 2^18
 * keys); entering a user key backwards walks its chain to the oldest version.
 */
import type { InternalIterator } from '../base/internal-iterator.js';
import { TRAILER_SIZE, seqOf } from '../base/internal-key.js';
import { invariant } from '../base/invariant.js';
import { compareGroups, compareGroupToKey, E_ADDR, E_HEAD, E_KLEN, E_NEXT, E_PREV, E_VLEN, keyPrefix } from './entries.js';
import type { MemTable } from './memtable.js';
import { compareToCommonPrefix, emptyRunSet, rankOf, type Run, type RunSet } from './sorted-runs.js';

const FORWARD = 1;
const BACKWARD = -1;
const NO_RUNS = emptyRunSet(0);

export class MemTableIterator implements InternalIterator {
  private set: RunSet = NO_RUNS;
  private runs: readonly Run[] = NO_RUNS.runs;
  /** Per run: FORWARD, groups below the current key; BACKWARD, groups at or below it. */
  private pos = new Int32Array(0);
  /** Runs that still have a candidate, best candidate first (ascending FORWARD, descending BACKWARD). */
  private order = new Int32Array(0);
  private live = 0;
  private dir = FORWARD;
  private g = -1;
  private e = -1;
  private klen = 0;
  private keyView: Uint8Array | null = null;

  constructor(private readonly mt: MemTable) {}

  valid(): boolean {
    return this.e >= 0;
  }

  seekToFirst(): void {
    this.takeRuns();
    this.pos.fill(0);
    this.buildOrder(FORWARD);
    this.enterHead();
  }

  seekToLast(): void {
    this.takeRuns();
    for (let r = 0; r < this.runs.length; r++) this.pos[r] = this.runs[r]!.ids.length;
    this.buildOrder(BACKWARD);
    this.enterTail();
  }

  /** The first entry with internal key >= target. */
  seek(target: Uint8Array): void {
    const uEnd = target.length - TRAILER_SIZE;
    const c = this.locate(target, uEnd, false);
    this.buildOrder(FORWARD);
    if (c !== 0 || this.g < 0 || compareGroupToKey(this.mt, this.g, target, uEnd, this.set.depth) !== 0) {
      this.enterHead();
      return;
    }
    const tSeq = seqOf(target);
    const tKind = target[uEnd]!;
    const mt = this.mt;
    const t = mt.table;
    const klen = t.get(this.g, E_KLEN);
    // Newest first: the first version whose (seq, kind) is at or below the target's.
    for (let e = t.get(this.g, E_HEAD); e >= 0; e = t.get(e, E_NEXT)) {
      const s = mt.seqOf(e, klen);
      if (s < tSeq || (s === tSeq && mt.kindOf(e, klen) <= tKind)) {
        this.setEntry(e, klen);
        return;
      }
    }
    this.nextGroup();
  }

  /** The last entry with internal key <= target. */
  seekForPrev(target: Uint8Array): void {
    const uEnd = target.length - TRAILER_SIZE;
    const c = this.locate(target, uEnd, true);
    this.buildOrder(BACKWARD);
    if (c !== 0 || this.g < 0 || compareGroupToKey(this.mt, this.g, target, uEnd, this.set.depth) !== 0) {
      this.enterTail();
      return;
    }
    const tSeq = seqOf(target);
    const tKind = target[uEnd]!;
    const mt = this.mt;
    const t = mt.table;
    const klen = t.get(this.g, E_KLEN);
    // The versions at or above the target's (seq, kind) are a prefix of the chain: take its end.
    let last = -1;
    for (let e = t.get(this.g, E_HEAD); e >= 0; e = t.get(e, E_NEXT)) {
      const s = mt.seqOf(e, klen);
      if (s < tSeq || (s === tSeq && mt.kindOf(e, klen) < tKind)) break;
      last = e;
    }
    if (last >= 0) this.setEntry(last, klen);
    else this.prevGroup();
  }

  next(): void {
    invariant(this.e >= 0, 'MemTableIterator.next() on an invalid iterator');
    const n = this.mt.table.get(this.e, E_NEXT);
    if (n >= 0) this.setEntry(n, this.klen);
    else this.nextGroup();
  }

  prev(): void {
    invariant(this.e >= 0, 'MemTableIterator.prev() on an invalid iterator');
    const p = this.mt.table.get(this.e, E_PREV);
    if (p >= 0) this.setEntry(p, this.klen);
    else this.prevGroup();
  }

  key(): Uint8Array {
    if (this.keyView === null) {
      const arena = this.mt.arena;
      const addr = this.mt.table.get(this.e, E_ADDR);
      const off = arena.offset(addr);
      this.keyView = arena.chunk(addr).subarray(off, off + this.klen + TRAILER_SIZE);
    }
    return this.keyView;
  }

  value(): Uint8Array {
    const arena = this.mt.arena;
    const addr = this.mt.table.get(this.e, E_ADDR);
    const start = arena.offset(addr) + this.klen + TRAILER_SIZE;
    return arena.chunk(addr).subarray(start, start + this.mt.table.get(this.e, E_VLEN));
  }

  close(): void {
    this.set = NO_RUNS;
    this.runs = NO_RUNS.runs;
    this.live = 0;
    this.g = -1;
    this.setEntry(-1, 0);
  }

  private takeRuns(): void {
    this.set = this.mt.sortedRuns();
    this.runs = this.set.runs;
    const k = this.runs.length;
    if (this.pos.length !== k) {
      this.pos = new Int32Array(k);
      this.order = new Int32Array(k);
    }
  }

  /**
   * Sets pos to the rank of target's user key in every run (orEqual: counting equal keys).
   * Returns target against the common prefix (compareToCommonPrefix): only 0 allows a key match.
   */
  private locate(target: Uint8Array, uEnd: number, orEqual: boolean): number {
    invariant(uEnd >= 0, 'memtable seek target is not an internal key');
    this.takeRuns();
    const depth = this.set.depth;
    const c = compareToCommonPrefix(target, uEnd, this.mt.base, depth);
    const kHi = keyPrefix(target, depth, uEnd - depth);
    const kLo = keyPrefix(target, depth + 4, uEnd - depth - 4);
    for (let r = 0; r < this.runs.length; r++) {
      const run = this.runs[r]!;
      this.pos[r] = c < 0 ? 0 : c > 0 ? run.ids.length : rankOf(this.mt, run, depth, target, uEnd, kHi, kLo, orEqual);
    }
    return c;
  }

  private nextGroup(): void {
    if (this.dir !== FORWARD) {
      // Backward pos counts the current key in its run; forward pos does not.
      this.pos[this.order[0]!]!--;
      this.buildOrder(FORWARD);
    }
    this.step();
    this.enterHead();
  }

  private prevGroup(): void {
    if (this.dir !== BACKWARD) {
      this.pos[this.order[0]!]!++;
      this.buildOrder(BACKWARD);
    }
    this.step();
    this.enterTail();
  }

  /** Orders the runs that have a candidate in direction dir; the best one is the current group. */
  private buildOrder(dir: number): void {
    this.dir = dir;
    const order = this.order;
    let live = 0;
    for (let r = 0; r < this.runs.length; r++) {
      const p = this.pos[r]!;
      if (dir === FORWARD ? p >= this.runs[r]!.ids.length : p <= 0) continue;
      let j = live++;
      for (; j > 0 && this.before(r, order[j - 1]!); j--) order[j] = order[j - 1]!;
      order[j] = r;
    }
    this.live = live;
    this.g = live > 0 ? this.candidate(order[0]!) : -1;
  }

  /** Moves the best run past its candidate and restores the order (usually one comparison). */
  private step(): void {
    const order = this.order;
    const r = order[0]!;
    const p = (this.pos[r]! += this.dir);
    const has = this.dir === FORWARD ? p < this.runs[r]!.ids.length : p > 0;
    let j = 1;
    if (has) {
      for (; j < this.live && this.before(order[j]!, r); j++) order[j - 1] = order[j]!;
      order[j - 1] = r;
    } else {
      for (; j < this.live; j++) order[j - 1] = order[j]!;
      this.live--;
    }
    this.g = this.live > 0 ? this.candidate(order[0]!) : -1;
  }

  private candidate(r: number): number {
    return this.runs[r]!.ids[this.dir === FORWARD ? this.pos[r]! : this.pos[r]! - 1]!;
  }

  /** True when run a's candidate comes before run b's in the current direction. */
  private before(a: number, b: number): boolean {
    const off = this.dir === FORWARD ? 0 : -1;
    const ra = this.runs[a]!;
    const rb = this.runs[b]!;
    const ia = this.pos[a]! + off;
    const ib = this.pos[b]! + off;
    const ah = ra.pfx[2 * ia]!, bh = rb.pfx[2 * ib]!;
    const al = ra.pfx[2 * ia + 1]!, bl = rb.pfx[2 * ib + 1]!;
    const c = ah !== bh ? ah - bh : al !== bl ? al - bl : compareGroups(this.mt, ra.ids[ia]!, rb.ids[ib]!, this.set.depth);
    return this.dir === FORWARD ? c < 0 : c > 0;
  }

  private enterHead(): void {
    if (this.g < 0) {
      this.setEntry(-1, 0);
      return;
    }
    this.setEntry(this.mt.table.get(this.g, E_HEAD), this.mt.table.get(this.g, E_KLEN));
  }

  private enterTail(): void {
    if (this.g < 0) {
      this.setEntry(-1, 0);
      return;
    }
    const t = this.mt.table;
    let e = t.get(this.g, E_HEAD);
    for (let n = t.get(e, E_NEXT); n >= 0; n = t.get(n, E_NEXT)) e = n;
    this.setEntry(e, t.get(this.g, E_KLEN));
  }

  private setEntry(e: number, klen: number): void {
    this.e = e;
    this.klen = klen;
    this.keyView = null;
  }
}
