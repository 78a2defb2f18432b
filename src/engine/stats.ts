/**
 * db.stats(): the DBStats plain object (DESIGN.md "Public API") and the counters behind it.
 * Everything here is a cheap read of counters and the current Version: stats() may be polled.
 */
import type { Engine } from './engine.js';
import { pendingCompactionBytes, styleLevelScores } from '../../compaction/style-stats.js';
import { styleConfig } from './compaction-host.js';
import { sortedRunCount } from '../../compaction/tiered-picker.js';
import { buildMemoryStats, type MemoryStats } from './memory-stats.js';

/**
 * One level. score: leveled, bytes / target (L0: tables / level0CompactionTrigger), compaction due at
 * 1; tiered, L0's is sorted runs / level0CompactionTrigger and the others 0; FIFO, L0's is table bytes /
 * fifoMaxTableFilesSize and the others 0 (compaction/style-stats.ts).
 */
export interface LevelStats { level: number; files: number; bytes: number; score: number }

export interface DBStats {
  sequence: number;
  memtable: { bytes: number; entries: number };
  immutableMemtables: number;
  /** Bytes held in memory, part by part, and the process's own figures (memory-stats.ts, README "Memory"). */
  memory: MemoryStats;
  levels: LevelStats[];
  flushes: { count: number; bytes: number };
  compactions: { count: number; trivialMoves: number; bytesRead: number; bytesWritten: number; ms: number };
  userBytesWritten: number;
  walBytesWritten: number;
  /** (flush + compaction + WAL bytes written) / user bytes written; 0 before any write. */
  writeAmplification: number;
  stalls: { slowdownMs: number; stopMs: number };
  cache: { capacity: number; usage: number; hits: number; misses: number };
  /**
   * Filter probes: `checks`/`negatives` by point reads; `prefixChecks`/`prefixNegatives` by iterators
   * over one prefix (option prefixLength), a negative being a table the iterator skipped.
   */
  filter: { checks: number; negatives: number; prefixChecks: number; prefixNegatives: number };
  snapshots: number;
  /**
   * Range tombstones: those in memtables (active and immutable, as written), and the range-deletion
   * entries (fragment, seq pairs) of live tables and the tables holding any, as their MANIFEST
   * entries record them (a table an older build recorded counts as none).
   */
  rangeDeletions: { memtables: number; tableEntries: number; tables: number };
  /**
   * Transactions: conflicts counts refused commits; lockWaits, deadlocks and lockTimeouts are the
   * pessimistic lock table's (waits begun, deadlock victims, waits that timed out).
   */
  transactions: { open: number; commits: number; conflicts: number; retries: number; lockWaits: number; deadlocks: number; lockTimeouts: number; locksHeld: number };
  /**
   * Encryption at rest: the key id new files use, and per key id the live tables sealed with it
   * (`(plaintext)` for tables written before encryption was on). The WAL and MANIFEST being written
   * use `currentKeyId` once a rotation rolled them (`walKeyId`, `manifestKeyId`). An old key is
   * needed only while its id is listed here.
   */
  encryption: {
    enabled: boolean; currentKeyId: string | undefined; keyIdsInUse: Record<string, number>;
    walKeyId: string | undefined; manifestKeyId: string | undefined;
  };
  openTables: number;
  /**
   * Keys the database holds, estimated as RocksDB's estimate-num-keys: entries of every memtable and
   * table, less two per point deletion in a table (it hides one older entry and is one itself; the
   * memtables keep no deletion count, so theirs count as entries), at least 0. Overwrites count once
   * per version until compaction merges them.
   */
  estimatedKeys: number;
  /**
   * Bytes of compaction owed now, in the style's terms (compaction/style-stats.ts). Leveled: L0 whole
   * once it reaches level0CompactionTrigger, and each deeper level's excess over its target times
   * (levelMultiplier + 1), the next level's share it is merged with (RocksDB's estimate). Tiered: the
   * bytes of the merge the picker would start now. FIFO: those of the intra-L0 merge due now (drops
   * write nothing).
   */
  pendingCompactionBytes: number;
  backgroundErrors: number;
  /**
   * The compaction style (option compactionStyle), the sorted runs (each L0 table and each non-empty
   * level: what tiered compaction bounds, and what its write stalls count), and FIFO's drops so far
   * (installed drop edits, the tables and bytes they removed).
   */
  compactionStyle: 'leveled' | 'tiered' | 'fifo';
  sortedRuns: number;
  fifoDrops: { count: number; files: number; bytes: number };
  /** Entries the compaction filter removed or gave a new value (README "Compaction filters"). */
  compactionFilter: { removed: number; changed: number };
  /** Pieces run by compactions that were split (README "Subcompactions"); 0 while none was. */
  subcompactions: number;
  /** Set when the database refuses writes after a failure (message of the first error). */
  readOnlyReason: string | undefined;
}

/** Mutable counters the engine bumps; stats() copies them. */
export class StatsCounters {
  writes = 0;
  userBytesWritten = 0;
  walBytesWritten = 0;
  flushes = 0;
  flushBytes = 0;
  compactions = 0;
  compactionBytesRead = 0;
  compactionBytesWritten = 0;
  compactionMs = 0;
  slowdownMs = 0;
  stopMs = 0;
  backgroundErrors = 0;
  trivialMoves = 0;
  txnCommits = 0;
  txnConflicts = 0;
  txnRetries = 0;
  fifoDrops = 0;
  fifoDroppedFiles = 0;
  fifoDroppedBytes = 0;
  filterRemoved = 0;
  filterChanged = 0;
  subcompactions = 0;
}

export function buildStats(db: Engine): DBStats {
  const c = db.counters;
  const o = db.o;
  const version = db.versions.current();
  const style = styleConfig(o);
  const leveled = {
    numLevels: o.numLevels, level0CompactionTrigger: o.level0CompactionTrigger,
    maxBytesForLevelBase: o.maxBytesForLevelBase, levelMultiplier: o.levelMultiplier,
    targetFileSize: o.targetFileSize, levelCompactionDynamicLevelBytes: o.levelCompactionDynamicLevelBytes,
  };
  const scores = styleLevelScores(style, version.levels, leveled);
  const levels: LevelStats[] = version.levels.map((files, level) => {
    let bytes = 0;
    for (const f of files) bytes += f.fileSize;
    return { level, files: files.length, bytes, score: scores[level] ?? 0 };
  });
  const mem = db.memtables.mem;
  const cache = db.blockCache;
  const filter = db.tables.filterStats();
  const written = c.flushBytes + c.compactionBytesWritten + c.walBytesWritten;
  return {
    sequence: db.lastSequence,
    memtable: { bytes: mem.approximateMemoryUsage(), entries: mem.entries },
    immutableMemtables: db.memtables.immutable.length,
    memory: buildMemoryStats(db),
    levels,
    flushes: { count: c.flushes, bytes: c.flushBytes },
    compactions: { count: c.compactions, trivialMoves: c.trivialMoves, bytesRead: c.compactionBytesRead, bytesWritten: c.compactionBytesWritten, ms: c.compactionMs },
    userBytesWritten: c.userBytesWritten,
    walBytesWritten: c.walBytesWritten,
    writeAmplification: c.userBytesWritten > 0 ? written / c.userBytesWritten : 0,
    stalls: { slowdownMs: c.slowdownMs, stopMs: c.stopMs },
    cache: { capacity: cache?.capacity ?? 0, usage: cache?.usage ?? 0, hits: cache?.hits ?? 0, misses: cache?.misses ?? 0 },
    filter,
    snapshots: db.snapshots.size,
    rangeDeletions: rangeDeletionStats(db),
    transactions: {
      open: db.writes.tracker.openTransactions, commits: c.txnCommits, conflicts: c.txnConflicts, retries: c.txnRetries,
      ...db.transactionHost().locks.counters, locksHeld: db.transactionHost().locks.size,
    },
    encryption: encryptionStats(db),
    openTables: db.tables.openCount,
    estimatedKeys: estimatedKeys(db),
    pendingCompactionBytes: pendingCompactionBytes(style, version.levels, leveled),
    backgroundErrors: c.backgroundErrors,
    compactionStyle: o.compactionStyle,
    sortedRuns: sortedRunCount(version.levels),
    fifoDrops: { count: c.fifoDrops, files: c.fifoDroppedFiles, bytes: c.fifoDroppedBytes },
    compactionFilter: { removed: c.filterRemoved, changed: c.filterChanged },
    subcompactions: c.subcompactions,
    readOnlyReason: db.failure.error?.message,
  };
}

function estimatedKeys(db: Engine): number {
  let entries = 0;
  let deletions = 0;
  for (const m of db.memtables.forRead()) entries += m.entries - m.rangeDeletions;
  db.versions.current().forEachFile((f) => { entries += f.numEntries; deletions += f.numDeletions; });
  return Math.max(0, entries - 2 * deletions);
}

function rangeDeletionStats(db: Engine): DBStats['rangeDeletions'] {
  let memtables = db.memtables.mem.rangeDeletions;
  for (const e of db.memtables.immutable) memtables += e.mem.rangeDeletions;
  let tableEntries = 0;
  let tables = 0;
  db.versions.current().forEachFile((f) => {
    if ((f.numRangeDeletions ?? 0) === 0) return;
    tables++;
    tableEntries += f.numRangeDeletions!;
  });
  return { memtables, tableEntries, tables };
}

function encryptionStats(db: Engine): DBStats['encryption'] {
  const ring = db.keyRing;
  const inUse: Record<string, number> = {};
  if (ring) db.versions.current().forEachFile((f) => { const id = f.keyId ?? '(plaintext)'; inUse[id] = (inUse[id] ?? 0) + 1; });
  let current: string | undefined;
  try { current = ring?.currentKeyId(); } catch { current = undefined; } // stats() never throws for a provider
  return { enabled: ring !== undefined, currentKeyId: current, keyIdsInUse: inUse, walKeyId: db.memtables.walKeyId, manifestKeyId: db.versions.manifestKeyId };
}
