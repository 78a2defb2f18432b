/**
 * DB.repair(dir): rebuilds a database whose MANIFEST or CURRENT is lost or damaged, or that does not
 * open for any other reason, from the files that are still good (LevelDB's RepairDB, classic-level's
 * repair). Steps, in this order:
 * 1. Take the LOCK (a database open anywhere is ERR_LOCKED, nothing touched). A missing directory, or
 *    one holding no CURRENT, MANIFEST, table or WAL, is ERR_INVALID_ARGUMENT (no LOCK created).
 * 2. Check every table (repair-tables.ts). Errors that are not damage (a missing encryption key, a
 *    table from a newer format, I/O) stop the repair, here or in the steps below.
 * 3. Replay every WAL, stopping at its first bad record, into new tables (repair-wals.ts).
 * 4. Place the tables so that no older version can shadow a newer one (repair-merge.ts: overlapping
 *    tables are merged once; everything goes to the last level).
 * 5. Move the damaged tables to lost/ (before a new MANIFEST could make them look obsolete), write
 *    an OPTIONS file if there is none, copy the old CURRENT to lost/, then write a fresh MANIFEST and
 *    point CURRENT at it atomically (manifest-snapshot.ts, current-file.ts). The last sequence is the
 *    highest one any kept table or replayed WAL holds.
 * 6. Move what the new MANIFEST does not use to lost/: the replayed WALs, the tables merged into new
 *    ones, the old MANIFESTs and temp files.
 * Never deleted: a file the repair cannot use goes to lost/ (renamed `NAME.1`, `NAME.2`… if lost/
 * already holds that name). Files that are not the database's (parseFileName says undefined) and
 * subdirectories are left where they are, untouched; so are LOG, LOG.old, OPTIONS-* and LOCK.
 * A failure before step 5 removes the tables this repair wrote: the directory is as it was found (but
 * for a LOCK file). NB: a crash between steps 5 and 6 leaves the superseded files in the directory;
 * the next open's obsolete-file sweep deletes them, which loses nothing the repaired database holds.
 * Main thread.
 */
import * as path from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import type { FileSystem } from '../fs/file-system.js';
import { NodeFileSystem } from '../fs/node-fs.js';
import { KeyRing } from '../encryption/keyring.js';
import type { FileMetadata } from '../manifest/file-metadata.js';
import { currentFileName, lockFileName, parseFileName, tableFileName } from '../manifest/file-names.js';
import { writeManifestSnapshot } from '../manifest/manifest-snapshot.js';
import { describeOptions, type ResolvedOptions } from '../options.js';
import { writeOptionsFile } from './options-file.js';
import { checkTable, readManifestRecords } from './repair-tables.js';
import { replayWalsToTables } from './repair-wals.js';
import { placeTables } from './repair-merge.js';

/** What DB.repair did (README "Repair"). */
export interface RepairReport {
  /** Tables that opened and verified: their data is in the repaired database. */
  tablesKept: number;
  /** Tables that did not verify, each moved to lost/, with the reason. */
  tablesDropped: { file: string; reason: string }[];
  /** WAL files replayed into new tables (each then moved to lost/). */
  walsReplayed: number;
  /** Where a WAL's replay stopped at a bad record: what followed in that file is not recovered. */
  walsStopped: { file: string; offset: number; reason: string }[];
  /** Operations (puts, deletes, range deletes) recovered from the WALs. */
  entriesRecovered: number;
  /** Overlapping tables merged into fresh ones, and the tables those merges wrote. */
  tablesMerged: number;
  tablesWritten: number;
  /** Tables the new MANIFEST lists, all in the last level. */
  tablesInDatabase: number;
  /** The repaired database's last sequence: the highest in any kept table or replayed WAL. */
  lastSequence: number;
  /** Where each file set aside went, relative to the directory (`lost/000012.sst`). */
  movedToLost: string[];
}

/** The sub-directory a repair moves the files it cannot use to (LevelDB's name). */
export const LOST_DIR = 'lost';

interface Entry { name: string; number: number }

/** Repairs the database in `dir`, with the options it is opened with (encryption, table shape). */
export async function repairDatabase(dir: string, o: ResolvedOptions): Promise<RepairReport> {
  const fs = o.fs ?? new NodeFileSystem();
  const location = path.resolve(dir);
  if (!(await fs.exists(location)) || !(await fs.stat(location)).isDirectory) {
    throw new InvalidArgumentError(`repair: ${location} is not a directory`);
  }
  const isData = (n: string): boolean => {
    const t = parseFileName(n)?.type;
    return t === 'current' || t === 'manifest' || t === 'table' || t === 'wal';
  };
  if (!(await fs.list(location)).some(isData)) {
    throw new InvalidArgumentError(`repair: ${location} holds no database files (no CURRENT, MANIFEST, table or WAL); nothing to repair`);
  }
  const lock = await fs.lock(lockFileName(location));
  try {
    return await repairLocked(fs, location, o);
  } finally {
    await lock.release();
  }
}

async function repairLocked(fs: FileSystem, dir: string, o: ResolvedOptions): Promise<RepairReport> {
  const names = await fs.list(dir);
  const of = (type: string): Entry[] => names.flatMap((name) => {
    const p = parseFileName(name);
    return p?.type === type ? [{ name, number: p.number }] : [];
  });
  const keys = o.encryption ? new KeyRing(o.encryption.keyProvider, o.encryption.allowPlaintext) : undefined;
  // The current key must be at hand before anything is written (as at open).
  if (keys) await keys.keyFor(keys.currentKeyId());
  const listed = await readManifestRecords(fs, dir, names, keys);
  let next = Math.max(1, listed.nextFileNumber);
  for (const n of names) { const p = parseFileName(n); if (p && p.number >= next) next = p.number + 1; }
  const allocate = (): number => next++;
  const lost = new LostDir(fs, dir);
  const report: RepairReport = {
    tablesKept: 0, tablesDropped: [], walsReplayed: 0, walsStopped: [], entriesRecovered: 0,
    tablesMerged: 0, tablesWritten: 0, tablesInDatabase: 0, lastSequence: 0, movedToLost: lost.moved,
  };

  const kept: FileMetadata[] = [];
  const damaged: Entry[] = [];
  for (const t of of('table')) {
    const r = await checkTable(fs, dir, t.number, t.name, keys, listed.tables.get(t.number));
    if (r.ok) kept.push(r.meta);
    else {
      damaged.push(t);
      report.tablesDropped.push({ file: t.name, reason: r.reason });
    }
  }
  report.tablesKept = kept.length;

  const written: FileMetadata[] = [];
  let committed = false;
  try {
    const wals = of('wal');
    const replay = await replayWalsToTables(fs, dir, wals, o, keys, allocate, (m) => written.push(m));
    report.walsReplayed = wals.length;
    report.walsStopped = replay.stopped;
    report.entriesRecovered = replay.entries;
    const placement = await placeTables(fs, dir, [...kept, ...replay.tables], o, keys, allocate, (m) => written.push(m));
    report.tablesMerged = placement.consumed.length;
    report.tablesWritten = written.length;
    report.tablesInDatabase = placement.level.length;
    let lastSequence = replay.lastSequence;
    for (const f of kept) lastSequence = Math.max(lastSequence, f.largestSeq);
    report.lastSequence = lastSequence;

    // Nothing has changed so far but new files; from here the directory changes, damaged tables first
    // (once a new MANIFEST exists, a table it does not list looks obsolete to the next open).
    for (const t of damaged) await lost.move(t.name);
    if (of('options').length === 0) {
      await writeOptionsFile(fs, dir, allocate(), describeOptions(o), keys);
    }
    if (await fs.exists(currentFileName(dir))) await lost.copy('CURRENT');
    const manifestNumber = allocate();
    const logNumber = allocate();
    const bottom = o.numLevels - 1;
    committed = true; // from here CURRENT may name the new MANIFEST: its tables must stay
    await writeManifestSnapshot(fs, dir, {
      manifestNumber, files: placement.level.map((file) => ({ level: bottom, file })),
      nextFileNumber: next, logNumber, lastSequence,
    }, keys);

    const consumed = new Set(placement.consumed.map((f) => f.fileNumber));
    const writtenNumbers = new Set(written.map((f) => f.fileNumber));
    for (const w of wals) await lost.move(w.name);
    for (const t of of('table')) if (consumed.has(t.number)) await lost.move(t.name);
    for (const m of [...of('manifest'), ...of('temp')]) await lost.move(m.name);
    // Merge inputs that this repair wrote itself (WAL tables) are no one's data now: they go too.
    for (const f of placement.consumed) if (writtenNumbers.has(f.fileNumber)) await fs.remove(tableFileName(dir, f.fileNumber));
    await lost.sync();
    await fs.syncDir(dir);
  } catch (e) {
    if (!committed) for (const f of written) await fs.remove(tableFileName(dir, f.fileNumber)).catch(() => undefined);
    throw e;
  }
  return report;
}

/** lost/: where files the repair cannot use are moved, never overwriting one already there. */
class LostDir {
  readonly moved: string[] = [];
  private made = false;

  constructor(private readonly fs: FileSystem, private readonly dir: string) {}

  /** Moves `name` into lost/; records where it went. */
  async move(name: string): Promise<void> {
    const target = await this.freeName(name);
    await this.fs.rename(path.join(this.dir, name), path.join(this.dir, target));
    this.moved.push(target);
  }

  /** Copies `name` into lost/ (a file about to be replaced, like CURRENT). */
  async copy(name: string): Promise<void> {
    const data = await this.fs.readFile(path.join(this.dir, name));
    const target = await this.freeName(name);
    const f = await this.fs.openWritable(path.join(this.dir, target), { exclusive: true });
    try {
      f.append(data);
      await f.sync();
    } finally {
      await f.close();
    }
    this.moved.push(target);
  }

  async sync(): Promise<void> {
    if (this.made) await this.fs.syncDir(path.join(this.dir, LOST_DIR));
  }

  private async freeName(name: string): Promise<string> {
    const lost = path.join(this.dir, LOST_DIR);
    if (!this.made) {
      await this.fs.mkdir(lost, { recursive: true });
      await this.fs.syncDir(this.dir);
      this.made = true;
    }
    let candidate = name;
    for (let i = 1; await this.fs.exists(path.join(lost, candidate)); i++) candidate = `${name}.${i}`;
    return path.join(LOST_DIR, candidate);
  }
}
