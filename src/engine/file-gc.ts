/**
 * Decides when obsolete files are deleted (DESIGN.md "Compaction": a file goes when no version,
 * iterator or backup refers to it). Two triggers: schedule(), called when the last reference to an
 * old Version drops (an iterator ending, a read finishing, a backup or checkpoint letting go), and
 * collect(), awaited after a flush or compaction installs a new Version and moves the log number.
 * Which files are obsolete is not decided here: the host answers with the one rule
 * (VersionSet.obsoleteFiles); this file only owns the timing.
 * Contract:
 * - schedule() is synchronous and O(1): it may run inside Version.unref() on a read's path, so it
 *   only raises a flag and defers the pass to its own macrotask (setImmediate).
 * - Requests coalesce: any number of them while a pass is pending or running cost at most one more pass.
 * - Passes never overlap, so two deletions of the same file never race.
 * - collect() resolves after a pass that started after the call; it never rejects (a failed listing
 *   or deletion is logged, and the next pass tries again).
 * - stop() waits for a running pass; afterwards nothing runs and collect() resolves at once.
 * Main thread only.
 */

export interface ObsoleteFileHost {
  /** The directory's files that nothing needs now (empty when the database may not delete). */
  obsoleteFiles(): Promise<string[]>;
  /** Deletes one of them (a table leaves the table cache first). */
  remove(name: string): Promise<void>;
  log(message: string): void;
}

export class ObsoleteFileScheduler {
  private isRequested = false;
  private isStopped = false;
  private timer: ReturnType<typeof setImmediate> | undefined;
  private running: Promise<void> | undefined;
  /** Callers of collect() waiting for the next pass to start and finish. */
  private waiters: (() => void)[] = [];

  constructor(private readonly host: ObsoleteFileHost) {}

  /** Asks for a pass soon, off the caller's turn. */
  schedule(): void {
    if (this.isStopped) return;
    this.isRequested = true;
    if (this.running || this.timer) return;
    this.timer = setImmediate(() => {
      this.timer = undefined;
      this.kick();
    });
  }

  /** Runs a pass (after the running one, if any) and waits for it. */
  collect(): Promise<void> {
    if (this.isStopped) return Promise.resolve();
    this.isRequested = true;
    const done = new Promise<void>((resolve) => this.waiters.push(resolve));
    this.kick();
    return done;
  }

  /** Resolves when no pass is pending or running (for tests and close). */
  async whenIdle(): Promise<void> {
    while (this.running || this.timer) {
      if (this.running) await this.running;
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Lets a running pass finish and starts no other. Idempotent. */
  async stop(): Promise<void> {
    this.isStopped = true;
    if (this.timer) clearImmediate(this.timer);
    this.timer = undefined;
    if (this.running) await this.running;
    this.release(this.waiters);
    this.waiters = [];
  }

  private kick(): void {
    if (this.running || !this.isRequested || this.isStopped) return;
    if (this.timer) clearImmediate(this.timer);
    this.timer = undefined;
    this.isRequested = false;
    const waiters = this.waiters;
    this.waiters = [];
    this.running = this.pass().finally(() => {
      this.running = undefined;
      this.release(waiters);
      this.kick();
    });
  }

  private release(waiters: (() => void)[]): void {
    for (const w of waiters) w();
  }

  private async pass(): Promise<void> {
    let names: string[];
    try {
      names = await this.host.obsoleteFiles();
    } catch (e) {
      this.host.log(`listing obsolete files failed: ${(e as Error).message}`);
      return;
    }
    for (const name of names) {
      if (this.isStopped) return;
      await this.host.remove(name).catch((e: unknown) => this.host.log(`could not delete ${name}: ${(e as Error).message}`));
    }
  }
}
