/**
 * HoldFileSystem: wraps a FileSystem and parks the FIRST operation that matches a predicate until the
 * test calls release(), so a test can keep one fdatasync, mkdir, link or rename "in flight" for as
 * long as it needs and act meanwhile, deterministically (no sleeps). `reached` resolves when the
 * operation is parked. For a sync, the real fdatasync runs only after release: until then the bytes
 * are not durable (a MemFileSystem crashClone shows them unsynced). Everything else passes through.
 */
import type {
  FileLock, FileStat, FileSystem, OpenWritableOptions, ReadableFile, WritableFile,
} from '../../src/fs/file-system.js';

export type HeldKind = 'sync' | 'mkdir' | 'link' | 'rename' | 'remove' | 'syncDir';

export class HoldFileSystem implements FileSystem {
  private armed = true;
  private releaseHeld: (() => void) | undefined;
  private signalReached: (() => void) | undefined;
  private released = false;
  /** Resolves once the matching operation is parked. */
  readonly reached = new Promise<void>((r) => { this.signalReached = r; });

  constructor(readonly inner: FileSystem, private readonly matches: (kind: HeldKind, path: string) => boolean) {}

  /** Lets the parked operation (and any later one) run. */
  release(): void {
    this.released = true;
    this.releaseHeld?.();
  }

  private gate(kind: HeldKind, p: string): Promise<void> | undefined {
    if (!this.armed || this.released || !this.matches(kind, p)) return undefined;
    this.armed = false;
    this.signalReached?.();
    return new Promise<void>((r) => { this.releaseHeld = r; });
  }

  async openWritable(p: string, o?: OpenWritableOptions): Promise<WritableFile> {
    const f = await this.inner.openWritable(p, o);
    return {
      get path() { return f.path; },
      get size() { return f.size; },
      append: (d) => f.append(d),
      sync: async () => { await this.gate('sync', p); return f.sync(); },
      close: () => f.close(),
    };
  }
  openReadable(p: string): Promise<ReadableFile> { return this.inner.openReadable(p); }
  readFile(p: string): Promise<Uint8Array> { return this.inner.readFile(p); }
  list(d: string): Promise<string[]> { return this.inner.list(d); }
  exists(p: string): Promise<boolean> { return this.inner.exists(p); }
  stat(p: string): Promise<FileStat> { return this.inner.stat(p); }
  async rename(a: string, b: string): Promise<void> { await this.gate('rename', a); return this.inner.rename(a, b); }
  async remove(p: string): Promise<void> { await this.gate('remove', p); return this.inner.remove(p); }
  truncate(p: string, length: number): Promise<void> { return this.inner.truncate(p, length); }
  removeDir(p: string): Promise<void> { return this.inner.removeDir(p); }
  async mkdir(p: string, o?: { recursive?: boolean }): Promise<void> { await this.gate('mkdir', p); return this.inner.mkdir(p, o); }
  async syncDir(p: string): Promise<void> { await this.gate('syncDir', p); return this.inner.syncDir(p); }
  async link(a: string, b: string): Promise<void> { await this.gate('link', a); return this.inner.link(a, b); }
  lock(p: string): Promise<FileLock> { return this.inner.lock(p); }
}

/** Lets the event loop turn n times: a bound on how long other work gets, not a synchronisation. */
export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}
