/**
 * The DB's side of the ObsoleteFileHost interface (src/obsolete-file-scheduler.ts): the directory
 * listing put through the one obsolete-file rule (VersionSet.obsoleteFiles) with what only the DB
 * knows (tables being written, the oldest WAL an unflushed memtable needs), and the deletion itself.
 * Kept out of db.ts so the facade stays a facade (as compaction-host.ts).
 */
import * as path from 'node:path';
import type { DB } from '../db.js';
import type { ObsoleteFileHost } from './file-gc.js';
import { parseFileName } from '../manifest/file-names.js';

export function makeObsoleteFileHost(db: DB): ObsoleteFileHost {
  return {
    obsoleteFiles: async () => {
      if (db.o.readOnly) return [];
      const names = await db.fileSystem.list(db.location);
      const oldestWal = db.imm.length > 0 ? db.imm[0]!.walNumber : db.mem.walNumber;
      const out = db.versions.obsoleteFiles(names, db.pendingOutputs, oldestWal);
      // A rolled-over WAL waits for its archive copy before it may go.
      return out.filter((name) => {
        const p = parseFileName(name);
        return p?.type !== 'wal' || !db.retiringWals.has(p.number);
      });
    },
    remove: async (name) => {
      const p = parseFileName(name);
      if (p?.type === 'table') db.tables.evict(p.number);
      await db.fileSystem.remove(path.join(db.location, name));
    },
    log: (m) => db.log.write(m),
  };
}
