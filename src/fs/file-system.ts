/**
 * The FileSystem seam: every byte the engine reads or writes goes through this interface, so tests
 * can swap in MemFileSystem (crash clones: what a power cut leaves) or FaultFileSystem (injected
 * EIO/ENOSPC). Implementations: node-fs.ts (real), mem-fs.ts, fault-fs.ts.
 *
 * Contract:
 * - Paths are absolute or relative strings joined with node:path; implementations normalise them.
 * - Errors are StrataErrors: IOError (ERR_IO, the OS error as `cause`) for refused operations,
 *   LockedError for a held lock. A missing file on open/read/remove is an IOError whose `cause`
 *   has code 'ENOENT' (use isNotFound()).
 * - WritableFile.append is a synchronous write(2) of all bytes (DESIGN.md: the WAL leader appends
 *   synchronously; only the fdatasync is async). Bytes appended are visible to readers at once
 *   (page cache) but survive a power cut only after sync().
 * - Creating or renaming a file is durable only after syncDir() on its directory.
 */

export interface WritableFile {
  readonly path: string;
  /** Bytes written so far (including the size the file had when opened for append). */
  readonly size: number;
  /** Writes all of data at the end of the file, synchronously. Throws IOError. */
  append(data: Uint8Array): void;
  /** fdatasync: appended bytes survive a power cut once this resolves. */
  sync(): Promise<void>;
  /** Closes the handle; does not sync. Idempotent. */
  close(): Promise<void>;
}

export interface ReadableFile {
  readonly path: string;
  /** Size when opened (files we read are immutable, or only appended to). */
  readonly size: number;
  /** Reads up to `length` bytes at `offset`; fewer only at end of file. Returns a new array. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Synchronous twin of read(), for the sync read path (page-cache hits cost a few µs). */
  readSync(offset: number, length: number): Uint8Array;
  /**
   * readSync() into the caller's buffer: fills `into` from index 0 with up to into.length bytes at
   * `offset` and returns how many it read (fewer only at end of file). Optional: a reader that reads
   * many blocks in a row uses it to skip a fresh allocation per read, and falls back to readSync().
   */
  readSyncInto?(offset: number, into: Uint8Array): number;
  close(): Promise<void>;
}

export interface FileStat {
  size: number;
  isDirectory: boolean;
}

export interface FileLock {
  readonly path: string;
  release(): Promise<void>;
}

export interface OpenWritableOptions {
  /** Fail with IOError (cause code EEXIST) if the file exists. */
  exclusive?: boolean;
  /** Keep existing contents and append (default: truncate). */
  append?: boolean;
  /**
   * Keep existing contents and write over them from offset 0 (size counts from 0): a reused file
   * whose blocks are already allocated, so a write then sync changes no file size or metadata.
   */
  overwrite?: boolean;
}

export interface FileSystem {
  openWritable(path: string, options?: OpenWritableOptions): Promise<WritableFile>;
  openReadable(path: string): Promise<ReadableFile>;
  /** Whole-file read (small files: CURRENT, OPTIONS, backup metadata). */
  readFile(path: string): Promise<Uint8Array>;
  /** Entry names (not paths) in a directory, sorted. */
  list(dir: string): Promise<string[]>;
  exists(path: string): Promise<boolean>;
  stat(path: string): Promise<FileStat>;
  /** Atomic replace of `to` by `from`. */
  rename(from: string, to: string): Promise<void>;
  /**
   * Cuts the file at `path` to `length` bytes (zero-extends it when longer) in place, and makes that
   * durable (an fsync of the file) before resolving. Needs no free space to shrink a file, unlike a
   * rewrite through a temp file. Missing file: IOError with ENOENT cause.
   */
  truncate(path: string, length: number): Promise<void>;
  /** Removes a file (not a directory). Missing file: IOError with ENOENT cause. */
  remove(path: string): Promise<void>;
  /** Removes an empty directory. */
  removeDir(path: string): Promise<void>;
  mkdir(path: string, options?: { recursive?: boolean }): Promise<void>;
  /** fsync of a directory, making creates/renames/removes in it durable. */
  syncDir(path: string): Promise<void>;
  /** Hard link; rejects with NotSupportedError when the FS cannot (EXDEV, EPERM): callers copy. */
  link(existingPath: string, newPath: string): Promise<void>;
  /**
   * Takes the database lock at `path` (the LOCK file). Rejects with LockedError when another live
   * process, or another open in this process, holds it. Released by release() or by the holder's death.
   */
  lock(path: string): Promise<FileLock>;
}

/** True when e is (or wraps) a missing-file error. */
export function isNotFound(e: unknown): boolean {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur; i++) {
    if (typeof cur === 'object' && cur !== null && (cur as { code?: unknown }).code === 'ENOENT') return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}
