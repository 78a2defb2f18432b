/**
 * A table proves it is the file the MANIFEST names (src/manifest/table-identity.ts): two valid
 * tables swapped, one copied over another, or a table of another database with the same number are
 * ERR_CORRUPTION naming the file at the first read (plain and encrypted), never stale values or
 * missing keys; compaction refuses such an input. Tables and MANIFESTs without ids (older builds)
 * still open, checked by size. Checkpoints, backups and restores keep every table's id.
 * The tables swapped here have equal sizes on purpose, so only the unique id can tell them apart.
 */
import { copyFileSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BackupEngine, DB, inspect, staticKeyProvider, WriteBatch, type Options } from '../../src/index.js';
import { NodeFileSystem } from '../../src/fs/node-fs.js';
import { TableWriter } from '../../sstable/table-writer.js';
import { internalKeyComparator, internalKeyToUserKey, makeInternalKey, ValueKind } from '../../src/base/internal-key.js';
import { makeFileMetadata, type FileMetadata } from '../../src/manifest/file-metadata.js';
import { tableFileName } from '../../src/manifest/file-names.js';
import { writeManifestSnapshot } from '../../src/manifest/manifest-snapshot.js';
import { ChecksummedFile } from '../../src/fs/checksummed-file.js';
import { tempDir } from '../support/tmpdir.js';

const KEYS = 10;
const base: Partial<Options> = { compression: 'none', compactionExecutor: 'inline' };

function tables(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith('.sst')).sort();
}

/** Two flushes of the same keys with equal-length values: two tables of equal size, the newer wins. */
async function twoTables(dir: string, options: Partial<Options> = {}, values: [string, string] = ['old1', 'new2']): Promise<void> {
  const db = await DB.open(dir, { ...base, ...options });
  for (const v of values) {
    const b = new WriteBatch();
    for (let i = 0; i < KEYS; i++) b.put(`k${i}`, `${v}-${i}`);
    await db.write(b);
    await db.flush();
  }
  await db.close();
}

async function expectNotTheTable(p: Promise<unknown>, file: string, what: RegExp = /unique id [0-9a-f]{32}, the file has [0-9a-f]{32}/): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e as { code?: string; message?: string });
  expect(err, 'expected ERR_CORRUPTION, the read succeeded').toBeDefined();
  expect(err!.code).toBe('ERR_CORRUPTION');
  expect(err!.message).toContain(file);
  expect(err!.message).toMatch(/not the table the MANIFEST lists as \d{6}/);
  expect(err!.message).toMatch(what);
}

function swap(dir: string, a: string, b: string): void {
  expect(statSync(join(dir, a)).size, 'the test wants equal sizes: only the id differs').toBe(statSync(join(dir, b)).size);
  renameSync(join(dir, a), join(dir, 'swap.tmp'));
  renameSync(join(dir, b), join(dir, a));
  renameSync(join(dir, 'swap.tmp'), join(dir, b));
}

describe('table identity: swapped or foreign tables are refused', () => {
  for (const encrypted of [false, true]) {
    it(`two tables swapped in a closed database (${encrypted ? 'encrypted' : 'plain'}): reopen + get is ERR_CORRUPTION naming the file`, async () => {
      const dir = await tempDir();
      const options: Partial<Options> = encrypted ? { encryption: { keyProvider: staticKeyProvider({ k1: randomBytes(32) }, 'k1') } } : {};
      await twoTables(dir, options);
      const [a, b] = tables(dir);
      swap(dir, a!, b!);
      const db = await DB.open(dir, { ...base, ...options });
      try {
        await expectNotTheTable(db.get('k3'), join(dir, b!));
        // An iterator opens every table too.
        await expectNotTheTable((async () => { for await (const _ of db.iterator()) { /* drain */ } })(), '.sst');
      } finally {
        await db.close();
      }
    });
  }

  it('one table copied over another', async () => {
    const dir = await tempDir();
    await twoTables(dir);
    const [a, b] = tables(dir);
    copyFileSync(join(dir, b!), join(dir, a!));
    const db = await DB.open(dir, base);
    try {
      // The newer table (b) is still right: keys are found there. The older one is opened for a key inside its range that b lacks.
      expect((await db.get('k1'))?.toString()).toBe('new2-1');
      await expectNotTheTable(db.get('k15'), join(dir, a!));
    } finally {
      await db.close();
    }
  });

  it('a table of another database with the same number', async () => {
    const [dir, other] = [await tempDir(), await tempDir()];
    await twoTables(dir);
    await twoTables(other, {}, ['OLD1', 'NEW2']);
    const name = tables(dir)[1]!;
    expect(tables(other)).toContain(name);
    copyFileSync(join(other, name), join(dir, name));
    const db = await DB.open(dir, base);
    try {
      await expectNotTheTable(db.get('k0'), join(dir, name));
    } finally {
      await db.close();
    }
  });

  it('a compaction refuses an input that is not the table the MANIFEST names', async () => {
    const dir = await tempDir();
    await twoTables(dir);
    const [a, b] = tables(dir);
    swap(dir, a!, b!);
    const db = await DB.open(dir, base);
    try {
      await expectNotTheTable(db.compactRange(), '.sst');
    } finally {
      await db.close().catch(() => undefined);
    }
  });

  it('a different size is refused before the table is parsed', async () => {
    const dir = await tempDir();
    await twoTables(dir, {}, ['short', 'a-much-longer-value']);
    const [a, b] = tables(dir);
    renameSync(join(dir, a!), join(dir, 'x.tmp'));
    renameSync(join(dir, b!), join(dir, a!));
    renameSync(join(dir, 'x.tmp'), join(dir, b!));
    const db = await DB.open(dir, base);
    try {
      await expectNotTheTable(db.get('k0'), join(dir, b!), /the MANIFEST records \d+ bytes, the file has \d+/);
    } finally {
      await db.close();
    }
  });
});

/** Writes a table the way builds before unique ids did (no `unique_id` property) and its metadata. */
async function legacyTable(dir: string, fileNumber: number, firstSeq: number, value: string): Promise<FileMetadata> {
  const fs = new NodeFileSystem();
  const file = new ChecksummedFile(await fs.openWritable(tableFileName(dir, fileNumber)));
  const w = new TableWriter(file, {
    blockSize: 4096, blockRestartInterval: 16, compression: 'none', bloomBitsPerKey: 10, comparator: internalKeyComparator,
    filterKeyTransform: internalKeyToUserKey, keysAreInternal: true, fileName: tableFileName(dir, fileNumber),
  });
  for (let i = 0; i < KEYS; i++) {
    const a = w.add(makeInternalKey(Buffer.from(`k${i}`), firstSeq + i, ValueKind.Put), Buffer.from(`${value}-${i}`));
    if (a) await a;
  }
  const r = await w.finish();
  await file.sync();
  await file.close();
  expect(r.properties.uniqueId).toBeUndefined();
  const p = r.properties;
  return makeFileMetadata({
    fileNumber, fileSize: r.fileSize, crc32c: file.checksum, smallest: p.smallestKey!, largest: p.largestKey!,
    smallestSeq: p.smallestSeq!, largestSeq: p.largestSeq!, numEntries: p.numEntries, numDeletions: p.numDeletions,
  });
}

async function legacyDatabase(dir: string, values: [string, string]): Promise<void> {
  const fs = new NodeFileSystem();
  const f1 = await legacyTable(dir, 1, 1, values[0]);
  const f2 = await legacyTable(dir, 2, 1 + KEYS, values[1]);
  await writeManifestSnapshot(fs, dir, {
    manifestNumber: 3, files: [{ level: 0, file: f1 }, { level: 0, file: f2 }], nextFileNumber: 4, logNumber: 4, lastSequence: 2 * KEYS,
  });
}

describe('tables and MANIFESTs without ids', () => {
  it('still open and read (size check only), and a reopen keeps them working', async () => {
    const dir = await tempDir();
    await legacyDatabase(dir, ['old1', 'new2']);
    const m = await inspect.manifest(dir);
    expect(m.levels[0]!.files.every((f) => f.uniqueId === undefined)).toBe(true);
    for (let round = 0; round < 2; round++) {
      const db = await DB.open(dir, base);
      try {
        expect((await db.get('k4'))?.toString()).toBe('new2-4');
        await db.verifyChecksums();
      } finally {
        await db.close();
      }
    }
  });

  it('a table with an id under a MANIFEST entry without one opens (an older build rewrote the MANIFEST)', async () => {
    const dir = await tempDir();
    await twoTables(dir);
    // Rewrite the MANIFEST without ids, as a build that skips the safe-to-ignore field would.
    const m = await inspect.manifest(dir);
    expect(m.levels[0]!.files.every((f) => /^[0-9a-f]{32}$/.test(f.uniqueId ?? ''))).toBe(true);
    const files = m.levels[0]!.files.map((f) => ({
      level: 0, file: makeFileMetadata({
        fileNumber: f.fileNumber, fileSize: f.fileSize, crc32c: parseInt(f.crc32c, 16), smallest: Buffer.from(f.smallestHex, 'hex'),
        largest: Buffer.from(f.largestHex, 'hex'), smallestSeq: f.smallestSeq, largestSeq: f.largestSeq,
        numEntries: f.numEntries, numDeletions: f.numDeletions,
      }),
    }));
    const next = m.nextFileNumber! + 1;
    await writeManifestSnapshot(new NodeFileSystem(), dir, { manifestNumber: m.nextFileNumber!, files, nextFileNumber: next, logNumber: next, lastSequence: m.lastSequence! });
    const db = await DB.open(dir, base);
    try {
      expect((await db.get('k2'))?.toString()).toBe('new2-2');
    } finally {
      await db.close();
    }
  });

  it('a table without an id under an entry that has one is refused', async () => {
    const [dir, legacy] = [await tempDir(), await tempDir()];
    await twoTables(dir);
    await legacyDatabase(legacy, ['old1', 'new2']);
    const name = tables(dir)[0]!;
    const before = statSync(join(dir, name)).size;
    expect(statSync(join(legacy, '000001.sst')).size, 'legacy table is smaller by the property').toBeLessThan(before);
    // Same size is not reachable without the id (it is the size difference): the size check fires first.
    copyFileSync(join(legacy, '000001.sst'), join(dir, name));
    const db = await DB.open(dir, base);
    try {
      await expectNotTheTable(db.get('k15'), join(dir, name), /records \d+ bytes/);
    } finally {
      await db.close();
    }
  });
});

async function idsOf(dir: string, options: { encryption?: Options['encryption'] } = {}): Promise<Map<number, string | undefined>> {
  const m = await inspect.manifest(dir, options);
  const out = new Map<number, string | undefined>();
  for (const l of m.levels) for (const f of l.files) out.set(f.fileNumber, f.uniqueId);
  return out;
}

describe('ids survive checkpoints, backups and restores', () => {
  it('checkpoint and backup + restore keep every table id, and the copies still check them', async () => {
    const [dir, ckpt, backups, restored] = [await tempDir(), await tempDir(), await tempDir(), await tempDir()];
    await twoTables(dir);
    const db = await DB.open(dir, base);
    let ids: Map<number, string | undefined>;
    try {
      await db.compactRange();
      await db.put('k1', 'memtable');
      await db.flush();
      ids = await idsOf(dir);
      expect(ids.size).toBeGreaterThan(1);
      for (const id of ids.values()) expect(id).toMatch(/^[0-9a-f]{32}$/);
      await db.checkpoint(join(ckpt, 'c'));
      await db.backup(backups);
    } finally {
      await db.close();
    }
    const engine = await BackupEngine.open(backups);
    await engine.verify('latest');
    await engine.restore('latest', join(restored, 'r'));
    for (const copy of [join(ckpt, 'c'), join(restored, 'r')]) {
      const copied = await idsOf(copy);
      for (const [n, id] of ids) expect(copied.get(n), `${copy} table ${n}`).toBe(id);
      const reopened = await DB.open(copy, base);
      try {
        expect((await reopened.get('k1'))?.toString()).toBe('memtable');
        expect((await reopened.get('k2'))?.toString()).toBe('new2-2');
      } finally {
        await reopened.close();
      }
    }
  });
});
