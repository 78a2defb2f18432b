/**
 * The engine's side of the CompactionHost interface (compaction/host.ts): what the compaction scheduler
 * may see and do. The engine's side, kept apart so engine.ts only wires it.
 */
import type { Engine } from './engine.js';
import type { CompactionHost } from '../../compaction/host.js';
import { tableOptionsFor } from '../table/table-options.js';
import { compactionBegin } from './compaction-events.js';

export function makeCompactionHost(db: Engine): CompactionHost {
  const o = db.o;
  return {
    dir: db.location,
    currentVersion: () => db.versions.current(),
    compactPointers: () => {
      const out: (Uint8Array | undefined)[] = [];
      for (let l = 0; l < o.numLevels; l++) out.push(db.versions.compactPointer(l));
      return out;
    },
    liveSnapshots: () => db.snapshots.sequences(),
    allocateOutput: () => {
      const n = db.versions.newFileNumber();
      db.pendingOutputs.add(n);
      return n;
    },
    unregisterOutput: (n) => { db.pendingOutputs.delete(n); },
    logAndApply: async (edit) => {
      await db.versions.logAndApply({ ...edit, lastSequence: db.versions.lastSequence });
      // Open the outputs before the inputs' readers go, so reads move over without a cold open.
      await db.tables.warm((edit.newFiles ?? []).map((f) => f.file.fileNumber));
    },
    deleteObsoleteFiles: () => db.deleteObsoleteFiles(),
    pickerOptions: () => ({
      numLevels: o.numLevels,
      level0CompactionTrigger: o.level0CompactionTrigger,
      maxBytesForLevelBase: o.maxBytesForLevelBase,
      levelMultiplier: o.levelMultiplier,
      targetFileSize: o.targetFileSize,
      levelCompactionDynamicLevelBytes: o.levelCompactionDynamicLevelBytes,
    }),
    outputOptions: (outputLevel) => ({
      targetFileSize: o.targetFileSize,
      maxGrandparentOverlapBytes: 10 * o.targetFileSize,
      table: tableOptionsFor(o, outputLevel),
      rateLimitBytesPerSec: o.compactionRateLimit,
      creationTimeMs: o.clock(),
      ...(o.compactionFilter ? { filter: o.compactionFilter } : {}),
      maxSubcompactions: o.maxSubcompactions,
      ...(db.keyRing ? {
        encryption: {
          currentKeyId: db.keyRing.currentKeyId(),
          keys: db.keyRing.snapshot(db.keyRing.resolvedIds()),
          allowPlaintext: db.keyRing.allowPlaintext,
        },
      } : {}),
    }),
    staleFiles: () => {
      const ring = db.keyRing;
      if (!ring) return undefined;
      let id: string;
      try { id = ring.currentKeyId(); } catch { return undefined; } // a provider failure only delays rewrites
      return (f) => f.keyId !== id;
    },
    prepareJob: async () => {
      if (db.keyRing) await db.keyRing.keyFor(db.keyRing.currentKeyId());
    },
    log: (m) => db.log.write(m),
    onCompactionBegin: (plan) => compactionBegin(db.events, plan),
    onCompaction: (s) => {
      const c = db.counters;
      c.compactions++;
      c.compactionBytesRead += s.bytesRead;
      c.compactionBytesWritten += s.bytesWritten;
      c.compactionMs += s.ms;
      if (s.trivialMove) c.trivialMoves++;
      c.filterRemoved += s.filteredRemoved ?? 0;
      c.filterChanged += s.filteredChanged ?? 0;
      if ((s.subcompactions ?? 1) > 1) c.subcompactions += s.subcompactions!;
      db.stall.levelsChanged();
    },
    onCompactionFailure: (e, isRetried) => {
      db.counters.backgroundErrors++;
      // Not retried: onFatalError follows, and the sticky failure is the one event.
      if (isRetried && db.events.listening('background-error')) {
        db.events.emit('background-error', {
          error: e instanceof Error ? e : new Error(String(e)), readOnly: false, reason: 'compaction failed (retried after a back-off)',
        });
      }
    },
    onFatalError: (e, what) => db.failure.set(e, what),
    isStopped: () => db.failure.error !== undefined || db.isClosed,
  };
}
