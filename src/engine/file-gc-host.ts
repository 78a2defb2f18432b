/**
 * The engine's side of the ObsoleteFileHost interface (file-gc.ts): the directory
 * listing put through the one obsolete-file rule (VersionSet.obsoleteFiles) with what only the DB
 * knows (tables being written, the oldest WAL an unflushed memtable needs), and the deletion itself,
 * where an obsolete WAL may be kept for reuse instead (wal-recycler.ts). A WAL a reader of the log
 * pins (wal-pins.ts) is never obsolete.
 * Kept apart so engine.ts only wires it (as compaction-host.ts).
 */
import * as path from 'node:path';
import type { Engine } from './engine.js';
import type { ObsoleteFileHost } from './file-gc.js';
import { parseFileName } from '../manifest/file-names.js';

export function makeObsoleteFileHost(db: Engine): ObsoleteFileHost {
  return {
    obsoleteFiles: async () => {
      if (db.o.readOnly) return [];
      const names = await db.fs.list(db.location);
      const oldestWal = db.memtables.oldestWalNeeded;
      const out = db.versions.obsoleteFiles(names, db.pendingOutputs, oldestWal);
      // A rolled-over WAL waits for its archive copy before it may go; a kept one waits for reuse.
      return out.filter((name) => {
        const p = parseFileName(name);
        return p?.type !== 'wal' ||
          (!db.memtables.isRetiring(p.number) && !db.walRecycler.holds(p.number) && !db.walPins.holds(p.number));
      });
    },
    remove: async (name) => {
      const p = parseFileName(name);
      if (p?.type === 'table') db.tables.evict(p.number);
      if (p?.type === 'wal' && db.walRecycler.keep(p.number)) return;
      await db.fs.remove(path.join(db.location, name));
    },
    log: (m) => db.log.write(m),
  };
}
