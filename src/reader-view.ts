/**
 * A read-only DB beside a live writer process (RocksDB's secondary instance is the model): taking a
 * consistent view of files that another process keeps replacing, and moving it forward on request
 * (db.tryCatchUpWithPrimary()).
 *
 * Taking a view: fingerprint (CURRENT's bytes and the size of the MANIFEST it names), then the usual
 * recovery (CURRENT -> MANIFEST -> WALs at or above its log number, recovery.ts), then open a
 * descriptor on every table of the recovered Version (cache/file-pins.ts), then fingerprint again.
 * The writer removes a table or a WAL only after a MANIFEST edit that no longer needs it has been
 * appended (or after a new MANIFEST and CURRENT): so when the fingerprint did not move, every file the
 * view needs was still there when it was opened or read, and the open descriptors keep the tables
 * readable whatever the writer deletes later. When it moved, the attempt may have mixed two states:
 * drop it and try again, a bounded number of times, then give up with BusyError (retryable).
 * A CorruptionError or IOError met during an attempt is damage only when the fingerprint did not move
 * across it (a table missing under the SAME CURRENT and MANIFEST); otherwise it was the writer moving on.
 * A torn tail on the newest WAL or the MANIFEST is a write in progress: recovery tolerates it and a
 * read-only open writes nothing (no truncation, no new MANIFEST).
 *
 * Cost: each attempt is O(manifest + WAL tail) bytes read plus one open(2) per table; nothing reads
 * table data. Main thread only.
 */
import type { FileSystem } from './fs/file-system.js';
import { BusyError, DatabaseClosedError, ErrorCode, isStrataError } from './errors.js';
import { currentFileName, manifestFileName } from './manifest/file-names.js';
import type { VersionSet } from './manifest/version-set.js';
import type { ResolvedOptions } from './options.js';
import type { EventLog } from './event-log.js';
import type { KeyRing } from './base/keyring.js';
import { FilePins } from './cache/file-pins.js';
import { recoverDatabase, type RecoveredState } from './recovery.js';

/** Attempts before BusyError; the back-off between them doubles from 1 ms, capped at 50 ms (~0.2 s in all). */
export const READER_ATTEMPTS = 10;
const MAX_BACKOFF_MS = 50;

export class ReaderView {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    private readonly options: ResolvedOptions,
    private readonly log: EventLog,
    private readonly keys: KeyRing | undefined,
    /** Descriptors of every table of every Version this reader still holds. */
    readonly pins: FilePins,
  ) {}

  /** Takes the first view. On failure nothing stays open. */
  static async open(
    fs: FileSystem, dir: string, options: ResolvedOptions, log: EventLog, keys: KeyRing | undefined,
  ): Promise<{ view: ReaderView; state: RecoveredState }> {
    const view = new ReaderView(fs, dir, options, log, keys, new FilePins(fs, dir));
    try {
      const state = await view.load(() => new Set());
      return { view, state };
    } catch (e) {
      await view.pins.close();
      throw e;
    }
  }

  /**
   * Takes a new view and installs it: `versions` follows it and `install` swaps the memtables and
   * the visible sequence, both synchronously, so no read sees half of it. Reads and iterators that
   * started earlier keep their Version and memtables (and the descriptors of its tables). Calls are
   * serialised. On failure the old view stays, whole.
   */
  catchUp(versions: VersionSet, install: (state: RecoveredState) => void): Promise<void> {
    const run = this.queue.then(async () => {
      if (this.closed) throw new DatabaseClosedError();
      const state = await this.load(() => versions.liveFiles());
      if (this.closed) throw new DatabaseClosedError();
      versions.follow(state.versions);
      install(state);
      // Files of Versions nobody holds any more: an iterator still open keeps its Version live, and
      // its descriptors stay until a later catch-up (or close) finds it released.
      await this.pins.releaseExcept(versions.liveFiles());
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    await this.pins.close();
  }

  /** One consistent state, its tables pinned; `keep` names pins that must survive a failed attempt. */
  private async load(keep: () => ReadonlySet<number>): Promise<RecoveredState> {
    let raced: unknown;
    for (let attempt = 1; attempt <= READER_ATTEMPTS; attempt++) {
      const before = await this.fingerprint();
      try {
        const state = await recoverDatabase(this.fs, this.dir, this.options, this.log, this.keys);
        const files: number[] = [];
        const keyIds = new Set<string>();
        state.versions.current().forEachFile((f) => {
          files.push(f.fileNumber);
          if (f.keyId !== undefined) keyIds.add(f.keyId);
        });
        for (const n of files) await this.pins.pin(n);
        // Keys of every table of the view, resolved now, so reads never wait for a key provider.
        if (this.keys) for (const id of keyIds) await this.keys.keyFor(id);
        if (await this.fingerprint() === before) return state;
        raced = undefined;
      } catch (e) {
        if (!isStrataError(e) || (e.code !== ErrorCode.CORRUPTION && e.code !== ErrorCode.IO)) throw e;
        // Nothing moved while this attempt failed: what it found is what is on disk.
        if (await this.fingerprint() === before) throw e;
        raced = e;
      }
      await this.pins.releaseExcept(keep());
      if (attempt < READER_ATTEMPTS) await new Promise((r) => setTimeout(r, Math.min(MAX_BACKOFF_MS, 2 ** (attempt - 1))));
    }
    throw new BusyError(`${this.dir}: a writer kept changing CURRENT/MANIFEST while this read-only view was taken ` +
      `(${READER_ATTEMPTS} attempts); nothing is damaged: retry`, raced === undefined ? {} : { cause: raced });
  }

  /** CURRENT's bytes and the size of the MANIFEST they name: a writer's edit or roll changes one of them. */
  private async fingerprint(): Promise<string> {
    let current: string;
    try {
      current = new TextDecoder().decode(await this.fs.readFile(currentFileName(this.dir)));
    } catch (e) {
      if (!isStrataError(e, ErrorCode.IO)) throw e;
      return 'no CURRENT';
    }
    const n = /^MANIFEST-(\d+)\s*$/.exec(current)?.[1];
    if (n === undefined) return `CURRENT=${JSON.stringify(current)}`;
    const size = await this.fs.stat(manifestFileName(this.dir, Number(n))).then((s) => s.size, () => -1);
    return `${current.trim()}:${size}`;
  }
}
