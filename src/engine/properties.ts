/**
 * db.getProperty(name): RocksDB-style named properties (`stratadb.*`, the names of RocksDB's
 * `rocksdb.*` ones) for scripts and dashboards that already ask RocksDB or LevelDB for them. Every
 * value is a string, as RocksDB's GetProperty gives, and is read off one DBStats (stats.ts): nothing
 * is computed here that stats() does not already hold, so the two never disagree.
 * Unknown names answer undefined, as RocksDB's GetProperty answers false: callers probe for names a
 * given version may not have, and the answer set grows without breaking them. Only a name that is
 * not a string is a caller mistake (the facade refuses it).
 */
import type { DBStats } from './stats.js';

const PREFIX = 'stratadb.';
const FILES_AT_LEVEL = 'num-files-at-level';

/** The property names with fixed spellings (num-files-at-level<N> comes in addition). */
export const PROPERTY_NAMES = [
  'stratadb.stats', 'stratadb.estimate-num-keys', 'stratadb.total-sst-files-size',
  'stratadb.cur-size-all-mem-tables', 'stratadb.num-snapshots', 'stratadb.background-errors',
  'stratadb.estimate-pending-compaction-bytes', 'stratadb.num-sorted-runs',
] as const;

/** The value of property `name` from `s`, or undefined for a name that is not a property. */
export function propertyOf(s: DBStats, name: string): string | undefined {
  if (!name.startsWith(PREFIX)) return undefined;
  const p = name.slice(PREFIX.length);
  if (p.startsWith(FILES_AT_LEVEL)) {
    const n = p.slice(FILES_AT_LEVEL.length);
    if (!/^(0|[1-9][0-9]*)$/.test(n)) return undefined;
    const level = s.levels[Number(n)];
    return level === undefined ? undefined : String(level.files);
  }
  switch (p) {
    case 'stats': return statsText(s);
    case 'estimate-num-keys': return String(s.estimatedKeys);
    case 'total-sst-files-size': return String(totalTableBytes(s));
    case 'cur-size-all-mem-tables': return String(s.memory.memtables);
    case 'num-snapshots': return String(s.snapshots);
    case 'background-errors': return String(s.backgroundErrors);
    case 'estimate-pending-compaction-bytes': return String(s.pendingCompactionBytes);
    case 'num-sorted-runs': return String(s.sortedRuns);
    default: return undefined;
  }
}

function totalTableBytes(s: DBStats): number {
  let bytes = 0;
  for (const l of s.levels) bytes += l.bytes;
  return bytes;
}

const MB = 1024 * 1024;
const mb = (n: number): string => (n / MB).toFixed(1);

/** A text summary in the spirit of rocksdb.stats: the level table, then the counters. */
function statsText(s: DBStats): string {
  const rows = ['** Level stats **', 'Level  Files  Size(MB)  Score'];
  let files = 0;
  for (const l of s.levels) {
    files += l.files;
    rows.push(`${`L${l.level}`.padEnd(5)}  ${String(l.files).padStart(5)}  ${mb(l.bytes).padStart(8)}  ${l.score.toFixed(2).padStart(5)}`);
  }
  rows.push(`${'Sum'.padEnd(5)}  ${String(files).padStart(5)}  ${mb(totalTableBytes(s)).padStart(8)}`);
  rows.push(`Compaction style: ${s.compactionStyle}; sorted runs: ${s.sortedRuns}`);
  rows.push('', '** DB stats **');
  rows.push(`Sequence: ${s.sequence}; estimated keys: ${s.estimatedKeys}; snapshots: ${s.snapshots}; open tables: ${s.openTables}`);
  rows.push(`Memtables: ${mb(s.memory.memtables)} MB (active ${s.memtable.entries} entries, ${s.immutableMemtables} immutable)`);
  rows.push(`Writes: user ${mb(s.userBytesWritten)} MB, WAL ${mb(s.walBytesWritten)} MB; write amplification ${s.writeAmplification.toFixed(2)}`);
  rows.push(`Flushes: ${s.flushes.count}, ${mb(s.flushes.bytes)} MB`);
  rows.push(`Compactions: ${s.compactions.count} (${s.compactions.trivialMoves} trivial moves), read ${mb(s.compactions.bytesRead)} MB, ` +
    `wrote ${mb(s.compactions.bytesWritten)} MB, ${Math.round(s.compactions.ms)} ms; pending ${mb(s.pendingCompactionBytes)} MB`);
  rows.push(`Stalls: slowdown ${Math.round(s.stalls.slowdownMs)} ms, stop ${Math.round(s.stalls.stopMs)} ms`);
  rows.push(`Block cache: ${mb(s.cache.usage)} / ${mb(s.cache.capacity)} MB, ${s.cache.hits} hits, ${s.cache.misses} misses`);
  rows.push(`Bloom filter: ${s.filter.checks} checks, ${s.filter.negatives} negatives`);
  rows.push(`Background errors: ${s.backgroundErrors}${s.readOnlyReason ? ` (read-only: ${s.readOnlyReason})` : ''}`);
  return rows.join('\n') + '\n';
}
