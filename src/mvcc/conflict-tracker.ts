/**
 * Optimistic-concurrency bookkeeping: what recent commits wrote, so a committing transaction can be
 * checked without scanning the database (issue #5).
 *
 * Point checks use 52-bit key hashes (two MurmurHash3 lanes): `lastWrite` maps hash -> the sequence
 * of the newest commit that wrote a key with that hash. A false conflict needs two keys of recent
 * commits to collide in 52 bits: at 100,000 commits of 10 keys that is ~1e6^2 / 2^53 ≈ 1e-4 over the
 * whole window, and it only ever costs a retry, never a missed conflict.
 * Range checks (phantoms, serializable only) cannot use hashes: each recorded commit also keeps its
 * keys, sorted, and a range read is tested against the commits after the reader's snapshot.
 *
 * Recording happens only while some transaction is open (a commit can only conflict with a
 * transaction whose snapshot predates it), and entries at or below the oldest open transaction's
 * snapshot are trimmed: memory follows the open transactions' window, not the history.
 * Main thread only; called by the write-queue leader in commit order.
 */
import { murmurHash3x86_32 } from '../../sstable/filter-hash.js';
import { compareBytes } from '../base/bytes.js';

const TWO_20 = 0x10_0000;

/** 52-bit hash of a key (exact in a double). */
export function keyHash52(key: Uint8Array): number {
  const a = murmurHash3x86_32(key, 0, key.length, 0x9747b28c) >>> 0;
  const b = murmurHash3x86_32(key, 0, key.length, 0x5bd1e995) >>> 0;
  return a * TWO_20 + (b & 0xf_ffff);
}

export interface KeyRange {
  /** undefined = unbounded */
  lo: Uint8Array | undefined;
  loInclusive: boolean;
  hi: Uint8Array | undefined;
  hiInclusive: boolean;
}

interface Commit {
  seq: number;
  hashes: number[];
  /** Sorted copies of the written keys (for range checks). */
  keys: Uint8Array[];
}

export class ConflictTracker {
  /** @param published the last published sequence: commits above it are still in flight. */
  constructor(private readonly published: () => number = () => Infinity) {}

  private readonly lastWrite = new Map<number, number>();
  private readonly commits: Commit[] = [];
  private head = 0;
  /** Open transactions' snapshot sequences: nondecreasing queue plus live counts (lazy deletion). */
  private readonly openSeqs: number[] = [];
  private openHead = 0;
  private readonly openCounts = new Map<number, number>();
  private openCount = 0;

  get openTransactions(): number { return this.openCount; }
  /** Commits currently remembered (for tests and stats). */
  get remembered(): number { return this.commits.length - this.head; }

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
      for (const h of c.hashes) if (this.lastWrite.get(h) === c.seq) this.lastWrite.delete(h);
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
   * `force` (the commit is in flight and a transaction just began below it).
   */
  record(seq: number, keys: Uint8Array[], force = false): void {
    if (this.openCount === 0 && !force) return;
    const hashes = keys.map(keyHash52);
    for (const h of hashes) this.lastWrite.set(h, seq);
    const sorted = keys.map((k) => k.slice()).sort(compareBytes);
    this.commits.push({ seq, hashes, keys: sorted });
  }

  /** True when some key with this hash was committed after `snapshotSeq`. */
  writtenAfter(hash: number, snapshotSeq: number): boolean {
    const s = this.lastWrite.get(hash);
    return s !== undefined && s > snapshotSeq;
  }

  /** The first key committed after `snapshotSeq` inside `r`, or undefined. */
  rangeWrittenAfter(r: KeyRange, snapshotSeq: number): Uint8Array | undefined {
    // commits are in sequence order: binary search the first one after the snapshot
    let lo = this.head, hi = this.commits.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.commits[mid]!.seq <= snapshotSeq) lo = mid + 1; else hi = mid;
    }
    for (let i = lo; i < this.commits.length; i++) {
      const keys = this.commits[i]!.keys;
      // first key >= r.lo
      let a = 0, b = keys.length;
      if (r.lo) {
        while (a < b) {
          const m = (a + b) >>> 1;
          if (compareBytes(keys[m]!, r.lo) < 0) a = m + 1; else b = m;
        }
      }
      for (let j = a; j < keys.length; j++) {
        const k = keys[j]!;
        if (r.lo && !r.loInclusive && compareBytes(k, r.lo) === 0) continue;
        if (r.hi) {
          const c = compareBytes(k, r.hi);
          if (c > 0 || (c === 0 && !r.hiInclusive)) break;
        }
        return k;
      }
    }
    return undefined;
  }
}
