/**
 * MemFileSystem: an in-memory FileSystem for tests, modelling what survives a power cut.
 * Each file keeps its bytes plus `syncedLength` (the prefix made durable by sync()); each directory
 * keeps its current entries plus the entries made durable by syncDir(). crashClone() returns the
 * file system a power cut could leave: durable entries only, each file cut to its synced prefix plus
 * a chosen share of the unsynced tail (Pebble's CrashClone).
 * Contract: as file-system.ts. Main thread only (not shared with workers).
 */
import * as path from 'node:path';
import { IOError, LockedError, NotSupportedError } from '../errors.js';
import { copyBytes } from '../base/bytes.js';
import type {
  FileLock, FileStat, FileSystem, OpenWritableOptions, ReadableFile, WritableFile,
} from './file-system.js';

interface MemFile {
  data: Uint8Array;
  length: number;
  syncedLength: number;
  /**
   * A file opened for overwrite: its earlier contents, which stay on disk wherever the new ones are
   * not yet durable, and `written`, where the new contents end. A power cut keeps the synced prefix
   * of the new bytes, maybe some unsynced ones after it, then the earlier bytes.
   */
  stale?: Uint8Array;
  written?: number;
}

interface MemDir {
  /** name -> file (live view) or sub-directory marker */
  entries: Map<string, MemFile | 'dir'>;
  /** entries that survive a crash: name -> file identity (or 'dir') as of the last syncDir */
  durable: Map<string, MemFile | 'dir'>;
}

function osError(code: string, op: string, p: string): IOError {
  const cause = Object.assign(new Error(`${code}: ${op} '${p}'`), { code });
  return new IOError(`${op} failed for ${p}: ${code}`, { cause, path: p });
}

export interface CrashCloneOptions {
  /** Share (0..100) of each file's unsynced tail that survives; default 0. */
  keepUnsyncedPercent?: number;
  /** Random source in [0,1): when given, each file keeps a random share up to keepUnsyncedPercent. */
  rng?: () => number;
  /**
   * Keep every directory entry as it is now, synced or not (creates, renames and removes alike):
   * a process crash, where the kernel survives. Default false: a power cut keeps synced entries only.
   */
  keepUnsyncedEntries?: boolean;
}

export class MemFileSystem implements FileSystem {
  private readonly dirs = new Map<string, MemDir>();
  private readonly locks = new Set<string>();

  constructor() {
    this.dirs.set('/', { entries: new Map(), durable: new Map() });
  }

  private norm(p: string): string {
    return path.resolve('/', p);
  }

  private parent(p: string, op = 'open'): { dir: MemDir; name: string; dirPath: string } {
    const full = this.norm(p);
    const dirPath = path.dirname(full);
    const dir = this.dirs.get(dirPath);
    if (!dir) throw osError('ENOENT', op, full);
    return { dir, name: path.basename(full), dirPath };
  }

  private getFile(p: string, op: string): MemFile {
    const { dir } = this.parent(p, op);
    const f = dir.entries.get(path.basename(this.norm(p)));
    if (!f) throw osError('ENOENT', op, this.norm(p));
    if (f === 'dir') throw osError('EISDIR', op, this.norm(p));
    return f;
  }

  async openWritable(p: string, options: OpenWritableOptions = {}): Promise<WritableFile> {
    const { dir, name } = this.parent(p);
    const existing = dir.entries.get(name);
    if (existing === 'dir') throw osError('EISDIR', 'open', this.norm(p));
    if (existing && options.exclusive) throw osError('EEXIST', 'open', this.norm(p));
    let file: MemFile;
    if (existing && options.overwrite) {
      existing.stale = copyBytes(existing.data.subarray(0, existing.length));
      existing.written = 0;
      existing.syncedLength = 0;
      return new MemWritableFile(this.norm(p), existing, 0);
    }
    if (existing) {
      delete existing.stale;
      delete existing.written;
    }
    if (existing && options.append) {
      file = existing;
    } else if (existing) {
      // Truncation is an in-place change of the same inode: synced bytes are lost too.
      existing.length = 0;
      existing.syncedLength = 0;
      file = existing;
    } else {
      file = { data: new Uint8Array(256), length: 0, syncedLength: 0 };
      dir.entries.set(name, file);
    }
    return new MemWritableFile(this.norm(p), file, file.length);
  }

  async openReadable(p: string): Promise<ReadableFile> {
    const file = this.getFile(p, 'open');
    return new MemReadableFile(this.norm(p), file);
  }

  async readFile(p: string): Promise<Uint8Array> {
    const file = this.getFile(p, 'read');
    return copyBytes(file.data.subarray(0, file.length));
  }

  async list(d: string): Promise<string[]> {
    const dir = this.dirs.get(this.norm(d));
    if (!dir) throw osError('ENOENT', 'scandir', this.norm(d));
    return [...dir.entries.keys()].sort();
  }

  async exists(p: string): Promise<boolean> {
    const full = this.norm(p);
    if (this.dirs.has(full)) return true;
    const dir = this.dirs.get(path.dirname(full));
    return dir !== undefined && dir.entries.has(path.basename(full));
  }

  async stat(p: string): Promise<FileStat> {
    const full = this.norm(p);
    if (this.dirs.has(full)) return { size: 0, isDirectory: true };
    const f = this.getFile(full, 'stat');
    return { size: f.length, isDirectory: false };
  }

  async rename(from: string, to: string): Promise<void> {
    const src = this.parent(from, 'rename');
    const dst = this.parent(to, 'rename');
    const f = src.dir.entries.get(src.name);
    if (!f) throw osError('ENOENT', 'rename', this.norm(from));
    if (f === 'dir') throw new NotSupportedError('MemFileSystem renames files only');
    if (dst.dir.entries.get(dst.name) === 'dir') throw osError('EISDIR', 'rename', this.norm(to));
    src.dir.entries.delete(src.name);
    dst.dir.entries.set(dst.name, f);
  }

  async truncate(p: string, length: number): Promise<void> {
    const f = this.getFile(p, 'truncate');
    if (length > f.data.length) {
      const grown = new Uint8Array(Math.max(length, f.data.length * 2));
      grown.set(f.data.subarray(0, f.length));
      f.data = grown;
    } else if (length > f.length) {
      f.data.fill(0, f.length, length);
    }
    f.length = length;
    // The same inode, cut and fsynced (as node-fs does): the new length is what a power cut keeps.
    f.syncedLength = length;
    delete f.stale;
    delete f.written;
  }

  async remove(p: string): Promise<void> {
    const { dir, name } = this.parent(p, 'unlink');
    const f = dir.entries.get(name);
    if (!f) throw osError('ENOENT', 'unlink', this.norm(p));
    if (f === 'dir') throw osError('EISDIR', 'unlink', this.norm(p));
    dir.entries.delete(name);
  }

  async removeDir(p: string): Promise<void> {
    const full = this.norm(p);
    const d = this.dirs.get(full);
    if (!d) throw osError('ENOENT', 'rmdir', full);
    if (d.entries.size > 0) throw osError('ENOTEMPTY', 'rmdir', full);
    const { dir, name } = this.parent(full);
    dir.entries.delete(name);
    this.dirs.delete(full);
  }

  async mkdir(p: string, options: { recursive?: boolean } = {}): Promise<void> {
    const full = this.norm(p);
    if (this.dirs.has(full)) {
      if (options.recursive) return;
      throw osError('EEXIST', 'mkdir', full);
    }
    const parentPath = path.dirname(full);
    if (!this.dirs.has(parentPath)) {
      if (!options.recursive) throw osError('ENOENT', 'mkdir', full);
      await this.mkdir(parentPath, { recursive: true });
    }
    const parent = this.dirs.get(parentPath)!;
    if (parent.entries.has(path.basename(full))) throw osError('EEXIST', 'mkdir', full);
    parent.entries.set(path.basename(full), 'dir');
    // A new directory is made durable in its parent by syncing the parent, like any entry;
    // tests that crash-clone usually create the DB directory before the interesting part.
    this.dirs.set(full, { entries: new Map(), durable: new Map() });
  }

  async syncDir(p: string): Promise<void> {
    const dir = this.dirs.get(this.norm(p));
    if (!dir) throw osError('ENOENT', 'fsync', this.norm(p));
    dir.durable = new Map(dir.entries);
  }

  async link(existingPath: string, newPath: string): Promise<void> {
    const f = this.getFile(existingPath, 'link');
    const { dir, name } = this.parent(newPath, 'link');
    if (dir.entries.has(name)) throw osError('EEXIST', 'link', this.norm(newPath));
    dir.entries.set(name, f);
  }

  async lock(p: string): Promise<FileLock> {
    const full = this.norm(p);
    if (this.locks.has(full)) throw new LockedError(`${full} is locked by another open of this database`);
    this.parent(full, 'lock'); // the directory must exist
    this.locks.add(full);
    const { dir, name } = this.parent(full);
    if (!dir.entries.has(name)) dir.entries.set(name, { data: new Uint8Array(0), length: 0, syncedLength: 0 });
    let released = false;
    return {
      path: full,
      release: async () => {
        if (released) return;
        released = true;
        this.locks.delete(full);
      },
    };
  }

  /**
   * The file system a power cut at this instant could leave behind. Locks do not survive.
   * Directory entries: those present at the last syncDir of each directory (directories created by
   * mkdir are kept, so tests need not sync the root), or all current ones with keepUnsyncedEntries.
   * Files: the synced prefix, plus a share of the unsynced tail.
   */
  crashClone(options: CrashCloneOptions = {}): MemFileSystem {
    const pct = options.keepUnsyncedPercent ?? 0;
    const clone = new MemFileSystem();
    const copied = new Map<MemFile, MemFile>();
    const copyFile = (f: MemFile): MemFile => {
      let c = copied.get(f);
      if (c) return c;
      const newEnd = f.stale ? f.written! : f.length;
      const unsynced = newEnd - f.syncedLength;
      const share = options.rng ? options.rng() * pct : pct;
      const keep = Math.min(newEnd, f.syncedLength + Math.floor((unsynced * share) / 100));
      const length = f.stale ? Math.max(keep, f.stale.length) : keep;
      const data = new Uint8Array(Math.max(256, length));
      if (f.stale) data.set(f.stale);
      data.set(f.data.subarray(0, keep));
      c = { data, length, syncedLength: length };
      copied.set(f, c);
      return c;
    };
    const dirPaths = [...this.dirs.keys()].sort((a, b) => a.length - b.length);
    for (const dp of dirPaths) {
      const src = this.dirs.get(dp)!;
      const dst: MemDir = { entries: new Map(), durable: new Map() };
      for (const [name, e] of options.keepUnsyncedEntries ? src.entries : src.durable) {
        if (e === 'dir') continue;
        const c = copyFile(e);
        dst.entries.set(name, c);
        dst.durable.set(name, c);
      }
      for (const [name, e] of src.entries) {
        if (e === 'dir') {
          dst.entries.set(name, 'dir');
          dst.durable.set(name, 'dir');
        }
      }
      clone.dirs.set(dp, dst);
    }
    return clone;
  }

  /** Total bytes held, for tests. */
  bytesHeld(): number {
    let n = 0;
    const seen = new Set<MemFile>();
    for (const d of this.dirs.values()) {
      for (const e of d.entries.values()) {
        if (e !== 'dir' && !seen.has(e)) { seen.add(e); n += e.length; }
      }
    }
    return n;
  }
}

class MemWritableFile implements WritableFile {
  private closed = false;
  /** Where the next append writes: the end of the file, or 0 for a file opened for overwrite. */
  constructor(readonly path: string, private readonly file: MemFile, private pos: number) {}
  get size(): number { return this.pos; }
  append(data: Uint8Array): void {
    if (this.closed) throw osError('EBADF', 'write', this.path);
    const f = this.file;
    const need = this.pos + data.length;
    if (need > f.data.length) {
      let cap = Math.max(256, f.data.length * 2);
      while (cap < need) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(f.data.subarray(0, f.length));
      f.data = next;
    }
    f.data.set(data, this.pos);
    this.pos = need;
    if (need > f.length) f.length = need;
    if (f.written !== undefined) f.written = Math.max(f.written, need);
  }
  async sync(): Promise<void> {
    if (this.closed) throw osError('EBADF', 'fsync', this.path);
    const f = this.file;
    f.syncedLength = f.written !== undefined ? f.written : f.length;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

class MemReadableFile implements ReadableFile {
  readonly size: number;
  constructor(readonly path: string, private readonly file: MemFile) {
    this.size = file.length;
  }
  read(offset: number, length: number): Promise<Uint8Array> {
    // NB: a Promise-returning method rejects, never throws (DESIGN.md), so no direct readSync call.
    try {
      return Promise.resolve(this.readSync(offset, length));
    } catch (e) {
      return Promise.reject(e);
    }
  }
  readSync(offset: number, length: number): Uint8Array {
    const f = this.file;
    if (offset < 0 || length < 0) throw osError('EINVAL', 'read', this.path);
    const end = Math.min(f.length, offset + length);
    if (offset >= end) return new Uint8Array(0);
    return copyBytes(f.data.subarray(offset, end));
  }
  readSyncInto(offset: number, into: Uint8Array): number {
    const f = this.file;
    if (offset < 0) throw osError('EINVAL', 'read', this.path);
    const end = Math.min(f.length, offset + into.length);
    if (offset >= end) return 0;
    into.set(f.data.subarray(offset, end), 0);
    return end - offset;
  }
  async close(): Promise<void> {}
}
