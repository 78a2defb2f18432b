/**
 * The engine-neutral face the workloads drive: one adapter per engine (engine-stratadb.ts,
 * engine-classic-level.ts, engine-lmdb.ts), each using only that engine's public API the way an application would.
 * Contract: open() before anything else, one adapter per directory, close() is idempotent.
 * Keys and values passed in may be views of shared memory: an adapter must not keep them past the
 * returned promise (both engines copy on write). get() answers whether the key was found, so the
 * workloads can report found counts without keeping returned Buffers alive.
 * Not here: timing, key choice and reporting (workload-runner.ts, workloads.ts, report.ts).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export const ENGINE_NAMES = ['stratadb', 'classic-level', 'lmdb'] as const;
/** The engines `--compare` accepts (every engine but ours). */
export const PEER_NAMES = ['classic-level', 'lmdb'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** Options given on the command line; absent means the engine's own default. */
export interface EngineOptions {
  writeBufferSize?: number;
  cacheSize?: number;
  compression?: 'none' | 'lz4' | 'zstd';
  bloomBitsPerKey?: number;
  blockSize?: number;
}

/** Write counters from the engine's own stats (StrataDB only; classic-level has none comparable). */
export interface EngineWriteStats {
  userBytes: number;
  /** Bytes the engine wrote: WAL + flush + compaction. */
  engineBytes: number;
  stallMs: number;
  flushes: number;
  compactions: number;
}

export interface BenchIterator {
  /** The next entry or undefined at the end. */
  next(): Promise<[Uint8Array, Uint8Array] | undefined>;
  close(): Promise<void>;
}

export interface BenchEngine {
  readonly name: EngineName;
  /** Package version, for the report. */
  readonly version: string;
  /** Which options actually reached the engine (the others have no equivalent there). */
  readonly appliedOptions: Record<string, unknown>;
  open(dir: string): Promise<void>;
  put(key: Uint8Array, value: Uint8Array, sync: boolean): Promise<void>;
  get(key: Uint8Array): Promise<boolean>;
  del(key: Uint8Array): Promise<void>;
  /** One atomic batch of puts. */
  batchPut(keys: Uint8Array[], values: Uint8Array[], sync: boolean): Promise<void>;
  iterator(opts: { gte?: Uint8Array; reverse?: boolean; limit?: number }): BenchIterator;
  /**
   * Deletes every key in [gte, lt), the way an application of that engine would: one range
   * tombstone (StrataDB's deleteRange), clear({ gte, lt }) (classic-level, which deletes key by key
   * inside LevelDB), removes of the range's keys in one transaction (lmdb).
   */
  deleteRange(gte: Uint8Array, lt: Uint8Array): Promise<void>;
  /** Compacts every key down to the bottom (untimed: shows space reclaimed); absent when the engine has none. */
  compactAll?(): Promise<void>;
  close(): Promise<void>;
  writeStats(): EngineWriteStats | undefined;
  /**
   * Called (open, untimed) before each workload with whether its writes are synced. Only an engine
   * whose durability is set per database rather than per write (lmdb) needs it.
   */
  prepareWrites?(sync: boolean): Promise<void>;
}

/** Loads the adapter for `name`; rejects with a readable message when its package cannot load. */
export async function loadEngine(name: EngineName, options: EngineOptions): Promise<BenchEngine> {
  if (name === 'stratadb') {
    const m = await import('./engine-stratadb.js');
    return m.createStrataEngine(options);
  }
  if (name === 'lmdb') {
    const m = await import('./engine-lmdb.js');
    return m.createLmdbEngine(options);
  }
  const m = await import('./engine-classic-level.js');
  return m.createClassicLevelEngine(options);
}

/** Total bytes of the regular files under dir (what the database costs on disk). */
export async function diskBytes(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await diskBytes(p);
    else if (e.isFile()) total += (await stat(p)).size;
  }
  return total;
}
