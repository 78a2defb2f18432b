/**
 * Optimistic-concurrency bookkeeping: what recent commits wrote, so a committing transaction can be
 * checked without scanning the database.
 *
 * Point checks use 52-bit key hashes (two MurmurHash3 lanes, key-set.ts): `lastWrite` maps hash -> the
 * sequence of the newest commit that wrote a key with that hash. A false conflict needs two keys of
 * recent commits to collide in 52 bits: at 100,000 commits of 10 keys that is ~1e6^2 / 2^53 ≈ 1e-4 over
 * the whole window, and it only ever costs a retry, never a missed conflict.
 * Range checks (phantoms, serializable only) cannot use hashes: each recorded commit also keeps its
 * keys, sorted, and a range read is tested against the commits after the reader's snapshot.
 *
 * Range deletes: a range delete [s, e) is a write of every key in it, which no hash can stand for.
 * A commit holding range deletes keeps them as a sorted, coalesced RangeSet beside its keys, and is
 * also listed in `rangeCommits`. A transaction's written keys (and, serializable, its read keys) are
 * checked against the ranges of the range commits after its snapshot (O(ranges x log keys) per
 * commit, nothing at all when none committed after it: range deletes are rare); a range, read or
 * deleted by the transaction, is checked against both the keys and the ranges of later commits.
 *
 * Memory, per key of a remembered commit (no JS object per key): its KeySet (key bytes + 4 B offset
 * + 8 B hash, handed over by the caller, not copied) and one SeqHashTable slot of 16 B at 1/8 to 1/2
 * load, i.e. 32-128 B of table per distinct live hash. `bytes` counts both, exactly.
 *
 * Recording happens only while some transaction is open (a commit can only conflict with a
 * transaction whose snapshot predates it), and entries at or below the oldest open transaction's
 * snapshot are trimmed: memory follows the open transactions' window, not the history.
 * Main thread only; called by the write-queue leader in commit order.
 */
import type { KeySet } from './key-set.js';
import type { KeyRange } from './range-set.js';
import { SeqHashTable } from './seq-hash-table.js';

export { keyHash52 } from './key-set.js';
export type { KeyRange } from './range-set.js';

interface Commit {
  seq: number;
  /** The written keys, sorted, with their hashes (for trimming and range checks), and its deleted ranges. */
  keys: KeySet;
}

/** The first index in commits[head..] whose seq is above `seq` (commits are in sequence order). */
function firstAfter(commits: readonly Commit[], head: number, seq: number): number {
  let lo = head, hi = commits.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (commits[mid]!.seq <= seq) lo = mid + 1; else hi = mid;
  }
  return lo;
}

export class ConflictTracker {
  /** @param published the last published sequence: commits above it are still in flight. */
  constructor(private readonly published: () => number = () => Infinity) {}

  private readonly lastWrite = new SeqHashTable();
  /** Bytes of the remembered key sets. */
  private keyBytes = 0;
  private readonly commits: Commit[] = [];
  private head = 0;
  /** The commits that hold range deletes, also in `commits`, in sequence order. */
  private readonly rangeCommits: Commit[] = [];
  private rangeHead = 0;
  /** Open transactions' snapshot sequences: nondecreasing queue plus live counts (lazy deletion). */
  private readonly openSeqs: number[] = [];
  private openHead = 0;
  private readonly openCounts = new Map<number, number>();
  private openCount = 0;
  private openBufferBytes = 0;

  get openTransactions(): number { return this.openCount; }
  /**
   * Bytes the open transactions' write buffers hold. Kept here because this is where open transactions
   * are registered; each reports its own growth (transaction.ts), and its finalizer the rest.
   */
  get bufferBytes(): number { return this.openBufferBytes; }
  addBufferBytes(delta: number): void { this.openBufferBytes += delta; }
  /** Commits currently remembered (for tests and stats). */
  get remembered(): number { return this.commits.length - this.head; }
  /** Bytes held for the remembered commits: their key sets plus the hash table (for tests and stats). */
  get bytes(): number { return this.keyBytes + this.lastWrite.bytes; }
  /** Distinct key hashes remembered (for tests). */
  get rememberedHashes(): number { return this.lastWrite.size; }

  /** A transaction opened at snapshot `seq` (seqs arrive nondecreasing: they are the published sequence). */
  open(seq: number): void {
    this.openSeqs.push(seq);
    this.openCounts.set(seq, (this.openCounts.get(seq) ?? 0) + 1);
    this.openCount++;
  }

  /** That transaction ended (commit, rollback or abandonment). */
  close(seq: number): void {
    const n = this.openCounts.get(seq);
    if (n === undefined) return;
    if (n <= 1) this.openCounts.delete(seq); else this.openCounts.set(seq, n - 1);
    this.openCount--;
    this.trim();
  }

  private oldestOpen(): number | undefined {
    while (this.openHead < this.openSeqs.length && !this.openCounts.has(this.openSeqs[this.openHead]!)) this.openHead++;
    if (this.openHead > 1024 && this.openHead * 2 > this.openSeqs.length) {
      this.openSeqs.splice(0, this.openHead);
      this.openHead = 0;
    }
    return this.openHead < this.openSeqs.length ? this.openSeqs[this.openHead] : undefined;
  }

  /** Drops what no open transaction can conflict with. */
  private trim(): void {
    const oldest = this.oldestOpen();
    // A commit accepted but not yet published (its group awaits the WAL sync) is above every
    // snapshot a transaction may still take: keep it even when no transaction is open now.
    const limit = Math.min(oldest ?? Infinity, this.published());
    while (this.head < this.commits.length && this.commits[this.head]!.seq <= limit) {
      const c = this.commits[this.head]!;
      const hashes = c.keys.hashes;
      for (let i = 0, n = c.keys.count; i < n; i++) this.lastWrite.deleteIf(hashes[i]!, c.seq);
      this.keyBytes -= c.keys.bytes;
      this.commits[this.head] = undefined as unknown as Commit;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.commits.length) {
      this.commits.splice(0, this.head);
      this.head = 0;
    }
    while (this.rangeHead < this.rangeCommits.length && this.rangeCommits[this.rangeHead]!.seq <= limit) {
      this.rangeCommits[this.rangeHead] = undefined as unknown as Commit;
      this.rangeHead++;
    }
    if (this.rangeHead === this.rangeCommits.length || (this.rangeHead > 1024 && this.rangeHead * 2 > this.rangeCommits.length)) {
      this.rangeCommits.splice(0, this.rangeHead);
      this.rangeHead = 0;
    }
  }

  /**
   * Records a commit's written keys at (at least) sequence `seq`, when any transaction is open or
   * `force` (the commit is in flight and a transaction just began below it). The tracker keeps
   * `keys` as it is (no copy) until trimmed: the caller must not change it (KeySets never change).
   */
  record(seq: number, keys: KeySet, force = false): void {
    if (this.openCount === 0 && !force) return;
    const hashes = keys.hashes;
    for (let i = 0, n = keys.count; i < n; i++) this.lastWrite.set(hashes[i]!, seq);
    this.keyBytes += keys.bytes;
    const c = { seq, keys };
    this.commits.push(c);
    if (keys.ranges) this.rangeCommits.push(c);
  }

  /** Commits holding range deletes currently remembered (for tests). */
  get rememberedRangeCommits(): number { return this.rangeCommits.length - this.rangeHead; }

  /** True when some range delete was committed after `snapshotSeq` (then the checks below may find one). */
  rangeDeletedAfter(snapshotSeq: number): boolean {
    const n = this.rangeCommits.length;
    return n > this.rangeHead && this.rangeCommits[n - 1]!.seq > snapshotSeq;
  }

  /** True when a range delete committed after `snapshotSeq` covers `key`. */
  keyDeletedAfter(key: Uint8Array, snapshotSeq: number): boolean {
    const list = this.rangeCommits;
    for (let i = firstAfter(list, this.rangeHead, snapshotSeq); i < list.length; i++) {
      if (list[i]!.keys.ranges!.covers(key)) return true;
    }
    return false;
  }

  /** The first key of `keys` that a range delete committed after `snapshotSeq` covers, or undefined. */
  keysDeletedAfter(keys: KeySet, snapshotSeq: number): Uint8Array | undefined {
    if (keys.count === 0) return undefined;
    const list = this.rangeCommits;
    for (let i = firstAfter(list, this.rangeHead, snapshotSeq); i < list.length; i++) {
      const k = list[i]!.keys.ranges!.firstCovered(keys);
      if (k) return k;
    }
    return undefined;
  }

  /**
   * True when some remembered commit is after `snapshotSeq`; when false, writtenAfter, keyDeletedAfter
   * and rangeWrittenAfter are false for every key and range at that sequence (nothing to look up).
   */
  anyCommitAfter(snapshotSeq: number): boolean {
    const n = this.commits.length;
    return n > this.head && this.commits[n - 1]!.seq > snapshotSeq;
  }

  /** True when some key with this hash was committed after `snapshotSeq`. */
  writtenAfter(hash: number, snapshotSeq: number): boolean {
    const s = this.lastWrite.get(hash);
    return s !== undefined && s > snapshotSeq;
  }

  /**
   * The first key committed after `snapshotSeq` inside `r`, or undefined: a key written there, or
   * the first key of `r` that a later range delete covers.
   */
  rangeWrittenAfter(r: KeyRange, snapshotSeq: number): Uint8Array | undefined {
    for (let i = firstAfter(this.rangeCommits, this.rangeHead, snapshotSeq); i < this.rangeCommits.length; i++) {
      const k = this.rangeCommits[i]!.keys.ranges!.firstOverlap(r);
      if (k) return k;
    }
    for (let i = firstAfter(this.commits, this.head, snapshotSeq); i < this.commits.length; i++) {
      const keys = this.commits[i]!.keys;
      for (let j = r.lo ? keys.lowerBound(r.lo) : 0; j < keys.count; j++) {
        if (r.lo && !r.loInclusive && keys.compareAt(j, r.lo) === 0) continue;
        if (r.hi) {
          const c = keys.compareAt(j, r.hi);
          if (c > 0 || (c === 0 && !r.hiInclusive)) break;
        }
        return keys.key(j);
      }
    }
    return undefined;
  }
}
