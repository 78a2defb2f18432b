/**
 * A read-only DB beside a live writer process (RocksDB's secondary instance is the model): taking a
 * consistent view of files that another process keeps replacing, and moving it forward on request
 * (db.tryCatchUpWithPrimary()).
 *
 * Taking a view, in this order: (1) list the directory and read every WAL into memory; (2) read
 * CURRENT and its MANIFEST; (3) open a descriptor on every table the MANIFEST names
 * (cache/file-pins.ts); then replay the WALs at or above the MANIFEST's log number (recovery.ts).
 * Why this is consistent without stopping the writer: the writer deletes a WAL only after appending
 * an edit whose log number is above it, and a table only after an edit that drops it. A WAL gone
 * before (1) was dropped by an edit that (2) sees, so the MANIFEST no longer needs it; a WAL (1) read
 * holds everything up to that moment, and anything flushed since is in tables (2) names; a table (2)
 * names either opens at (3), and then the open descriptor keeps it readable whatever the writer
 * deletes later, or is missing. The writer's edits between the steps need no retry.
 * Only a missing file (a MANIFEST named by CURRENT, a table) or damage sends us round again: compare a
 * fingerprint (CURRENT's bytes and its MANIFEST's size) taken before (1) with one taken after the
 * failure. Moved: the writer moved on, try again (a bounded number of times, then BusyError,
 * retryable). Held still: it is damage (a table missing under the SAME CURRENT and MANIFEST).
 * A torn tail on the newest WAL or the MANIFEST is a write in progress: recovery tolerates it and a
 * read-only open writes nothing (no truncation, no new MANIFEST).
 *
 * Cost: each attempt is O(manifest + WAL tail) bytes read plus one open(2) per table; nothing reads
 * table data. Main thread only.
 */
import * as path from 'node:path';
import { type FileSystem, isNotFound } from '../fs/file-system.js';
import { BusyError, CorruptionError, DatabaseClosedError, ErrorCode, isStrataError } from '../errors.js';
import { currentFileName, parseFileName, tableFileName, walFileName } from '../manifest/file-names.js';
import type { VersionSet } from '../manifest/version-set.js';
import type { ResolvedOptions } from '../options.js';
import type { EventLog } from './event-log.js';
import type { KeyRing } from '../encryption/keyring.js';
import { FilePins } from '../cache/file-pins.js';
import type { TableCache } from '../cache/table-cache.js';
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
   * the visible sequence, both synchronously, so no read sees half of it. Tables no Version holds
   * any more lose their descriptor and leave `tables`. Reads and iterators that
   * started earlier keep their Version and memtables (and the descriptors of its tables). Calls are
   * serialised. On failure the old view stays, whole.
   */
  catchUp(versions: VersionSet, tables: TableCache, install: (state: RecoveredState) => void): Promise<void> {
    const run = this.queue.then(async () => {
      if (this.closed) throw new DatabaseClosedError();
      const state = await this.load(() => versions.liveFiles());
      if (this.closed) throw new DatabaseClosedError();
      versions.follow(state.versions);
      install(state);
      // Files of Versions nobody holds any more: an iterator still open keeps its Version live, and
      // its descriptors stay until a later catch-up (or close) finds it released.
      for (const n of await this.pins.releaseExcept(versions.liveFiles())) tables.evict(n);
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
        const fs = await this.withWalsRead();
        const state = await recoverDatabase(fs, this.dir, this.options, this.log, this.keys, { afterManifest: (versions) => this.pinAll(versions) });
        // Keys of every table of the view, resolved now, so reads never wait for a key provider.
        if (this.keys) {
          const keyIds = new Set<string>();
          state.versions.current().forEachFile((f) => { if (f.keyId !== undefined) keyIds.add(f.keyId); });
          for (const id of keyIds) await this.keys.keyFor(id);
        }
        return state;
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

  /** Opens every table of the recovered Version; a missing one is reported as recovery always did. */
  private async pinAll(versions: VersionSet): Promise<void> {
    const files: { fileNumber: number; level: number }[] = [];
    versions.current().forEachFile((f, level) => files.push({ fileNumber: f.fileNumber, level }));
    for (const { fileNumber, level } of files) {
      try {
        await this.pins.pin(fileNumber);
      } catch (e) {
        if (!isNotFound(e)) throw e;
        throw new CorruptionError(tableFileName(this.dir, fileNumber), 0,
          `table file is missing but the MANIFEST lists it at level ${level}`, { cause: e });
      }
    }
  }

  /**
   * Step (1): the directory's names and every WAL's bytes now, served to recovery in place of the
   * live ones (list, stat and readFile of those WALs); everything else reads through. A WAL that
   * vanishes between the listing and its read was flushed: left out, as the MANIFEST read next says.
   */
  private async withWalsRead(): Promise<FileSystem> {
    const base = this.fs;
    const names = await base.list(this.dir);
    const wals = new Map<string, Uint8Array>();
    const kept: string[] = [];
    for (const name of names) {
      const p = parseFileName(name);
      if (p?.type === 'wal') {
        const file = walFileName(this.dir, p.number);
        try {
          wals.set(file, await base.readFile(file));
        } catch (e) {
          if (isNotFound(e)) continue;
          throw e;
        }
      }
      kept.push(name);
    }
    return new Proxy(base, {
      get(target, prop, receiver) {
        if (prop === 'list') return async () => kept.slice();
        if (prop === 'readFile') return async (p: string) => wals.get(p) ?? target.readFile(p);
        if (prop === 'stat') {
          return async (p: string) => {
            const data = wals.get(p);
            return data ? { size: data.length, isDirectory: false } : target.stat(p);
          };
        }
        const v: unknown = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
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
    // The name as written, not parsed: a malformed CURRENT is recovery's to report, not ours.
    const name = /^(MANIFEST-\d{1,20})\n?$/.exec(current)?.[1];
    if (name === undefined) return `CURRENT=${JSON.stringify(current)}`;
    const size = await this.fs.stat(path.join(this.dir, name)).then((s) => s.size, () => -1);
    return `${name}:${size}`;
  }
}
