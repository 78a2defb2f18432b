/**
 * Every tunable of StrataDB: its type, default and validation, in one place (DESIGN.md "Options").
 * validateOptions() turns user input into a complete, frozen ResolvedOptions or throws
 * InvalidArgumentError naming the option and what was expected; nothing is opened before it passes.
 * The README's option reference mirrors this file.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encryptionArg, unknownOption } from './base/arguments.js';
import { InvalidArgumentError } from './errors.js';
import type { FileSystem } from './fs/file-system.js';
import type { KeyProvider } from './encryption/file-cipher.js';
import { MIN_MEMORY_BUDGET, splitMemoryBudget } from './memory-budget.js';
import { describeCompactionFilter, resolveCompactionFilter, type CompactionFilterOption, type CompactionFilterSpec } from './compaction-filter.js';

export type CompressionName = 'none' | 'lz4' | 'zstd';
export type WalRecoveryMode = 'point-in-time' | 'absolute' | 'tolerate-tail';
export type CompactionStyle = 'leveled' | 'tiered' | 'fifo';

export interface Options {
  createIfMissing?: boolean;
  errorIfExists?: boolean;
  /** No lock, no writes: a consistent view beside a live writer (README "Readers beside a writer"). */
  readOnly?: boolean;
  /** Flush the memtable at close, so the next open replays no WAL (RocksDB's default). */
  flushOnClose?: boolean;
  writeBufferSize?: number;
  maxWriteBufferNumber?: number;
  blockSize?: number;
  blockRestartInterval?: number;
  indexBlockRestartInterval?: number;
  bloomBitsPerKey?: number;
  /**
   * Partitioned index and filter blocks (table format 3; RocksDB's two-level index with partitioned
   * filters): an open table holds only a small top-level index, and index and filter partitions of
   * about metadataBlockSize are read through the block cache. false writes format-1 tables.
   */
  partitionedMetadata?: boolean;
  metadataBlockSize?: number;
  /**
   * A fixed byte count (RocksDB's fixed prefix extractor): table filters also hold each key's first
   * `prefixLength` bytes, so an iterator over one prefix skips tables that lack it. 0 = off. A number,
   * not a function: the filter is built in compaction workers, where no user function can go.
   */
  prefixLength?: number;
  compression?: CompressionName;
  compressionPerLevel?: CompressionName[];
  zstdLevel?: number;
  cacheSize?: number;
  targetFileSize?: number;
  maxBytesForLevelBase?: number;
  levelMultiplier?: number;
  numLevels?: number;
  level0CompactionTrigger?: number;
  level0SlowdownTrigger?: number;
  level0StopTrigger?: number;
  /** Compact L0 down once no write came for this long (0 = never); see idleCompactionL0Files. */
  idleCompactionDelayMs?: number;
  /** The fewest L0 files an idle compaction moves down. */
  idleCompactionL0Files?: number;
  maxBackgroundJobs?: number;
  compactionRateLimit?: number;
  maxKeySize?: number;
  maxValueSize?: number;
  delayedWriteRate?: number;
  levelCompactionDynamicLevelBytes?: boolean;
  /** Parsed table readers kept (CLOCK eviction, approximately least recently used); a readOnly DB also keeps one descriptor per table of its view regardless. */
  maxOpenFiles?: number;
  walRecoveryMode?: WalRecoveryMode;
  walArchiveDir?: string;
  walArchiveTtlMs?: number;
  walArchiveSizeLimit?: number;
  /**
   * Obsolete WAL files kept and reused (written over) for new WALs, RocksDB's recycle_log_file_num:
   * synced writes then overwrite instead of append, which makes each fdatasync cheaper. 0 (default)
   * deletes them. Needs a walRecoveryMode other than 'absolute' and no walArchiveDir (README).
   */
  recycleLogFileNum?: number;
  maxManifestFileSize?: number;
  /** Where flushes and compactions run: 'worker' (a worker_threads pool, real fs only), 'inline' (the main thread,
   * in slices), or 'auto' (worker on the real file system when the worker script is there, else inline).
   * The choice and its refusals: src/compaction-executor.ts. */
  compactionExecutor?: 'auto' | 'worker' | 'inline';
  /**
   * The compaction worker script, for apps that ship it somewhere other than beside the module that
   * starts it (a bundle: README "Bundling"). A path (relative to the working directory) or a file: URL.
   * Default: compaction/worker.js beside the package's executor module.
   */
  compactionWorkerPath?: string | URL;
  /**
   * Encryption at rest (AES-256-GCM on every table block and WAL/MANIFEST record, keys from the
   * provider by key id). `allowPlaintext`: also read files written without encryption (turning
   * encryption on for an existing database; compaction then rewrites its tables encrypted). Without
   * it a plaintext table, WAL or MANIFEST in an encrypted database is refused as corruption
   * (a swapped-in file must not pass as data).
   */
  encryption?: EncryptionOptions;
  /**
   * Compaction styles (README "Compaction styles"). 'leveled' (default), 'tiered' (RocksDB's universal:
   * sorted runs merged by size ratio and space amplification) or 'fifo' (tables dropped oldest first
   * past a size cap or an age). The tiered* options apply to 'tiered' and the fifo* ones to 'fifo';
   * given with another style they are refused (a setting that would silently do nothing is a bug).
   */
  compactionStyle?: CompactionStyle;
  /** Tiered: a run joins a merge while its size <= (accumulated size) x (100 + this) / 100. */
  tieredSizeRatio?: number;
  /** Tiered: the fewest and most sorted runs one size-ratio merge takes (0 = no upper limit). */
  tieredMinMergeWidth?: number;
  tieredMaxMergeWidth?: number;
  /** Tiered: merge everything once (all runs but the oldest) / oldest exceeds this percentage. */
  tieredMaxSizeAmplificationPercent?: number;
  /** FIFO: the oldest tables are dropped while all tables together hold more bytes than this. */
  fifoMaxTableFilesSize?: number;
  /** FIFO: tables whose newest write is older than this many ms are dropped (0 = no age limit). */
  fifoTtlMs?: number;
  /** FIFO: merge small L0 tables into one when L0 reaches level0CompactionTrigger files. */
  fifoAllowCompaction?: boolean;
  /**
   * Runs on every entry a compaction writes that no live snapshot can see: keep it, remove it, or
   * change its value (RocksDB's CompactionFilter; README "Compaction filters"). A module and export
   * the compaction workers import, or a built-in: ttl({ ms, fromValue? }). Flushes do not run it.
   */
  compactionFilter?: CompactionFilterOption;
  /** Pieces one compaction may be split into by key range, run in parallel on the worker pool (1 = never split). */
  maxSubcompactions?: number;
  /**
   * Memory (README "Memory"): `memoryBudget` (bytes, 0 = off) splits into writeBufferSize, cacheSize
   * and tableMetadataBudget by the shares of src/memory-budget.ts; any of those given explicitly wins.
   * `tableMetadataBudget` (bytes, 0 = only maxOpenFiles bounds it): index and filter blocks of open
   * table readers; readers past it are closed, least recently used first.
   */
  memoryBudget?: number;
  tableMetadataBudget?: number;
  /**
   * Flushes run in a worker (true, default), which reads a copy of the memtable in shared memory, or
   * on the main thread in 1 ms slices (false: no copy, no flush worker). memoryBudget makes it false
   * unless given.
   */
  flushInWorker?: boolean;
  /** Injectable seams (tests). */
  fs?: FileSystem;
  clock?: () => number;
}

export interface EncryptionOptions {
  keyProvider: KeyProvider;
  allowPlaintext?: boolean;
}

export interface ResolvedOptions extends Required<Omit<Options, 'fs' | 'walArchiveDir' | 'compressionPerLevel' | 'clock' | 'encryption' | 'compactionWorkerPath' | 'compactionFilter'>> {
  compactionFilter: CompactionFilterSpec | undefined;
  /** An absolute path, or undefined for the default. */
  compactionWorkerPath: string | undefined;
  encryption: { keyProvider: KeyProvider; allowPlaintext: boolean } | undefined;
  fs: FileSystem | undefined;
  walArchiveDir: string | undefined;
  compressionPerLevel: CompressionName[] | undefined;
  clock: () => number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

export const DEFAULT_OPTIONS = Object.freeze({
  createIfMissing: true,
  errorIfExists: false,
  readOnly: false,
  flushOnClose: true,
  writeBufferSize: 64 * MiB,
  maxWriteBufferNumber: 2,
  blockSize: 4 * KiB,
  blockRestartInterval: 16,
  indexBlockRestartInterval: 1,
  bloomBitsPerKey: 10,
  partitionedMetadata: true,
  metadataBlockSize: 4096,
  prefixLength: 0,
  compression: 'lz4' as CompressionName,
  zstdLevel: 3,
  cacheSize: 64 * MiB,
  targetFileSize: 64 * MiB,
  maxBytesForLevelBase: 256 * MiB,
  levelMultiplier: 10,
  numLevels: 7,
  level0CompactionTrigger: 4,
  level0SlowdownTrigger: 20,
  level0StopTrigger: 36,
  idleCompactionDelayMs: 1000,
  idleCompactionL0Files: 2,
  maxBackgroundJobs: 2,
  compactionRateLimit: 0,
  maxKeySize: 1 * MiB,
  maxValueSize: 512 * MiB,
  delayedWriteRate: 16 * MiB,
  levelCompactionDynamicLevelBytes: false,
  maxOpenFiles: 1000,
  walRecoveryMode: 'point-in-time' as WalRecoveryMode,
  walArchiveTtlMs: 0,
  walArchiveSizeLimit: 0,
  recycleLogFileNum: 0,
  maxManifestFileSize: 64 * MiB,
  compactionExecutor: 'auto' as 'auto' | 'worker' | 'inline',
  // Compaction styles; the numbers are RocksDB's defaults (universal and FIFO options).
  compactionStyle: 'leveled' as CompactionStyle,
  tieredSizeRatio: 1,
  tieredMinMergeWidth: 2,
  tieredMaxMergeWidth: 0,
  tieredMaxSizeAmplificationPercent: 200,
  fifoMaxTableFilesSize: 1024 * MiB,
  fifoTtlMs: 0,
  fifoAllowCompaction: false,
  maxSubcompactions: 1,
  memoryBudget: 0,
  tableMetadataBudget: 0,
  flushInWorker: true,
});

const COMPRESSIONS: readonly string[] = ['none', 'lz4', 'zstd'];
const RECOVERY_MODES: readonly string[] = ['point-in-time', 'absolute', 'tolerate-tail'];

type NumberRule = { min: number; max: number; integer?: boolean; allowMinusOne?: boolean };

const NUMBER_RULES: Record<string, NumberRule> = {
  writeBufferSize: { min: 4 * KiB, max: 4096 * MiB, integer: true },
  maxWriteBufferNumber: { min: 2, max: 64, integer: true },
  blockSize: { min: 64, max: 64 * MiB, integer: true },
  blockRestartInterval: { min: 1, max: 1024, integer: true },
  indexBlockRestartInterval: { min: 1, max: 1024, integer: true },
  bloomBitsPerKey: { min: 0, max: 30, integer: true },
  metadataBlockSize: { min: 256, max: 1 << 20, integer: true },
  prefixLength: { min: 0, max: 1024, integer: true },
  zstdLevel: { min: 1, max: 22, integer: true },
  cacheSize: { min: 0, max: 2 ** 46, integer: true },
  targetFileSize: { min: 4 * KiB, max: 4096 * MiB, integer: true },
  maxBytesForLevelBase: { min: 4 * KiB, max: 2 ** 46, integer: true },
  levelMultiplier: { min: 2, max: 100 },
  numLevels: { min: 2, max: 20, integer: true },
  level0CompactionTrigger: { min: 1, max: 1000, integer: true },
  level0SlowdownTrigger: { min: 1, max: 1000, integer: true },
  level0StopTrigger: { min: 1, max: 1000, integer: true },
  // Node's timers hold at most 2^31-1 ms.
  idleCompactionDelayMs: { min: 0, max: 2 ** 31 - 1, integer: true },
  idleCompactionL0Files: { min: 1, max: 1000, integer: true },
  maxBackgroundJobs: { min: 1, max: 64, integer: true },
  compactionRateLimit: { min: 0, max: 2 ** 46, integer: true },
  maxKeySize: { min: 1, max: 64 * MiB, integer: true },
  maxValueSize: { min: 1, max: 2 ** 32, integer: true },
  delayedWriteRate: { min: 1024, max: 2 ** 40, integer: true },
  maxOpenFiles: { min: 16, max: 1_000_000, integer: true, allowMinusOne: true },
  walArchiveTtlMs: { min: 0, max: 2 ** 50, integer: true },
  walArchiveSizeLimit: { min: 0, max: 2 ** 50, integer: true },
  recycleLogFileNum: { min: 0, max: 64, integer: true },
  maxManifestFileSize: { min: 4 * KiB, max: 2 ** 40, integer: true },
  tieredSizeRatio: { min: 0, max: 10_000, integer: true },
  tieredMinMergeWidth: { min: 2, max: 10_000, integer: true },
  tieredMaxMergeWidth: { min: 0, max: 10_000, integer: true },
  tieredMaxSizeAmplificationPercent: { min: 1, max: 1_000_000, integer: true },
  fifoMaxTableFilesSize: { min: 0, max: 2 ** 50, integer: true },
  fifoTtlMs: { min: 0, max: 2 ** 50, integer: true },
  maxSubcompactions: { min: 1, max: 64, integer: true },
  memoryBudget: { min: 0, max: 2 ** 46, integer: true },
  tableMetadataBudget: { min: 0, max: 2 ** 46, integer: true },
};

const BOOLEAN_OPTIONS = ['createIfMissing', 'errorIfExists', 'readOnly', 'flushOnClose', 'levelCompactionDynamicLevelBytes',
  'fifoAllowCompaction', 'flushInWorker', 'partitionedMetadata'];

/** Every option name DB.open accepts. */
export const KNOWN_OPTIONS: ReadonlySet<string> = new Set<string>([
  ...Object.keys(DEFAULT_OPTIONS), 'fs', 'clock', 'walArchiveDir', 'compressionPerLevel', 'encryption', 'compactionWorkerPath',
  'compactionFilter',
]);
const KNOWN = KNOWN_OPTIONS;

function bad(name: string, expected: string, got: unknown): never {
  const shown = typeof got === 'string' ? JSON.stringify(got) : String(got);
  throw new InvalidArgumentError(`option ${name} must be ${expected} (got ${shown})`);
}

/** Validates user options and fills defaults. Unknown option names are refused (a typo is a bug). */
export function validateOptions(input: Options | undefined): ResolvedOptions {
  if (input !== undefined && (input === null || typeof input !== 'object' || Array.isArray(input))) {
    throw new InvalidArgumentError('options must be an object');
  }
  const o = (input ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!KNOWN.has(k) && o[k] !== undefined) throw new InvalidArgumentError(unknownOption('options', k, KNOWN));
  }
  const out: Record<string, unknown> = { ...DEFAULT_OPTIONS };
  for (const [name, rule] of Object.entries(NUMBER_RULES)) {
    const v = o[name];
    if (v === undefined) continue;
    if (typeof v !== 'number' || Number.isNaN(v)) bad(name, 'a number', v);
    if (rule.allowMinusOne && v === -1) { out[name] = v; continue; }
    if (rule.integer && !Number.isInteger(v)) bad(name, 'an integer', v);
    if (v < rule.min || v > rule.max) bad(name, `between ${rule.min} and ${rule.max}`, v);
    out[name] = v;
  }
  for (const name of BOOLEAN_OPTIONS) {
    const v = o[name];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') bad(name, 'a boolean', v);
    out[name] = v;
  }
  if (o['compression'] !== undefined) {
    if (typeof o['compression'] !== 'string' || !COMPRESSIONS.includes(o['compression'])) {
      bad('compression', "'none', 'lz4' or 'zstd'", o['compression']);
    }
    out['compression'] = o['compression'];
  }
  out['compressionPerLevel'] = undefined;
  if (o['compressionPerLevel'] !== undefined) {
    const v = o['compressionPerLevel'];
    if (!Array.isArray(v) || v.some((c) => typeof c !== 'string' || !COMPRESSIONS.includes(c))) {
      bad('compressionPerLevel', "an array of 'none' | 'lz4' | 'zstd'", v);
    }
    out['compressionPerLevel'] = [...v] as CompressionName[];
  }
  if (o['compactionExecutor'] !== undefined) {
    if (!['auto', 'worker', 'inline'].includes(o['compactionExecutor'] as string)) {
      bad('compactionExecutor', "'auto', 'worker' or 'inline'", o['compactionExecutor']);
    }
    out['compactionExecutor'] = o['compactionExecutor'];
  }
  out['compactionWorkerPath'] = undefined;
  if (o['compactionWorkerPath'] !== undefined) {
    const v = o['compactionWorkerPath'];
    if (v instanceof URL && v.protocol === 'file:') out['compactionWorkerPath'] = fileURLToPath(v);
    else if (typeof v === 'string' && v !== '') out['compactionWorkerPath'] = path.resolve(v);
    else bad('compactionWorkerPath', 'a file path or a file: URL', v instanceof URL ? v.href : v);
  }
  if (o['walRecoveryMode'] !== undefined) {
    if (typeof o['walRecoveryMode'] !== 'string' || !RECOVERY_MODES.includes(o['walRecoveryMode'])) {
      bad('walRecoveryMode', "'point-in-time', 'absolute' or 'tolerate-tail'", o['walRecoveryMode']);
    }
    out['walRecoveryMode'] = o['walRecoveryMode'];
  }
  out['walArchiveDir'] = undefined;
  if (o['walArchiveDir'] !== undefined) {
    if (typeof o['walArchiveDir'] !== 'string' || o['walArchiveDir'] === '') bad('walArchiveDir', 'a directory path', o['walArchiveDir']);
    out['walArchiveDir'] = o['walArchiveDir'];
  }
  out['encryption'] = undefined;
  if (o['encryption'] !== undefined) {
    const e = encryptionArg<KeyProvider>(o['encryption'], false)!;
    out['encryption'] = Object.freeze(e);
  }
  out['compactionFilter'] = resolveCompactionFilter(o['compactionFilter']);
  out['fs'] = undefined;
  if (o['fs'] !== undefined) {
    const f = o['fs'] as Record<string, unknown>;
    if (typeof f !== 'object' || f === null || typeof f['openWritable'] !== 'function') bad('fs', 'a FileSystem', f);
    out['fs'] = f;
  }
  out['clock'] = Date.now;
  if (o['clock'] !== undefined) {
    if (typeof o['clock'] !== 'function') bad('clock', 'a function returning ms since the epoch', o['clock']);
    out['clock'] = o['clock'];
  }
  const r = out as unknown as ResolvedOptions;
  if (r.level0SlowdownTrigger < r.level0CompactionTrigger) {
    bad('level0SlowdownTrigger', `>= level0CompactionTrigger (${r.level0CompactionTrigger})`, r.level0SlowdownTrigger);
  }
  if (r.level0StopTrigger < r.level0SlowdownTrigger) {
    bad('level0StopTrigger', `>= level0SlowdownTrigger (${r.level0SlowdownTrigger})`, r.level0StopTrigger);
  }
  if (r.compressionPerLevel && r.compressionPerLevel.length > r.numLevels) {
    bad('compressionPerLevel', `at most numLevels (${r.numLevels}) entries`, r.compressionPerLevel.length);
  }
  // In a reused WAL an unsynced write cut short looks exactly like the previous use's bytes, so
  // 'absolute' could not refuse a torn tail there; and a reuse would overwrite an archived (linked) WAL.
  compactionStyleRules(o, r);
  memoryBudgetRules(o, r);
  if (r.recycleLogFileNum > 0 && r.walRecoveryMode === 'absolute') {
    bad('recycleLogFileNum', "0 with walRecoveryMode 'absolute'", r.recycleLogFileNum);
  }
  if (r.recycleLogFileNum > 0 && r.walArchiveDir !== undefined) {
    bad('recycleLogFileNum', '0 with walArchiveDir (a reused WAL would overwrite its archived copy)', r.recycleLogFileNum);
  }
  return Object.freeze(r);
}

/** memoryBudget: refused below MIN_MEMORY_BUDGET (0 is off); else it sizes what was not given. */
function memoryBudgetRules(o: Record<string, unknown>, r: ResolvedOptions): void {
  if (r.memoryBudget === 0) return;
  if (r.memoryBudget < MIN_MEMORY_BUDGET) bad('memoryBudget', `0 (off) or at least ${MIN_MEMORY_BUDGET} bytes`, r.memoryBudget);
  const given = (k: 'writeBufferSize' | 'cacheSize' | 'tableMetadataBudget'): number | undefined =>
    o[k] === undefined ? undefined : r[k];
  if (o['flushInWorker'] === undefined) r.flushInWorker = false;
  Object.assign(r, splitMemoryBudget(r.memoryBudget, r.maxWriteBufferNumber + (r.flushInWorker ? 1 : 0), {
    writeBufferSize: given('writeBufferSize'), cacheSize: given('cacheSize'), tableMetadataBudget: given('tableMetadataBudget'),
  }));
}

const STYLES: readonly string[] = ['leveled', 'tiered', 'fifo'];

/**
 * compactionStyle and its own options: a tiered* option given with another style, or a fifo* one, is
 * refused rather than ignored (a user who sets fifoTtlMs on a leveled database expects expiry).
 */
function compactionStyleRules(o: Record<string, unknown>, r: ResolvedOptions): void {
  const style = o['compactionStyle'];
  if (style !== undefined) {
    if (typeof style !== 'string' || !STYLES.includes(style)) bad('compactionStyle', "'leveled', 'tiered' or 'fifo'", style);
    (r as { compactionStyle: CompactionStyle }).compactionStyle = style as CompactionStyle;
  }
  for (const [prefix, owner] of [['tiered', 'tiered'], ['fifo', 'fifo']] as const) {
    for (const k of Object.keys(o)) {
      if (k.startsWith(prefix) && o[k] !== undefined && r.compactionStyle !== owner) {
        bad(k, `given only with compactionStyle '${owner}' (compactionStyle is '${r.compactionStyle}')`, o[k]);
      }
    }
  }
  if (r.tieredMaxMergeWidth !== 0 && r.tieredMaxMergeWidth < r.tieredMinMergeWidth) {
    bad('tieredMaxMergeWidth', `0 (no limit) or >= tieredMinMergeWidth (${r.tieredMinMergeWidth})`, r.tieredMaxMergeWidth);
  }
}

/** Options as text for the LOG header and the OPTIONS file (no functions, no file system). */
export function describeOptions(o: ResolvedOptions): string {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (k === 'fs' || k === 'clock') continue;
    if (k === 'encryption') { // never the provider (it may hold keys)
      lines.push(`encryption=${v ? `aes-256-gcm${(v as { allowPlaintext: boolean }).allowPlaintext ? ' (plaintext files readable)' : ''}` : 'off'}`);
      continue;
    }
    if (k === 'compactionFilter') { lines.push(`${k}=${describeCompactionFilter(v as CompactionFilterSpec | undefined)}`); continue; }
    lines.push(`${k}=${Array.isArray(v) ? v.join(',') : String(v)}`);
  }
  return lines.join('\n');
}
