/**
 * Optimistic-concurrency bookkeeping: what recent commits wrote, so a committing transaction can be
 * checked without scanning the database (issue #5).
 *
 * Point checks use 52-bit key hashes (two MurmurHash3 lanes, key-set.ts): `lastWrite` maps hash -> the
 * sequence of the newest commit that wrote a key with that hash. A false conflict needs two keys of
 * recent commits to collide in 52 bits: at 100,000 commits of 10 keys that is ~1e6^2 / 2^53 ≈ 1e-4 over
 * the whole window, and it only ever costs a retry, never a missed conflict.
 * Range checks (phantoms, serializable only) cannot use hashes: each recorded commit also keeps its
 * keys, sorted, and a range read is tested against the commits after the reader's snapshot.
 * Range deletes cannot use hashes either: a commit's range deletes (KeySet.deletedRanges) are tested
 * key by key against the keys a committing transaction writes (rangeDeletedAfter), and as ranges
 * against the ranges it iterated. The scan only runs while a remembered commit holds range deletes.
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
import { compareBytes } from '../base/bytes.js';
import type { DeletedRange, KeySet } from './key-set.js';
import { SeqHashTable } from './seq-hash-table.js';

export { keyHash52 } from './key-set.js';

export interface KeyRange {
  /** undefined = unbounded */
  lo: Uint8Array | undefined;
  loInclusive: boolean;
  hi: Uint8Array | undefined;
  hiInclusive: boolean;
}

interface Commit {
  seq: number;
  /** The written keys, sorted, with their hashes (for trimming and range checks). */
  keys: KeySet;
}

export class ConflictTracker {
  /** @param published the last published sequence: commits above it are still in flight. */
  constructor(private readonly published: () => number = () => Infinity) {}

  private readonly lastWrite = new SeqHashTable();
  /** Bytes of the remembered key sets. */
  private keyBytes = 0;
  private readonly commits: Commit[] = [];
  private head = 0;
  /** Remembered commits holding range deletes (0: the range-delete checks return at once). */
  private rangeCommits = 0;
  /** Open transactions' snapshot sequences: nondecreasing queue plus live counts (lazy deletion). */
  private readonly openSeqs: number[] = [];
  private openHead = 0;
  private readonly openCounts = new Map<number, number>();
  private openCount = 0;

  get openTransactions(): number { return this.openCount; }
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
      if (c.keys.deletedRanges.length > 0) this.rangeCommits--;
      this.commits[this.head] = undefined as unknown as Commit;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.commits.length) {
      this.commits.splice(0, this.head);
      this.head = 0;
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
    if (keys.deletedRanges.length > 0) this.rangeCommits++;
    this.commits.push({ seq, keys });
  }

  /** Index of the first remembered commit after `snapshotSeq` (commits are in sequence order). */
  private firstAfter(snapshotSeq: number): number {
    let lo = this.head, hi = this.commits.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.commits[mid]!.seq <= snapshotSeq) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  /** True when a range delete committed after `snapshotSeq` covers `key`. */
  rangeDeletedAfter(key: Uint8Array, snapshotSeq: number): boolean {
    if (this.rangeCommits === 0) return false;
    for (let i = this.firstAfter(snapshotSeq); i < this.commits.length; i++) {
      if (this.commits[i]!.keys.rangeDeletes(key)) return true;
    }
    return false;
  }

  /** True when some commit after `snapshotSeq` holds a range delete. */
  anyRangeDeleteAfter(snapshotSeq: number): boolean {
    if (this.rangeCommits === 0) return false;
    for (let i = this.firstAfter(snapshotSeq); i < this.commits.length; i++) {
      if (this.commits[i]!.keys.deletedRanges.length > 0) return true;
    }
    return false;
  }

  /** True when some key with this hash was committed after `snapshotSeq`. */
  writtenAfter(hash: number, snapshotSeq: number): boolean {
    const s = this.lastWrite.get(hash);
    return s !== undefined && s > snapshotSeq;
  }

  /** The first key committed after `snapshotSeq` inside `r`, or undefined. */
  rangeWrittenAfter(r: KeyRange, snapshotSeq: number): Uint8Array | undefined {
    for (let i = this.firstAfter(snapshotSeq); i < this.commits.length; i++) {
      const keys = this.commits[i]!.keys;
      for (const d of keys.deletedRanges) if (overlaps(d, r)) return d.start;
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

/**
 * Whether [d.start, d.end) and `r` may share a key. Conservative at an exclusive lower bound: r.lo
 * excluded and d.end its immediate successor share nothing, yet count (a retry, never a miss).
 */
function overlaps(d: DeletedRange, r: KeyRange): boolean {
  if (r.lo && compareBytes(r.lo, d.end) >= 0) return false;
  if (r.hi) {
    const c = compareBytes(d.start, r.hi);
    if (c > 0 || (c === 0 && !r.hiInclusive)) return false;
  }
  return true;
}
