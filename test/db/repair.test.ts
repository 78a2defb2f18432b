/**
 * DB.repair(dir) (src/engine/repair.ts) against each kind of damage, after a seeded workload with
 * flushes, compactions and range deletions (test/support/repair-workload.ts): CURRENT deleted, the
 * MANIFEST truncated, one table corrupted, a WAL with a torn tail, an encrypted database; and the
 * refusals (a locked database, an empty or missing directory) that change nothing. Files that are not
 * the database's are left where they are, untouched. Each repaired database reopens, passes
 * verifyChecksums and reads as the model says.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DB, inspect, NodeFileSystem, staticKeyProvider } from '../../src/index.js';
import { compareBytes } from '../../src/base/bytes.js';
import { userKeyOf } from '../../src/base/internal-key.js';
import { openTableReader } from '../../src/table/table-open.js';
import { tableRangeDels } from '../../src/table/table-range-dels.js';
import { tempDir } from '../support/tmpdir.js';
import { withSeed } from '../support/rng.js';
import { rejectsWith } from '../support/db-check.js';
import { flipByte } from '../tools/cli-helpers.js';
import { checkAgainst, runWorkload, WORKLOAD_OPTIONS } from '../support/repair-workload.js';

const listing = (dir: string): string[] => readdirSync(dir).sort();
const named = (dir: string, suffix: string): string[] => listing(dir).filter((n) => n.endsWith(suffix));
const dec = new TextDecoder();

/** The user-key range [lo, hi] table `file` covers, entries and range deletions alike. */
async function userRange(file: string): Promise<[string, string]> {
  const reader = await openTableReader(await new NodeFileSystem().openReadable(file), file, { syncReads: true });
  try {
    const bounds: Uint8Array[] = [];
    const p = reader.properties;
    if (p.smallestKey) bounds.push(userKeyOf(p.smallestKey), userKeyOf(p.largestKey!));
    for (const f of tableRangeDels(reader).fragments()) bounds.push(f.start, f.end);
    bounds.sort(compareBytes);
    return [dec.decode(bounds[0]), dec.decode(bounds[bounds.length - 1])];
  } finally {
    await reader.close();
  }
}

describe('DB.repair after damage', () => {
  it('CURRENT deleted: every key comes back; the old MANIFEST and the WALs go to lost/', async () => {
    await withSeed('repair-current', async (rng) => {
      const dir = await tempDir();
      const w = await runWorkload(dir, rng, { ops: 500 });
      const oldManifests = named(dir, '').filter((n) => n.startsWith('MANIFEST-'));
      const wals = named(dir, '.log');
      rmSync(path.join(dir, 'CURRENT'));
      const r = await DB.repair(dir);
      expect(r.tablesDropped).toEqual([]);
      expect(r.walsReplayed).toBe(wals.length);
      expect(r.entriesRecovered).toBeGreaterThanOrEqual(20); // the workload's tail lives only in the WAL
      const lost = listing(path.join(dir, 'lost'));
      for (const n of [...oldManifests, ...wals]) expect(lost).toContain(n);
      expect(r.movedToLost).toEqual(expect.arrayContaining([...oldManifests, ...wals].map((n) => path.join('lost', n))));
      expect(named(dir, '.log')).toEqual([]);
      await checkAgainst(dir, w.model, w.everKeys);
    });
  });

  it('a table kept as it is keeps its newest write time (what FIFO\'s TTL reads), from its properties', async () => {
    const dir = await tempDir();
    let now = 1_700_000_000_000;
    const db = await DB.open(dir, { clock: () => now });
    await db.put('k', 'v');
    await db.flush();
    now += 60_000;
    await db.close();
    const before = (await inspect.manifest(dir)).levels.flatMap((l) => l.files);
    expect(before.map((f) => f.newestWriteTimeMs)).toEqual([1_700_000_000_000]);
    rmSync(path.join(dir, 'CURRENT'));
    await DB.repair(dir);
    const after = (await inspect.manifest(dir)).levels.flatMap((l) => l.files);
    expect(after.map((f) => [f.fileNumber, f.newestWriteTimeMs])).toEqual([[before[0]!.fileNumber, 1_700_000_000_000]]);
  });

  it('MANIFEST truncated: repaired from the tables and WALs, whatever the MANIFEST still said', async () => {
    await withSeed('repair-truncated', async (rng) => {
      const dir = await tempDir();
      const w = await runWorkload(dir, rng, { ops: 500 });
      const manifest = named(dir, '').filter((n) => n.startsWith('MANIFEST-')).pop()!;
      const file = path.join(dir, manifest);
      truncateSync(file, Math.floor(statSync(file).size / 2));
      await rejectsWith(() => DB.open(dir), 'ERR_CORRUPTION', 'open with a truncated MANIFEST');
      const r = await DB.repair(dir);
      expect(r.tablesDropped).toEqual([]);
      expect(r.movedToLost).toContain(path.join('lost', manifest));
      await checkAgainst(dir, w.model, w.everKeys);
    });
  });

  it('one table corrupted: it goes to lost/ and the report names it; every key outside it reads right', async () => {
    await withSeed('repair-bad-table', async (rng) => {
      const dir = await tempDir();
      const w = await runWorkload(dir, rng, { ops: 500 });
      // The table covering the fewest keys, so that most keys are checked exactly.
      const ranges = await Promise.all(named(dir, '.sst').map(async (n) => ({ n, range: await userRange(path.join(dir, n)) })));
      const inRange = (k: string, [lo, hi]: [string, string]): boolean => k >= lo && k <= hi;
      const covered = (r: [string, string]): number => [...w.everKeys].filter((k) => inRange(k, r)).length;
      ranges.sort((a, b) => covered(a.range) - covered(b.range));
      const victim = ranges[0]!;
      await flipByte(path.join(dir, victim.n), 5);
      const r = await DB.repair(dir);
      expect(r.tablesDropped.map((d) => d.file)).toEqual([victim.n]);
      expect(r.tablesDropped[0]!.reason).toMatch(/corruption at offset|checksum/i);
      expect(r.movedToLost).toContain(path.join('lost', victim.n));
      expect(existsSync(path.join(dir, 'lost', victim.n))).toBe(true);
      const skip = (k: string): boolean => inRange(k, victim.range);
      expect([...w.everKeys].filter((k) => !skip(k)).length).toBeGreaterThan(w.everKeys.size / 2);
      await checkAgainst(dir, w.model, w.everKeys, skip);
    });
  });

  it('a valid table that is not the one an old MANIFEST lists under its number is dropped (identity check)', async () => {
    const make = async (dir: string, tag: string): Promise<void> => {
      const db = await DB.open(dir);
      for (let i = 0; i < 40; i++) await db.put(`k${String(i).padStart(2, '0')}`, `${tag}${i}`);
      await db.flush();
      for (let i = 40; i < 80; i++) await db.put(`k${String(i).padStart(2, '0')}`, `${tag}${i}`);
      await db.close();
    };
    const a = await tempDir(), b = await tempDir();
    await make(a, 'a');
    await make(b, 'b');
    const tables = named(a, '.sst');
    expect(named(b, '.sst')).toEqual(tables);
    const swapped = tables[0]!;
    writeFileSync(path.join(a, swapped), readFileSync(path.join(b, swapped)));
    rmSync(path.join(a, 'CURRENT'));
    const r = await DB.repair(a);
    expect(r.tablesDropped.map((d) => d.file)).toEqual([swapped]);
    expect(r.tablesDropped[0]!.reason).toMatch(/not the table an old MANIFEST lists/);
    const db = await DB.open(a);
    try {
      for await (const [, v] of db.iterator()) expect(v.toString()).toMatch(/^a/);
    } finally {
      await db.close();
    }
  });

  it('a WAL with a torn tail: replay stops at the torn record, everything before it survives', async () => {
    await withSeed('repair-torn-wal', async (rng) => {
      const dir = await tempDir();
      const w = await runWorkload(dir, rng, { ops: 400 });
      const db = await DB.open(dir, WORKLOAD_OPTIONS);
      await db.put('torn', 'the last record, cut short');
      await db.close();
      const wal = named(dir, '.log').pop()!;
      const file = path.join(dir, wal);
      truncateSync(file, statSync(file).size - 3);
      rmSync(path.join(dir, 'CURRENT'));
      const r = await DB.repair(dir);
      expect(r.walsStopped.map((s) => s.file)).toEqual([wal]);
      expect(r.walsStopped[0]!.offset).toBeGreaterThan(0);
      await checkAgainst(dir, w.model, new Set([...w.everKeys, 'torn']));
    });
  });

  it('an encrypted database is repaired with the same encryption option, and refused (unchanged) without it', async () => {
    await withSeed('repair-encrypted', async (rng) => {
      const dir = await tempDir();
      const keyProvider = staticKeyProvider({ k1: 'ab'.repeat(32) }, 'k1');
      const encryption = { keyProvider };
      const w = await runWorkload(dir, rng, { ops: 300, options: { encryption } });
      rmSync(path.join(dir, 'CURRENT'));
      const before = listing(dir);
      const refused = await DB.repair(dir).then(() => undefined, (e: unknown) => e) as { code?: string } | undefined;
      expect(refused?.code).toBe('ERR_INVALID_ARGUMENT'); // names the key id it needs
      expect(listing(dir)).toEqual(before);
      const r = await DB.repair(dir, { encryption });
      expect(r.tablesDropped).toEqual([]);
      await checkAgainst(dir, w.model, w.everKeys, () => false, { encryption });
    });
  });
});

describe('DB.repair refusals and strangers', () => {
  it('refuses a database open in this process (ERR_LOCKED) and changes nothing', async () => {
    const dir = await tempDir();
    const db = await DB.open(dir);
    await db.put('a', '1');
    await db.flush();
    const before = listing(dir);
    await rejectsWith(() => DB.repair(dir), 'ERR_LOCKED', 'repair while open');
    expect(listing(dir)).toEqual(before);
    expect((await db.get('a'))?.toString()).toBe('1');
    await db.close();
  });

  it('refuses an empty directory and a missing one (ERR_INVALID_ARGUMENT), creating nothing', async () => {
    const dir = await tempDir();
    await rejectsWith(() => DB.repair(dir), 'ERR_INVALID_ARGUMENT', 'repair of an empty directory');
    expect(listing(dir)).toEqual([]);
    writeFileSync(path.join(dir, 'notes.txt'), 'not a database');
    await rejectsWith(() => DB.repair(dir), 'ERR_INVALID_ARGUMENT', 'repair of a directory without database files');
    expect(listing(dir)).toEqual(['notes.txt']);
    await rejectsWith(() => DB.repair(path.join(dir, 'missing')), 'ERR_INVALID_ARGUMENT', 'repair of a missing directory');
    expect(existsSync(path.join(dir, 'missing'))).toBe(false);
  });

  it('leaves files that are not the database\'s, and subdirectories, where they are, untouched', async () => {
    const dir = await tempDir();
    const db = await DB.open(dir);
    for (let i = 0; i < 50; i++) await db.put(`k${i}`, `v${i}`);
    await db.close();
    writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    writeFileSync(path.join(dir, '000123.sst.bak'), 'mine too');
    mkdirSync(path.join(dir, 'sub'));
    writeFileSync(path.join(dir, 'sub', '000001.sst'), 'not at the top level');
    rmSync(path.join(dir, 'CURRENT'));
    const r = await DB.repair(dir);
    expect(r.movedToLost.some((p) => /notes|bak|sub/.test(p))).toBe(false);
    expect(readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(readFileSync(path.join(dir, '000123.sst.bak'), 'utf8')).toBe('mine too');
    expect(readFileSync(path.join(dir, 'sub', '000001.sst'), 'utf8')).toBe('not at the top level');
    const reopened = await DB.open(dir);
    expect((await reopened.get('k7'))?.toString()).toBe('v7');
    await reopened.close();
  });

  it('a second repair of a repaired database keeps everything and does not overwrite lost/', async () => {
    const dir = await tempDir();
    const db = await DB.open(dir, { flushOnClose: false });
    for (let i = 0; i < 50; i++) await db.put(`k${i}`, `v${i}`);
    await db.close();
    await DB.repair(dir);
    const firstLost = listing(path.join(dir, 'lost'));
    const again = await DB.repair(dir);
    expect(again.tablesDropped).toEqual([]);
    const lost = listing(path.join(dir, 'lost'));
    for (const n of firstLost) expect(lost).toContain(n);
    expect(lost).toContain('CURRENT.1');
    const reopened = await DB.open(dir);
    for (let i = 0; i < 50; i++) expect((await reopened.get(`k${i}`))?.toString()).toBe(`v${i}`);
    await reopened.close();
  });
});
