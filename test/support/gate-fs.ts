/**
 * GateFileSystem: wraps a FileSystem and holds chosen openWritable calls until the test opens the
 * gate, so a background job (say, a compaction about to create its first output) can be parked at a
 * known point for as long as a test needs, without sleeps. Everything else passes straight through.
 * The predicate sees the path and the open options; `waiting` counts parked opens, and `whenWaiting()`
 * resolves once one is parked. letThrough() releases every parked and future call; hold() re-arms.
 * A new gate holds from the start.
 */
import type { FileLock, FileStat, FileSystem, OpenWritableOptions, ReadableFile, WritableFile } from '../../src/fs/file-system.js';

export type GatePredicate = (path: string, options: OpenWritableOptions | undefined) => boolean;

export class GateFileSystem implements FileSystem {
  private gate: Promise<void> | undefined;
  private releaseAll: (() => void) | undefined;
  private waiters: (() => void)[] = [];
  waiting = 0;
  parked = 0;

  constructor(readonly inner: FileSystem, private readonly predicate: GatePredicate) {
    this.hold();
  }

  /** Parks matching opens from now on. */
  hold(): void {
    if (this.gate) return;
    this.gate = new Promise((resolve) => { this.releaseAll = resolve; });
  }

  /** Lets every parked and future matching open through. */
  letThrough(): void {
    const r = this.releaseAll;
    this.gate = undefined;
    this.releaseAll = undefined;
    r?.();
  }

  /** Resolves once at least one open is parked at the gate. */
  whenWaiting(): Promise<void> {
    if (this.waiting > 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async openWritable(p: string, options?: OpenWritableOptions): Promise<WritableFile> {
    if (this.gate && this.predicate(p, options)) {
      this.waiting++;
      this.parked++;
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
      try {
        await this.gate;
      } finally {
        this.waiting--;
      }
    }
    return this.inner.openWritable(p, options);
  }

  openReadable(p: string): Promise<ReadableFile> { return this.inner.openReadable(p); }
  readFile(p: string): Promise<Uint8Array> { return this.inner.readFile(p); }
  list(dir: string): Promise<string[]> { return this.inner.list(dir); }
  exists(p: string): Promise<boolean> { return this.inner.exists(p); }
  stat(p: string): Promise<FileStat> { return this.inner.stat(p); }
  rename(from: string, to: string): Promise<void> { return this.inner.rename(from, to); }
  truncate(p: string, n: number): Promise<void> { return this.inner.truncate(p, n); }
  remove(p: string): Promise<void> { return this.inner.remove(p); }
  removeDir(p: string): Promise<void> { return this.inner.removeDir(p); }
  mkdir(p: string, options?: { recursive?: boolean }): Promise<void> { return this.inner.mkdir(p, options); }
  syncDir(p: string): Promise<void> { return this.inner.syncDir(p); }
  link(existingPath: string, newPath: string): Promise<void> { return this.inner.link(existingPath, newPath); }
  lock(p: string): Promise<FileLock> { return this.inner.lock(p); }
}
