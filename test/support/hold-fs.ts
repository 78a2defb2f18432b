/**
 * HoldFileSystem: wraps a FileSystem and parks the FIRST operation that matches a predicate until the
 * test calls release(), so a test can keep one fdatasync, mkdir, link or rename "in flight" for as
 * long as it needs and act meanwhile, deterministically (no sleeps). `reached` resolves when the
 * operation is parked. For a sync, the real fdatasync runs only after release: until then the bytes
 * are not durable (a MemFileSystem crashClone shows them unsynced). Everything else passes through.
 */
import type { FileSystem, WritableFile } from '../../src/fs/file-system.js';
import { PassThroughFileSystem, writableWith } from './pass-through-fs.js';

export type HeldKind = 'sync' | 'mkdir' | 'link' | 'rename' | 'remove' | 'syncDir';

export class HoldFileSystem extends PassThroughFileSystem {
  private armed = true;
  private releaseHeld: (() => void) | undefined;
  private signalReached: (() => void) | undefined;
  private released = false;
  /** Resolves once the matching operation is parked. */
  readonly reached = new Promise<void>((r) => { this.signalReached = r; });

  constructor(inner: FileSystem, private readonly matches: (kind: HeldKind, path: string) => boolean) {
    super(inner);
  }

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

  protected override wrapWritable(p: string, f: WritableFile): WritableFile {
    return writableWith(f, { sync: async () => { await this.gate('sync', p); return f.sync(); } });
  }
  override async rename(a: string, b: string): Promise<void> { await this.gate('rename', a); return this.inner.rename(a, b); }
  override async remove(p: string): Promise<void> { await this.gate('remove', p); return this.inner.remove(p); }
  override async mkdir(p: string, o?: { recursive?: boolean }): Promise<void> { await this.gate('mkdir', p); return this.inner.mkdir(p, o); }
  override async syncDir(p: string): Promise<void> { await this.gate('syncDir', p); return this.inner.syncDir(p); }
  override async link(a: string, b: string): Promise<void> { await this.gate('link', a); return this.inner.link(a, b); }
}

/** Lets the event loop turn n times: a bound on how long other work gets, not a synchronisation. */
export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}
