/**
 * The engine's side of the IngestHost interface (ingest.ts): the write queue's exclusive slot, the
 * memtables and their flush, the published sequence, the conflict records of open transactions, the
 * compaction scheduler's picks and plans in flight, the MANIFEST. Kept apart so engine.ts only wires
 * it (as compaction-host.ts and file-gc-host.ts).
 */
import type { Engine } from './engine.js';
import type { IngestHost } from './ingest.js';
import { planOutputRange, type PendingOutput } from './ingest-level.js';
import { KeySetBuilder } from '../mvcc/key-set.js';

export function makeIngestHost(db: Engine): IngestHost {
  return {
    fs: db.fs,
    dir: db.location,
    o: db.o,
    keys: db.keyRing,
    checkWritable: () => db.checkWritable(),
    exclusive: (fn) => db.writes.queue.exclusive(fn),
    memtables: () => db.memtables.forRead(),
    flushMemtables: async () => {
      await db.memtables.switch();
      await db.flusher.waitForAll();
    },
    syncWal: async () => { await db.memtables.currentWal?.sync(); },
    lastSequence: () => db.writes.lastSequence(),
    publish: (seq) => {
      db.writes.setPublished(seq);
      db.idleTrigger.noteWrite();
    },
    recordWrite: (seq, ranges) => db.writes.tracker.record(seq, new KeySetBuilder(1).finish(ranges)),
    allocateOutput: () => {
      const n = db.versions.newFileNumber();
      db.pendingOutputs.add(n);
      return n;
    },
    releaseOutput: (n) => { db.pendingOutputs.delete(n); },
    currentVersion: () => db.versions.current(),
    pendingCompactionOutputs: () => {
      const out: PendingOutput[] = [];
      for (const plan of db.compactions.inFlightPlans()) {
        const range = planOutputRange(plan.inputs);
        if (range) out.push({ level: plan.outputLevel, range });
      }
      return out;
    },
    holdPicks: () => db.compactions.holdPicks(),
    logAndApply: (edit) => db.versions.logAndApply(edit),
    onManifestFailure: (e) => db.failure.set(e, 'MANIFEST write during ingest failed'),
    installed: (fileNumbers) => {
      void db.tables.warm(fileNumbers);
      db.stall.levelsChanged();
      db.compactions.maybeSchedule();
      db.idleTrigger.arm(); // an L0 table may be among them, as after a flush
    },
    log: (line) => db.log.write(line),
  };
}
