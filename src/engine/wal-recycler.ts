/**
 * WalRecycler: the obsolete WAL files kept for reuse (option recycleLogFileNum, RocksDB's
 * recycle_log_file_num). A synced append changes the file size, so each fdatasync also writes
 * metadata; writing over a reused full-size file does not, and syncs about twice as fast.
 * Contract:
 * - Only WALs this engine created in the recyclable framing are kept: their records carry the log
 *   number, so after reuse under a new number the old records read as the end of the log
 *   (src/record/FORMAT.md §2). A WAL from an earlier open, or in the legacy framing, is deleted.
 * - At most `limit` files are held; past that an obsolete WAL is deleted as before.
 * - A kept file stays on disk under its old number, below the MANIFEST's log number, so after a
 *   crash the next open treats it as any obsolete WAL (never replayed, then deleted).
 * - The file-gc host decides WHEN a WAL is obsolete (nothing refers to it: backups and checkpoints
 *   included); this only decides whether it is deleted or kept. A WAL archive (walArchiveDir)
 *   hard-links WALs, so recycling is off with one (options.ts): a reuse would overwrite history.
 * Main thread only.
 */
export class WalRecycler {
  /** Kept files (old log numbers), oldest first. */
  private readonly pool: number[] = [];
  /** WALs this engine created in the recyclable framing and has not deleted or kept yet. */
  private readonly eligible = new Set<number>();

  constructor(private readonly limit: number) {}

  /** Whether new WALs use the recyclable framing (so that they can be reused later). */
  get enabled(): boolean {
    return this.limit > 0;
  }

  /** Files held for reuse now. */
  get size(): number {
    return this.pool.length;
  }

  /** A WAL was created (or reused) in the recyclable framing. */
  noteCreated(n: number): void {
    if (this.enabled) this.eligible.add(n);
  }

  /** Whether WAL `n` is held for reuse (not to be deleted). */
  holds(n: number): boolean {
    return this.pool.includes(n);
  }

  /** An obsolete WAL: true when it is kept for reuse (the caller does not delete it). */
  keep(n: number): boolean {
    if (!this.eligible.has(n) || this.pool.length >= this.limit) return false;
    this.eligible.delete(n);
    this.pool.push(n);
    return true;
  }

  /** A kept file to reuse for the next WAL, or undefined. */
  take(): number | undefined {
    return this.pool.shift();
  }

  /** A file that was taken could not be reused: it is not held any more (the caller deletes it). */
  forget(n: number): void {
    this.eligible.delete(n);
  }
}
