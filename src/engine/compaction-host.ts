/**
 * The engine's side of the CompactionHost interface (compaction/host.ts): what the compaction scheduler
 * may see and do. The engine's side, kept apart so engine.ts only wires it. Also what the compaction
 * style (option compactionStyle) means to the engine: the pickers' configuration and what write stalls
 * count.
 */
import type { Engine } from './engine.js';
import type { CompactionHost } from '../../compaction/host.js';
import { tableOptionsFor } from '../table/table-options.js';
import { compactionBegin } from './compaction-events.js';
import type { ResolvedOptions } from '../options.js';
import type { Levels } from '../manifest/version.js';
import type { StyleConfig } from '../../compaction/style-picker.js';
import { sortedRunCount } from '../../compaction/tiered-picker.js';

/** The compaction style's picker configuration from the options (compaction/style-picker.ts). */
export function styleConfig(o: ResolvedOptions): StyleConfig {
  if (o.compactionStyle === 'tiered') {
    return {
      style: 'tiered',
      tiered: {
        numLevels: o.numLevels, level0CompactionTrigger: o.level0CompactionTrigger, sizeRatio: o.tieredSizeRatio,
        minMergeWidth: o.tieredMinMergeWidth, maxMergeWidth: o.tieredMaxMergeWidth,
        maxSizeAmplificationPercent: o.tieredMaxSizeAmplificationPercent,
      },
    };
  }
  if (o.compactionStyle === 'fifo') {
    return {
      style: 'fifo',
      fifo: {
        maxTableFilesSize: o.fifoMaxTableFilesSize, ttlMs: o.fifoTtlMs, allowCompaction: o.fifoAllowCompaction,
        level0CompactionTrigger: o.level0CompactionTrigger, maxMergeBytes: o.targetFileSize,
      },
    };
  }
  return { style: 'leveled' };
}

/**
 * What write stalls count against level0SlowdownTrigger / level0StopTrigger: L0 tables (leveled), sorted
 * runs (tiered: each costs a read a probe, as RocksDB's universal style counts them), nothing in FIFO
 * (its drops and optional merges need no compaction to catch up, so writes never wait on them).
 */
export function stallCount(o: ResolvedOptions, levels: Levels): number {
  if (o.compactionStyle === 'fifo') return 0;
  if (o.compactionStyle === 'tiered') return sortedRunCount(levels);
  return levels[0]?.length ?? 0;
}

export function makeCompactionHost(db: Engine): CompactionHost {
  const o = db.o;
  const style = styleConfig(o);
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
      // A compaction writes no new sequence: the MANIFEST's recorded one stands.
      await db.versions.logAndApply(edit);
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
    compactionStyle: () => style,
    nowMs: () => o.clock(),
    onFifoDrop: (files, bytes) => {
      db.counters.fifoDrops++;
      db.counters.fifoDroppedFiles += files;
      db.counters.fifoDroppedBytes += bytes;
      db.stall.levelsChanged();
    },
    outputOptions: (outputLevel) => ({
      // An L0 output (tiered, FIFO) is one table: several would overlap in sequence numbers, and L0 order
      // and each table's place in the tiered age order would be lost.
      targetFileSize: outputLevel === 0 && o.compactionStyle !== 'leveled' ? Number.MAX_SAFE_INTEGER : o.targetFileSize,
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
