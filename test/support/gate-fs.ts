/**
 * GateFileSystem: wraps a FileSystem and holds chosen openWritable calls until the test opens the
 * gate, so a background job (say, a compaction about to create its first output) can be parked at a
 * known point for as long as a test needs, without sleeps. Everything else passes straight through.
 * The predicate sees the path and the open options; `waiting` counts parked opens, and `whenWaiting()`
 * resolves once one is parked. letThrough() releases every parked and future call; hold() re-arms.
 * A new gate holds from the start.
 */
import type { FileSystem, OpenWritableOptions, WritableFile } from '../../src/fs/file-system.js';
import { PassThroughFileSystem } from './pass-through-fs.js';

export type GatePredicate = (path: string, options: OpenWritableOptions | undefined) => boolean;

export class GateFileSystem extends PassThroughFileSystem {
  private gate: Promise<void> | undefined;
  private releaseAll: (() => void) | undefined;
  private waiters: (() => void)[] = [];
  waiting = 0;
  parked = 0;

  constructor(inner: FileSystem, private readonly predicate: GatePredicate) {
    super(inner);
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

  override async openWritable(p: string, options?: OpenWritableOptions): Promise<WritableFile> {
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
}
