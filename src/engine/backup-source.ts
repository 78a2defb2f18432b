/**
 * The engine's side of the BackupSource interface (src/backup/pin.ts): one pinned point in time (the
 * current Version, the memtables and the published sequence), file numbers and table options for
 * checkpoints and backups. Kept apart so engine.ts only wires it.
 */
import type { Engine } from './engine.js';
import type { BackupSource } from '../backup/pin.js';
import { tableOptionsFor } from '../table/table-options.js';

export function makeBackupSource(db: Engine): BackupSource {
  const o = db.o;
  return {
    dir: db.location,
    fs: db.fs,
    pin: () => {
      const version = db.versions.current();
      version.ref();
      return {
        version, memtables: db.memtables.forRead(), sequence: db.lastSequence,
        nextFileNumber: db.versions.nextFileNumber,
        release: () => version.unref(),
      };
    },
    newFileNumber: () => db.versions.newFileNumber(),
    // The dump holds the memtables, so it is written as the L0 table a flush would write.
    tableOptions: () => tableOptionsFor(o, 0),
    clock: () => o.clock(),
    keys: db.keyRing,
  };
}
