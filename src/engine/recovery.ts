/**
 * Open-time recovery (DESIGN.md "Open"): CURRENT -> MANIFEST -> replay the WALs numbered at or above
 * the manifest's log number into memtables. The recovered memtables are not flushed here: they
 * become immutable memtables that a background flush writes out (RocksDB's avoid-flush-during-recovery),
 * so open costs O(manifest + WAL tail), never O(data). Their WALs stay until that flush lands.
 * Also: the check that every table the MANIFEST names exists. Not here: which files are obsolete
 * (VersionSet.obsoleteFiles) and when they go (file-gc.ts).
 * A read-only open beside a live writer calls this through reader-view.ts, with the WALs already read
 * (before the MANIFEST) and the table check done there, by opening each table.
 */
import type { FileSystem } from '../fs/file-system.js';
import { CorruptionError, InvalidArgumentError } from '../errors.js';
import { MemTable, memtableFull } from '../memtable/memtable.js';
import { replayWal, truncateWal } from '../wal/wal-replay.js';
import { HEADER_SIZE, RECYCLABLE_HEADER_SIZE, isRecyclableType } from '../record/format.js';
import { getFixed32 } from '../base/coding.js';
import { VersionSet } from '../manifest/version-set.js';
import {
  currentFileName, manifestBaseName, parseFileName, walFileName, tableFileName,
} from '../manifest/file-names.js';
import type { Version } from '../manifest/version.js';
import type { ResolvedOptions } from '../options.js';
import type { EventLog } from './event-log.js';
import type { KeyRing } from '../encryption/keyring.js';
import type { MemTableEntry } from './memtable-set.js';


export interface RecoveredState {
  versions: VersionSet;
  /** Recovered memtables, oldest first (all immutable now). */
  memtables: MemTableEntry[];
  /** Highest sequence number seen in the manifest or the WALs. */
  lastSequence: number;
  /** Whether the database was created by this open. */
  created: boolean;
}

/**
 * Hooks: `onVersionReleased` runs when a Version's last reference drops (the VersionSet's hook): its
 * files may now be obsolete. `afterManifest` runs once the MANIFEST is read, before the WALs are
 * replayed (a read-only open opens its tables there).
 */
export interface RecoveryHooks {
  onVersionReleased?: (v: Version) => void;
  afterManifest?: (versions: VersionSet) => Promise<void>;
}

export async function recoverDatabase(
  fs: FileSystem, dir: string, options: ResolvedOptions, log: EventLog, keys?: KeyRing,
  { onVersionReleased, afterManifest }: RecoveryHooks = {},
): Promise<RecoveredState> {
  const hasCurrent = await fs.exists(currentFileName(dir));
  if (!hasCurrent) await refuseDatabaseWithoutCurrent(fs, dir);
  if (hasCurrent && options.errorIfExists) {
    throw new InvalidArgumentError(`database ${dir} already exists (errorIfExists is set)`);
  }
  if (!hasCurrent && (!options.createIfMissing || options.readOnly)) {
    throw new InvalidArgumentError(`database ${dir} does not exist (createIfMissing is ${options.createIfMissing}${options.readOnly ? ', readOnly' : ''})`);
  }
  const vsOptions = {
    numLevels: options.numLevels,
    maxManifestFileSize: options.maxManifestFileSize,
    readOnly: options.readOnly,
    ...(keys ? { keys } : {}),
    ...(onVersionReleased ? { onVersionReleased } : {}),
  };
  const versions = hasCurrent
    ? await VersionSet.recover(fs, dir, vsOptions)
    : await VersionSet.create(fs, dir, vsOptions);

  if (afterManifest) await afterManifest(versions);
  const names = await fs.list(dir);
  const present = new Set<number>();
  const wals: number[] = [];
  for (const name of names) {
    const parsed = parseFileName(name);
    if (!parsed) continue;
    versions.markFileNumberUsed(parsed.number);
    if (parsed.type === 'table') present.add(parsed.number);
    if (parsed.type === 'wal' && parsed.number >= versions.logNumber) wals.push(parsed.number);
  }
  const current = versions.current();
  // A read-only open checks by opening every table instead (reader-view.ts): its listing was taken
  // before the MANIFEST was read, so it may lack tables the writer added since.
  for (let level = 0; level < (options.readOnly ? 0 : current.levels.length); level++) {
    for (const f of current.levels[level]!) {
      if (!present.has(f.fileNumber)) {
        throw new CorruptionError(tableFileName(dir, f.fileNumber), 0,
          `table file is missing but the MANIFEST lists it at level ${level}`);
      }
    }
  }
  wals.sort((a, b) => a - b);
  // "Newest" is the last WAL holding data: a WAL is created empty (its header goes out with its first
  // group), and a crash between creating the next WAL and the rollover sync of the previous one leaves
  // that previous one, with a possibly torn tail, as the last WAL that matters. A reused WAL that got
  // no write of its own is full of its earlier use's bytes: it holds no data either.
  let newestIndex = -1;
  for (let i = 0; i < wals.length; i++) {
    if (await holdsOwnData(fs, walFileName(dir, wals[i]!), wals[i]!)) newestIndex = i;
  }

  const memtables: MemTableEntry[] = [];
  let mem: { mem: MemTable; walNumber: number } | undefined;
  let lastSequence = versions.lastSequence;
  for (let i = 0; i < wals.length; i++) {
    const walNumber = wals[i]!;
    const path = walFileName(dir, walNumber);
    // A reader beside a live writer may catch the newest WAL mid-append: a torn tail there is a
    // write in progress, whatever the mode (and a read-only open truncates nothing).
    const mode = options.readOnly && i >= newestIndex && options.walRecoveryMode === 'absolute'
      ? 'tolerate-tail' : options.walRecoveryMode;
    const result = await replayWal(fs, path, {
      mode,
      isNewest: i >= newestIndex,
      logNumber: walNumber,
      ...(keys ? { keys } : {}),
      onBatch: (b) => {
        if (!mem) mem = { mem: new MemTable(), walNumber };
        const m = mem.mem;
        const ops = b.encodedOps();
        m.addOps(ops, 0, ops.length, b.opCount, b.firstSeq, (off, detail) => {
          throw new CorruptionError(path, off, `replayed batch: ${detail}`); // decodeWalRecord validated these bytes
        });
        if (b.lastSeq > lastSequence) lastSequence = b.lastSeq;
        if (memtableFull(m, options)) {
          memtables.push(mem);
          mem = undefined;
        }
      },
    });
    if (result.stoppedAt && !options.readOnly) {
      // Cut the damaged tail now: once a newer WAL exists, damage here would read as corruption of an
      // older (synced) WAL at the next open.
      await truncateWal(fs, path, result.validLength);
    }
    log.write(`recovered WAL ${walNumber}: ${result.records} records, last sequence ${result.lastSeq}` +
      (result.stoppedAt ? `; stopped at offset ${result.stoppedAt.offset}: ${result.stoppedAt.detail}` : ''));
  }
  if (mem && mem.mem.entries > 0) memtables.push(mem);
  if (lastSequence > versions.lastSequence) versions.lastSequence = lastSequence;
  return { versions, memtables, lastSequence, created: !hasCurrent };
}

/**
 * Whether WAL `n` holds anything of its own: not empty, and, when its first header is a recyclable
 * one (src/record/FORMAT.md §2), that header names log `n` (a reused file starts with its earlier
 * use's records until its first write lands).
 */
async function holdsOwnData(fs: FileSystem, path: string, n: number): Promise<boolean> {
  const size = (await fs.stat(path)).size;
  if (size === 0) return false;
  if (size < RECYCLABLE_HEADER_SIZE) return true;
  const f = await fs.openReadable(path);
  try {
    const head = await f.read(0, RECYCLABLE_HEADER_SIZE);
    return !isRecyclableType(head[6]!) || getFixed32(head, HEADER_SIZE) === n >>> 0;
  } finally {
    await f.close();
  }
}

/**
 * A directory without CURRENT is a new database only if it holds none of our database files. With a
 * MANIFEST, a table or a WAL but no CURRENT, CURRENT was lost (deleted, or never written back after a
 * copy): creating afresh would sweep every table and the old MANIFEST as obsolete. LOCK, LOG and
 * OPTIONS files do not count: a first open that failed early leaves those, and they hold no data.
 */
async function refuseDatabaseWithoutCurrent(fs: FileSystem, dir: string): Promise<void> {
  if (!(await fs.exists(dir))) return;
  const manifests: number[] = [];
  let tables = 0, wals = 0;
  for (const name of await fs.list(dir)) {
    const p = parseFileName(name);
    if (p?.type === 'manifest') manifests.push(p.number);
    else if (p?.type === 'table') tables++;
    else if (p?.type === 'wal') wals++;
  }
  if (manifests.length === 0 && tables === 0 && wals === 0) return;
  const found = [
    manifests.length > 0 ? `${manifests.length} MANIFEST file(s)` : '',
    tables > 0 ? `${tables} table(s)` : '',
    wals > 0 ? `${wals} WAL(s)` : '',
  ].filter(Boolean).join(', ');
  const newest = manifests.length > 0 ? manifestBaseName(Math.max(...manifests)) : undefined;
  const repair = newest
    ? `if CURRENT was lost, write the line '${newest}' (the newest MANIFEST) into ${currentFileName(dir)} ` +
      `(e.g. echo ${newest} > CURRENT) and open again; or restore a backup`
    : 'no MANIFEST is left to point CURRENT at: run `stratadb repair DIR` (DB.repair) to rebuild one from the tables and WALs, or restore a backup or a checkpoint';
  throw new CorruptionError(currentFileName(dir), 0,
    `CURRENT is missing but ${dir} holds ${found}; refusing to open it as a new database ` +
    `(that would delete them). To repair: ${repair}`);
}
