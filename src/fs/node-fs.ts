/**
 * NodeFileSystem: the FileSystem on the real disk, through node:fs (Options.fs defaults to it).
 * Contract: file-system.ts. Every OS error becomes an IOError naming the operation and path, with
 * the Node error (its `code`: ENOENT, ENOSPC, EIO...) as `cause`; link() failures that mean "this
 * file system cannot hard-link" become NotSupportedError so callers copy instead.
 *
 * - append() is a synchronous positional write(2) loop at the tracked size (DESIGN.md "Build and
 *   runtime facts": the WAL leader writes synchronously, only fdatasync goes to the thread pool).
 *   Files are never opened O_APPEND: on Linux pwrite ignores the position under O_APPEND, so the
 *   append option opens without truncation and starts writing at the size fstat reports.
 * - Reads return Buffers (Uint8Arrays) that own their memory (allocUnsafeSlow, not the shared pool,
 *   so a caller may transfer `.buffer` to a worker) and are never larger than the file: a length
 *   read from a corrupt file cannot make us allocate gigabytes.
 * - Main thread or a worker: no shared state (the LOCK is a kernel lock, node-lock.ts).
 * Not here: the LOCK itself (node-lock.ts: a kernel lock on the LOCK file).
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { IOError, NotSupportedError } from '../errors.js';
import type {
  FileLock, FileStat, FileSystem, OpenWritableOptions, ReadableFile, WritableFile,
} from './file-system.js';
import { acquireLock } from './node-lock.js';

/** Largest single read(2)/write(2) we issue; Node refuses lengths above 2^31 - 1. */
const MAX_IO_CHUNK = 1 << 30;

/** Errors from link() that mean "use a copy instead" rather than a failure. */
const LINK_UNSUPPORTED = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK']);

/** Wraps an OS error from `op` on `p` as an IOError (the original as cause). */
function ioError(op: string, p: string, e: unknown): IOError {
  const detail = e instanceof Error ? e.message : String(e);
  return new IOError(`${op} failed for ${p}: ${detail}`, { cause: e, path: p });
}

function badFd(op: string, p: string): IOError {
  const cause = Object.assign(new Error(`EBADF: file is closed, ${op} '${p}'`), { code: 'EBADF' });
  return new IOError(`${op} failed for ${p}: the file is closed`, { cause, path: p });
}

function invalidRange(p: string, offset: number, length: number): IOError {
  const cause = Object.assign(new Error(`EINVAL: bad range ${offset}+${length}, read '${p}'`), { code: 'EINVAL' });
  return new IOError(`read failed for ${p}: bad range offset ${offset} length ${length}`, { cause, path: p });
}

/** Runs a node:fs callback-style call as a Promise, mapping its error. */
function call<T>(op: string, p: string, fn: (cb: (err: NodeJS.ErrnoException | null, v: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    fn((err, v) => (err ? reject(ioError(op, p, err)) : resolve(v)));
  });
}

export class NodeFileSystem implements FileSystem {
  async openWritable(p: string, options: OpenWritableOptions = {}): Promise<WritableFile> {
    const { O_WRONLY, O_CREAT, O_TRUNC, O_EXCL } = fs.constants;
    let flags = O_WRONLY | O_CREAT;
    if (!options.append && !options.overwrite) flags |= O_TRUNC;
    if (options.exclusive) flags |= O_EXCL;
    const fd = await call<number>('open', p, (cb) => fs.open(p, flags, 0o644, cb));
    let size = 0;
    if (options.append) {
      try {
        size = fs.fstatSync(fd).size;
      } catch (e) {
        fs.closeSync(fd);
        throw ioError('fstat', p, e);
      }
    }
    return new NodeWritableFile(p, fd, size);
  }

  async openReadable(p: string): Promise<ReadableFile> {
    const fd = await call<number>('open', p, (cb) => fs.open(p, 'r', cb));
    let size: number;
    try {
      size = fs.fstatSync(fd).size;
    } catch (e) {
      fs.closeSync(fd);
      throw ioError('fstat', p, e);
    }
    return new NodeReadableFile(p, fd, size);
  }

  async readFile(p: string): Promise<Uint8Array> {
    return call<Buffer>('read', p, (cb) => fs.readFile(p, cb));
  }

  async list(dir: string): Promise<string[]> {
    try {
      return (await fsp.readdir(dir)).sort();
    } catch (e) {
      throw ioError('list', dir, e);
    }
  }

  async exists(p: string): Promise<boolean> {
    try {
      await fsp.stat(p);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return false;
      throw ioError('stat', p, e);
    }
  }

  async stat(p: string): Promise<FileStat> {
    try {
      const s = await fsp.stat(p);
      return { size: s.size, isDirectory: s.isDirectory() };
    } catch (e) {
      throw ioError('stat', p, e);
    }
  }

  async rename(from: string, to: string): Promise<void> {
    try {
      await fsp.rename(from, to);
    } catch (e) {
      throw ioError('rename', `${from} -> ${to}`, e);
    }
  }

  async truncate(p: string, length: number): Promise<void> {
    let handle: fsp.FileHandle | undefined;
    try {
      handle = await fsp.open(p, 'r+');
      await handle.truncate(length);
      await handle.sync();
    } catch (e) {
      throw ioError('truncate', p, e);
    } finally {
      await handle?.close().catch(() => undefined);
    }
  }

  async remove(p: string): Promise<void> {
    try {
      await fsp.unlink(p);
    } catch (e) {
      throw ioError('remove', p, e);
    }
  }

  async removeDir(p: string): Promise<void> {
    try {
      await fsp.rmdir(p);
    } catch (e) {
      throw ioError('removeDir', p, e);
    }
  }

  async mkdir(p: string, options: { recursive?: boolean } = {}): Promise<void> {
    try {
      await fsp.mkdir(p, { recursive: options.recursive === true });
    } catch (e) {
      throw ioError('mkdir', p, e);
    }
  }

  async syncDir(p: string): Promise<void> {
    // O_RDONLY is enough for fsync on a directory fd on Linux and macOS.
    const fd = await call<number>('syncDir', p, (cb) => fs.open(p, fs.constants.O_RDONLY, cb));
    try {
      await call<void>('syncDir', p, (cb) => fs.fsync(fd, (err) => cb(err, undefined)));
    } finally {
      await call<void>('close', p, (cb) => fs.close(fd, (err) => cb(err, undefined))).catch(() => {});
    }
  }

  async link(existingPath: string, newPath: string): Promise<void> {
    try {
      await fsp.link(existingPath, newPath);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== undefined && LINK_UNSUPPORTED.has(code)) {
        throw new NotSupportedError(`cannot hard-link ${existingPath} -> ${newPath}: ${code}`, { cause: e });
      }
      throw ioError('link', `${existingPath} -> ${newPath}`, e);
    }
  }

  lock(p: string): Promise<FileLock> {
    return acquireLock(p);
  }
}

class NodeWritableFile implements WritableFile {
  private fd: number | undefined;
  private pendingSyncs = 0;
  private drained: (() => void) | undefined;

  constructor(readonly path: string, fd: number, private bytes: number) {
    this.fd = fd;
  }

  get size(): number {
    return this.bytes;
  }

  append(data: Uint8Array): void {
    const fd = this.fd;
    if (fd === undefined) throw badFd('append', this.path);
    let done = 0;
    while (done < data.length) {
      let n: number;
      try {
        n = fs.writeSync(fd, data, done, Math.min(data.length - done, MAX_IO_CHUNK), this.bytes);
      } catch (e) {
        throw ioError('append', this.path, e);
      }
      // A regular file never legitimately writes 0 bytes; looping on it would spin forever.
      if (n <= 0) throw ioError('append', this.path, new Error(`write(2) wrote ${n} bytes`));
      done += n;
      // Count what reached the file even if a later chunk fails: the size must match the file.
      this.bytes += n;
    }
  }

  async sync(): Promise<void> {
    const fd = this.fd;
    if (fd === undefined) throw badFd('sync', this.path);
    this.pendingSyncs++;
    try {
      await call<void>('sync', this.path, (cb) => fs.fdatasync(fd, (err) => cb(err, undefined)));
    } finally {
      if (--this.pendingSyncs === 0) this.drained?.();
    }
  }

  async close(): Promise<void> {
    const fd = this.fd;
    if (fd === undefined) return;
    this.fd = undefined;
    // NB: closing under an in-flight fdatasync would let the fd number be reused by another open
    // and the sync land on the wrong file; wait for the syncs first.
    if (this.pendingSyncs > 0) await new Promise<void>((r) => (this.drained = r));
    await call<void>('close', this.path, (cb) => fs.close(fd, (err) => cb(err, undefined)));
  }
}

class NodeReadableFile implements ReadableFile {
  private fd: number | undefined;
  private pendingReads = 0;
  private drained: (() => void) | undefined;

  constructor(readonly path: string, fd: number, readonly size: number) {
    this.fd = fd;
  }

  /** Bytes to allocate for a read at offset: never past the end of the file. */
  private clampLength(fd: number, offset: number, length: number): number {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw invalidRange(this.path, offset, length);
    }
    let end = this.size;
    // Only appended-to files (a WAL being tailed) grow past the size seen at open.
    if (offset + length > end) {
      try {
        end = fs.fstatSync(fd).size;
      } catch (e) {
        throw ioError('read', this.path, e);
      }
    }
    return Math.max(0, Math.min(length, end - offset));
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const fd = this.fd;
    if (fd === undefined) throw badFd('read', this.path);
    const want = this.clampLength(fd, offset, length);
    const buf = Buffer.allocUnsafeSlow(want);
    let got = 0;
    this.pendingReads++;
    try {
      while (got < want) {
        const n = await call<number>('read', this.path, (cb) =>
          fs.read(fd, buf, got, Math.min(want - got, MAX_IO_CHUNK), offset + got, cb));
        if (n === 0) break; // end of file (it shrank): return what exists
        got += n;
      }
    } finally {
      if (--this.pendingReads === 0) this.drained?.();
    }
    return got === want ? buf : buf.subarray(0, got);
  }

  readSync(offset: number, length: number): Uint8Array {
    const fd = this.fd;
    if (fd === undefined) throw badFd('read', this.path);
    const buf = Buffer.allocUnsafeSlow(this.clampLength(fd, offset, length));
    const got = this.readInto(fd, offset, buf, buf.length);
    return got === buf.length ? buf : buf.subarray(0, got);
  }

  readSyncInto(offset: number, into: Uint8Array): number {
    const fd = this.fd;
    if (fd === undefined) throw badFd('read', this.path);
    return this.readInto(fd, offset, into, this.clampLength(fd, offset, into.length));
  }

  private readInto(fd: number, offset: number, buf: Uint8Array, want: number): number {
    let got = 0;
    while (got < want) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, got, Math.min(want - got, MAX_IO_CHUNK), offset + got);
      } catch (e) {
        throw ioError('read', this.path, e);
      }
      if (n === 0) break;
      got += n;
    }
    return got;
  }

  async close(): Promise<void> {
    const fd = this.fd;
    if (fd === undefined) return;
    this.fd = undefined;
    // As for writes: a read still in flight must not find its fd number reused.
    if (this.pendingReads > 0) await new Promise<void>((r) => (this.drained = r));
    await call<void>('close', this.path, (cb) => fs.close(fd, (err) => cb(err, undefined)));
  }
}
