/**
 * The public API of StrataDB: re-exports only (DESIGN.md "Public API").
 */
export { DB } from './db.js';
export type { Key, WriteOptions, ReadOptions, IteratorOptions } from './db.js';
export type { UpdatesOptions } from './db.js';
export { WalUpdatesIterator } from './engine/wal-tail.js';
export type { WalUpdate, WalUpdateOp } from './engine/wal-tail.js';
export { WriteBatch } from './wal/write-batch.js';
export { Snapshot } from './mvcc/snapshot-list.js';
export { Transaction } from './mvcc/transaction.js';
export type { Isolation, Locking, TransactionOptions, TransactionReadOptions, TransactionIteratorOptions } from './mvcc/transaction.js';
export type { RunTransactionOptions, Backoff } from './engine/transaction-runner.js';
export { StrataIterator } from './iterator/strata-iterator.js';
export type { DBStats, LevelStats } from './engine/stats.js';
export type { MemoryStats } from './engine/memory-stats.js';
export type { DestroyResult } from './engine/destroy.js';
export type { IngestOptions, IngestResult } from './engine/ingest.js';
export type { RepairReport } from './engine/repair.js';
export type {
  DBEventMap, FlushEvent, CompactionEvent, CompactionReason, StallEvent, StallReason, BackgroundErrorEvent,
} from './engine/engine-events.js';
export type { Options, CompressionName, WalRecoveryMode } from './options.js';
export { DEFAULT_OPTIONS } from './options.js';
export { ttl } from './compaction-filter.js';
export type {
  CompactionFilterOption, CompactionFilterDecision, CompactionFilterFunction, TtlFilterSpec, TtlFromValue,
} from './compaction-filter.js';
export {
  StrataError, ErrorCode, CorruptionError, IOError, InvalidArgumentError, LockedError,
  DatabaseClosedError, ReadOnlyError, TransactionConflictError, DeadlockError, LockTimeoutError, TooLargeError, NotSupportedError,
  AbortedError, BusyError, InternalError, isStrataError,
} from './errors.js';
export type { ErrorCodeValue } from './errors.js';
export type {
  FileSystem, WritableFile, ReadableFile, FileStat, FileLock, OpenWritableOptions,
} from './fs/file-system.js';
export { NodeFileSystem } from './fs/node-fs.js';
export { MemFileSystem } from './fs/mem-fs.js';
export { FaultFileSystem } from './fs/fault-fs.js';
export * as inspect from './inspect.js';
export { BackupEngine } from './backup/backup-engine.js';
export { LruCache } from './cache/lru-cache.js';
export type { BackupInfo, BackupOptions, BackupProgress, RestoreOptions } from './backup/backup-engine.js';
export type { CheckpointInfo } from './backup/checkpoint.js';
export type { KeyProvider } from './encryption/file-cipher.js';
export type { EncryptionOptions } from './options.js';
export { keyProviderFromFile, keyProviderFromEnv, staticKeyProvider, keyFingerprint } from './encryption/key-providers.js';
