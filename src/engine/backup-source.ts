/**
 * The DB's side of the BackupSource interface (src/backup/pin.ts): one pinned point in time (the
 * current Version, the memtables and the published sequence), file numbers and table options for
 * checkpoints and backups. Kept out of db.ts so the facade stays a facade.
 */
import type { DB } from '../db.js';
import type { BackupSource } from '../backup/pin.js';

export function makeBackupSource(db: DB): BackupSource {
  const o = db.o;
  return {
    dir: db.location,
    fs: db.fileSystem,
    pin: () => {
      const version = db.versions.current();
      version.ref();
      return {
        version, memtables: db.memtablesForRead(), sequence: db.lastSequence,
        nextFileNumber: db.versions.nextFileNumber,
        release: () => version.unref(),
      };
    },
    newFileNumber: () => db.versions.newFileNumber(),
    buildOptions: () => ({
      blockSize: o.blockSize, blockRestartInterval: o.blockRestartInterval,
      bloomBitsPerKey: o.bloomBitsPerKey, compression: o.compression, zstdLevel: o.zstdLevel, clock: o.clock,
    }),
    clock: () => o.clock(),
    keys: db.keyRing,
  };
}
