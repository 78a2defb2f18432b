/**
 * PassThroughFileSystem: a FileSystem that forwards every call to `inner`, for test wrappers that
 * change one or two operations (hold a sync, fail an append, park an open) and pass the rest
 * through. Extend it and override what the test needs; a method added to the FileSystem interface
 * is then forwarded here once, not in every wrapper. `wrapWritable` lets a subclass wrap the files
 * openWritable returns (the common case: hooking append or sync).
 */
import type {
  FileLock, FileStat, FileSystem, OpenWritableOptions, ReadableFile, WritableFile,
} from '../../src/fs/file-system.js';

export class PassThroughFileSystem implements FileSystem {
  constructor(readonly inner: FileSystem) {}

  async openWritable(p: string, o?: OpenWritableOptions): Promise<WritableFile> {
    return this.wrapWritable(p, await this.inner.openWritable(p, o));
  }
  /** The writable file handed out for `p` (default: the inner one as it is). */
  protected wrapWritable(_p: string, f: WritableFile): WritableFile { return f; }

  openReadable(p: string): Promise<ReadableFile> { return this.inner.openReadable(p); }
  readFile(p: string): Promise<Uint8Array> { return this.inner.readFile(p); }
  list(d: string): Promise<string[]> { return this.inner.list(d); }
  exists(p: string): Promise<boolean> { return this.inner.exists(p); }
  stat(p: string): Promise<FileStat> { return this.inner.stat(p); }
  rename(a: string, b: string): Promise<void> { return this.inner.rename(a, b); }
  truncate(p: string, n: number): Promise<void> { return this.inner.truncate(p, n); }
  remove(p: string): Promise<void> { return this.inner.remove(p); }
  removeDir(p: string): Promise<void> { return this.inner.removeDir(p); }
  mkdir(p: string, o?: { recursive?: boolean }): Promise<void> { return this.inner.mkdir(p, o); }
  syncDir(p: string): Promise<void> { return this.inner.syncDir(p); }
  link(a: string, b: string): Promise<void> { return this.inner.link(a, b); }
  lock(p: string): Promise<FileLock> { return this.inner.lock(p); }
}

/** A writable file like `f` whose append and sync go through the given functions. */
export function writableWith(
  f: WritableFile,
  hooks: { append?: (d: Uint8Array) => void; sync?: () => Promise<void> },
): WritableFile {
  return {
    get path() { return f.path; },
    get size() { return f.size; },
    append: hooks.append ?? ((d) => f.append(d)),
    sync: hooks.sync ?? (() => f.sync()),
    close: () => f.close(),
  };
}
