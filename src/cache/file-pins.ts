/**
 * Open descriptors that keep a read-only DB's tables readable while a live writer deletes them.
 * On POSIX systems an open descriptor keeps an unlinked file's bytes until it is closed, so a reader
 * that opened every table of its view keeps a consistent view whatever the writer's compactions
 * remove afterwards (RocksDB's secondary instance relies on the same, with max_open_files=-1).
 * Contract:
 * - pin(n) opens table n once (later pins of the same number are free); a missing file rejects
 *   with the file system's IOError (ENOENT cause): the caller decides whether that is a race.
 * - get(n) hands out a view of the pinned descriptor whose close() does nothing: table readers built
 *   on it may be closed and rebuilt (the table cache's LRU) without losing the file.
 * - releaseExcept(keep) closes every pinned descriptor not in keep; the caller keeps every file of
 *   every Version still referenced, so no reader in use loses its descriptor.
 * Opening costs one open(2) per table and reads no bytes: a read-only open stays O(manifest + WAL tail).
 * Main thread only.
 */
import type { FileSystem, ReadableFile } from '../fs/file-system.js';
import { tableFileName } from '../manifest/file-names.js';

export class FilePins {
  private readonly files = new Map<number, ReadableFile>();
  private readonly opening = new Map<number, Promise<ReadableFile>>();

  constructor(private readonly fs: FileSystem, private readonly dir: string) {}

  async pin(fileNumber: number): Promise<void> {
    if (this.files.has(fileNumber)) return;
    let p = this.opening.get(fileNumber);
    if (!p) {
      p = this.fs.openReadable(tableFileName(this.dir, fileNumber));
      this.opening.set(fileNumber, p);
      p.then((f) => { this.files.set(fileNumber, f); }, () => undefined)
        .finally(() => this.opening.delete(fileNumber));
    }
    await p;
  }

  has(fileNumber: number): boolean { return this.files.has(fileNumber); }

  /** A view of the pinned descriptor (close() is a no-op), or undefined when n is not pinned. */
  get(fileNumber: number): ReadableFile | undefined {
    const f = this.files.get(fileNumber);
    if (!f) return undefined;
    return {
      path: f.path,
      size: f.size,
      read: (offset, length) => f.read(offset, length),
      readSync: (offset, length) => f.readSync(offset, length),
      readSyncInto: f.readSyncInto ? (offset, into) => f.readSyncInto!(offset, into) : undefined,
      close: async () => undefined,
    };
  }

  get size(): number { return this.files.size; }

  /** Closes every pinned descriptor not in `keep`; returns their table numbers. */
  async releaseExcept(keep: ReadonlySet<number>): Promise<number[]> {
    const released: number[] = [];
    for (const [n, f] of [...this.files]) {
      if (keep.has(n)) continue;
      this.files.delete(n);
      released.push(n);
      await f.close().catch(() => undefined);
    }
    return released;
  }

  async close(): Promise<void> {
    await Promise.all([...this.opening.values()].map((p) => p.catch(() => undefined)));
    await this.releaseExcept(new Set());
  }
}
