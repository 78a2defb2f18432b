/**
 * DB.repair's WAL step: every WAL in the directory is replayed, leniently, into memtables that are
 * written out as new tables (LevelDB's RepairDB ConvertLogFilesToTables). Replay stops at a WAL's
 * first bad record (walRecoveryMode 'point-in-time' on the newest WAL, for every WAL): the whole
 * groups before it are kept, the rest of that file is not read, and the stop is reported. A WAL whose
 * header cannot be read contributes nothing and is reported the same way.
 * Contract: WALs are replayed in number order, one memtable per WAL (split at writeBufferSize as
 * recovery splits), each written by writeTable (fsynced, directory synced) under a number from
 * `allocate`. Damage is a report, never an error; other errors (a missing key, I/O) reject, and the
 * tables written so far are the caller's to remove. Main thread.
 */
import * as path from 'node:path';
import { CorruptionError } from '../errors.js';
import type { FileSystem } from '../fs/file-system.js';
import type { KeyRing } from '../encryption/keyring.js';
import { FileKind } from '../encryption/file-cipher.js';
import type { FileMetadata } from '../manifest/file-metadata.js';
import { MemTable, memtableFull } from '../memtable/memtable.js';
import { replayWal } from '../wal/wal-replay.js';
import type { ResolvedOptions } from '../options.js';
import { writeTable } from '../table/table-output.js';
import { tableOptionsFor } from '../table/table-options.js';

export interface WalReplayReport {
  /** Tables written from the WALs' entries. */
  tables: FileMetadata[];
  /** Operations replayed (puts, deletes, range deletes). */
  entries: number;
  /** Highest sequence number replayed; 0 when none was. */
  lastSequence: number;
  /** Where a WAL's replay stopped early, and why. */
  stopped: { file: string; offset: number; reason: string }[];
}

/** Replays the WALs `wals` of `dir` into new tables (see the header). */
export async function replayWalsToTables(fs: FileSystem, dir: string, wals: readonly { number: number; name: string }[],
  o: ResolvedOptions, keys: KeyRing | undefined, allocate: () => number,
  written: (meta: FileMetadata) => void): Promise<WalReplayReport> {
  const out: WalReplayReport = { tables: [], entries: 0, lastSequence: 0, stopped: [] };
  const flush = async (mem: MemTable): Promise<void> => {
    const cipher = keys ? await keys.newFileCipher(FileKind.TABLE) : undefined;
    const meta = await writeTable({
      fs, dir, fileNumber: allocate(), options: tableOptionsFor(o, 0), creationTimeMs: o.clock(),
      ...(cipher ? { cipher } : {}),
    }, mem.newIterator(), mem.rangeDelFragments());
    if (meta) {
      out.tables.push(meta);
      written(meta);
    }
  };
  for (const { number, name } of [...wals].sort((a, b) => a.number - b.number)) {
    const file = path.join(dir, name);
    let mem = new MemTable();
    const full: MemTable[] = [];
    try {
      const r = await replayWal(fs, file, {
        mode: 'point-in-time', isNewest: true, logNumber: number, ...(keys ? { keys } : {}),
        onBatch: (b) => {
          const ops = b.encodedOps();
          mem.addOps(ops, 0, ops.length, b.opCount, b.firstSeq, (off, detail) => {
            throw new CorruptionError(file, off, `replayed batch: ${detail}`);
          });
          out.entries += b.opCount;
          if (b.lastSeq > out.lastSequence) out.lastSequence = b.lastSeq;
          if (memtableFull(mem, o)) {
            full.push(mem);
            mem = new MemTable();
          }
        },
      });
      if (r.stoppedAt) out.stopped.push({ file: name, offset: r.stoppedAt.offset, reason: r.stoppedAt.detail });
    } catch (e) {
      // Whole groups delivered before the damage stay (each group is validated before it is handed out).
      if (!(e instanceof CorruptionError)) throw e;
      out.stopped.push({ file: name, offset: e.offset, reason: e.message });
    }
    for (const m of [...full, mem]) if (m.entries > 0) await flush(m);
  }
  return out;
}
