/**
 * The public API of StrataDB: re-exports only (DESIGN.md "Public API").
 */
export {
  StrataError, ErrorCode, CorruptionError, IOError, InvalidArgumentError, LockedError,
  DatabaseClosedError, ReadOnlyError, TransactionConflictError, TooLargeError, NotSupportedError,
  AbortedError, InternalError, isStrataError,
} from './errors.js';
export type { ErrorCodeValue } from './errors.js';
export type {
  FileSystem, WritableFile, ReadableFile, FileStat, FileLock, OpenWritableOptions,
} from './fs/file-system.js';
