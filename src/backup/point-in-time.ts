/**
 * Point-in-time recovery: after a base backup (sequence B) is restored, the archived WALs are replayed
 * on top, whole batches only, keeping their original sequence numbers: `toSequence` N keeps the batches
 * whose last sequence <= N, `toTime` T the batches committed at or before T (each WAL record carries its
 * commit time). The replayed batches are written as L0 tables in the target, which the restore's
 * MANIFEST then lists. A gap in the archive (a missing WAL between B and the target point) refuses the
 * restore rather than silently skipping writes.
 * The replayed tables are written with the restored database's table options (an L0 table's,
 * src/table/table-options.ts) and stamped with its clock.
 * Encryption at rest: with `keys`, encrypted archived WALs are opened by their key ids (without keys
 * one is refused, naming its key id) and the replayed tables are sealed under the current key.
 */
import type { FileSystem } from '../fs/file-system.js';
import { CorruptionError, InvalidArgumentError } from '../errors.js';
import { MemTable, memtableFull } from '../memtable/memtable.js';
import type { FileMetadata } from '../manifest/file-metadata.js';
import { replayWal } from '../wal/wal-replay.js';
import { writeTable } from '../table/table-output.js';
import type { TableOptions } from '../table/table-options.js';
import { listArchive } from './wal-archive.js';
import { FileKind } from '../encryption/file-cipher.js';
import type { KeyRing } from '../encryption/keyring.js';
import { copyBytes } from '../base/bytes.js';

export interface ReplayedArchive { files: FileMetadata[]; lastSequence: number; nextFileNumber: number }

/** How the replayed tables are written. */
export interface ReplayOutput {
  /** The L0 table options of the restored database. */
  table: TableOptions;
  /** A replayed memtable is written out as a table when it reaches this size (the database's own limit). */
  writeBufferSize: number;
  clock: () => number;
  keys?: KeyRing | undefined;
}

export async function replayArchiveToTables(
  fs: FileSystem, dir: string, archiveDir: string | undefined, baseSequence: number, nextFileNumber: number,
  target: { toSequence?: number; toTime?: number | Date }, out: ReplayOutput,
): Promise<ReplayedArchive> {
  const keys = out.keys;
  const toSeq = target.toSequence ?? Number.MAX_SAFE_INTEGER;
  const toTime = target.toTime === undefined ? Number.MAX_SAFE_INTEGER
    : target.toTime instanceof Date ? target.toTime.getTime() : target.toTime;
  if (!Number.isSafeInteger(toSeq) || toSeq < 0) throw new InvalidArgumentError('toSequence must be a non-negative integer');
  if (!Number.isFinite(toTime)) throw new InvalidArgumentError('toTime must be a Date or ms since the epoch');
  if (toSeq < baseSequence) throw new InvalidArgumentError(`toSequence ${toSeq} is before the backup's sequence ${baseSequence}`);
  const archived = archiveDir ? await listArchive(fs, archiveDir) : [];
  const files: FileMetadata[] = [];
  let mem = new MemTable();
  let last = baseSequence;
  let next = nextFileNumber;
  let done = false;
  const flushMem = async (): Promise<void> => {
    if (mem.entries === 0) return;
    const meta = await writeTable({
      fs, dir, fileNumber: next++, options: out.table, creationTimeMs: out.clock(),
      ...(keys ? { cipher: await keys.newFileCipher(FileKind.TABLE) } : {}),
    }, mem.newIterator(), mem.rangeDelFragments());
    if (meta) files.push(meta);
    mem = new MemTable();
  };
  for (let i = 0; i < archived.length && !done; i++) {
    const a = archived[i]!;
    const pending: { firstSeq: number; count: number; ops: Uint8Array }[] = [];
    await replayWal(fs, a.path, {
      mode: 'point-in-time',
      isNewest: i === archived.length - 1,
      logNumber: a.number,
      ...(keys ? { keys } : {}),
      onBatch: (b) => {
        if (done || b.lastSeq <= last) return; // already in the base backup (or replayed)
        // A gap first: if sequences up to the target are missing, stopping here would silently
        // restore an earlier point than asked. (Missing batches' times are unknown: a toTime restore
        // is refused too.)
        if (b.firstSeq !== last + 1 && last + 1 <= toSeq) {
          throw new InvalidArgumentError(`the WAL archive has a gap: sequences ${last + 1}..${b.firstSeq - 1} are missing (at ${a.name})`);
        }
        if (b.lastSeq > toSeq || b.commitTimeMs > toTime) { done = true; return; }
        pending.push({ firstSeq: b.firstSeq, count: b.opCount, ops: copyBytes(b.encodedOps()) });
        last = b.lastSeq;
      },
    });
    for (const p of pending) {
      mem.addOps(p.ops, 0, p.ops.length, p.count, p.firstSeq, (off, detail) => {
        throw new CorruptionError(a.path, off, `replayed batch: ${detail}`); // replayWal validated these bytes
      });
      if (memtableFull(mem, out)) await flushMem();
    }
  }
  // `done`: replay stopped at a batch past a bound, so the archive reaches the target (a toSequence
  // inside that batch, or a toTime before it). Only an archive that ran out falls short.
  if (target.toSequence !== undefined && !done && last < target.toSequence) {
    throw new InvalidArgumentError(`cannot restore to sequence ${target.toSequence}: the backup and the WAL archive reach sequence ${last}`);
  }
  await flushMem();
  return { files, lastSequence: last, nextFileNumber: next };
}
