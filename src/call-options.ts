/**
 * The options each public call takes: their types, and the names each call knows (an unknown name is
 * ERR_INVALID_ARGUMENT naming it, as at open: src/base/arguments.ts optionsArg). One list per call,
 * here, so the facade (src/db.ts) and its types cannot disagree.
 */
import type { Snapshot } from './mvcc/snapshot-list.js';

export type Key = Uint8Array | string;

export interface WriteOptions { sync?: boolean }
/** getUpdatesSince() options: once `signal` fires, next() rejects with ERR_ABORTED and the WALs are released. */
export interface UpdatesOptions { signal?: AbortSignal }
/** `signal`: an AbortSignal; once it fires the read rejects with ERR_ABORTED (a read in flight is dropped). */
export interface ReadOptions { snapshot?: Snapshot; signal?: AbortSignal }
export interface IteratorOptions {
  gt?: Key; gte?: Key; lt?: Key; lte?: Key;
  reverse?: boolean;
  limit?: number;
  snapshot?: Snapshot;
  /** Once it fires, the next next()/nextv() rejects with ERR_ABORTED and the iterator is closed. */
  signal?: AbortSignal;
  /**
   * Only keys starting with these bytes: gte = prefix, lt = its successor (no upper bound for an
   * all-0xff prefix). With gt/gte/lt/lte too, the range is their intersection.
   */
  prefix?: Key;
}

export const WRITE_OPTIONS = ['sync'] as const;
export const READ_OPTIONS = ['snapshot', 'signal'] as const;
export const ITERATOR_OPTIONS = ['gt', 'gte', 'lt', 'lte', 'reverse', 'limit', 'snapshot', 'signal', 'prefix'] as const;
export const TRANSACTION_OPTIONS = ['isolation', 'sync', 'locking', 'lockTimeoutMs'] as const;
export const RUN_TRANSACTION_OPTIONS = [...TRANSACTION_OPTIONS, 'retries', 'backoff'] as const;
export const BACKUP_OPTIONS = ['onProgress', 'signal'] as const;
export const ROTATE_KEY_OPTIONS = ['rewrite'] as const;
export const VERIFY_OPTIONS = ['onCorruption'] as const;
export const DESTROY_OPTIONS = ['fs'] as const;
export const UPDATES_OPTIONS = ['signal'] as const;
export const INGEST_OPTIONS = ['move'] as const;
