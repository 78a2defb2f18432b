/**
 * Compaction filters through the database (inline executor on a MemFileSystem; the worker case is
 * compaction-filter-worker.test.ts): a module filter that removes entries, one that rewrites values,
 * the built-in ttl with and without fromValue under an injected clock, the snapshot rule (never a
 * version a live snapshot can see), no tombstone left at the bottom, and errors (a throw, a bad
 * answer, a missing module or export) that fail the compaction and leave the data as it was.
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { fileURLToPath } from 'node:url';
import { DB, inspect, MemFileSystem, ttl, type Options } from '../../src/index.js';
import { readAll, rejectsWith, throwsWith } from '../support/db-check.js';

const FILTERS = fileURLToPath(new URL('../support/compaction-filters.mjs', import.meta.url));
const DIR = '/db';
const QUIET: Options = { level0CompactionTrigger: 100, level0SlowdownTrigger: 100, level0StopTrigger: 100, compactionExecutor: 'inline' };

async function open(fs: MemFileSystem, options: Options): Promise<DB> {
  return DB.open(DIR, { ...QUIET, fs, ...options });
}

async function current(db: DB): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const [k, v] of db.iterator()) out[k.toString()] = v.toString();
  return out;
}

async function tables(fs: MemFileSystem): Promise<string[]> {
  return (await fs.list(DIR)).filter((n) => n.endsWith('.sst')).sort();
}

describe('compaction filter: a module export', () => {
  it('removes exactly the entries it answers remove for, leaving no tombstone at the bottom', async () => {
    const fs = new MemFileSystem();
    const db = await open(fs, { compactionFilter: { module: FILTERS, export: 'dropX' } });
    for (let i = 0; i < 50; i++) await db.put(`k${String(i).padStart(2, '0')}`, i % 5 === 0 ? `x-${i}` : `v-${i}`);
    await db.flush();
    await db.compactRange();
    const rows = await current(db);
    expect(Object.keys(rows)).toHaveLength(40);
    for (const [k, v] of Object.entries(rows)) expect(v.startsWith('x'), k).toBe(false);
    const m = await inspect.manifest(DIR, { fs });
    const files = m.levels.flatMap((l) => l.files);
    expect(files.reduce((n, f) => n + f.numDeletions, 0)).toBe(0);
    expect(db.stats().compactionFilter).toEqual({ removed: 10, changed: 0 });
    await db.close();
  });

  it('turns remove into a tombstone while an older version is kept, so that version does not come back', async () => {
    const fs = new MemFileSystem();
    const db = await open(fs, { compactionFilter: { module: FILTERS, export: 'dropX' } });
    await db.put('a', 'v'); await db.put('m', 'old'); await db.put('z', 'v');
    const snap = db.snapshot(); // keeps m=old in the output
    await db.put('m', 'x-new');
    await db.flush();
    await db.compactRange();
    expect(await db.get('m')).toBeUndefined();
    expect((await db.get('m', { snapshot: snap }))?.toString()).toBe('old');
    const files = (await inspect.manifest(DIR, { fs })).levels.flatMap((l) => l.files);
    expect(files.reduce((n, f) => n + f.numDeletions, 0)).toBe(1);
    snap.release();
    await db.put('b', 'v'); await db.put('y', 'v');
    await db.flush();
    await db.compactRange(); // no snapshot: the tombstone and m=old go, nothing is left of m
    expect(await db.get('m')).toBeUndefined();
    const after = (await inspect.manifest(DIR, { fs })).levels.flatMap((l) => l.files);
    expect(after.reduce((n, f) => n + f.numDeletions, 0)).toBe(0);
    expect(Object.keys(await current(db))).toEqual(['a', 'b', 'y', 'z']);
    await db.close();
  });

  it('never changes a version a live snapshot can see; after its release the next compaction does', async () => {
    const fs = new MemFileSystem();
    const db = await open(fs, { compactionFilter: { module: FILTERS, export: 'dropX' } });
    for (let i = 0; i < 20; i++) await db.put(`k${String(i).padStart(2, '0')}`, i % 4 === 0 ? `x-${i}` : `v-${i}`);
    const snap = db.snapshot();
    const atSnap = await readAll(db, snap);
    await db.put('k99', 'x-after'); // newer than the snapshot: the filter may remove it
    await db.flush();
    await db.compactRange();
    expect(await readAll(db, snap)).toEqual(atSnap);
    expect((await db.get('k00'))?.toString()).toBe('x-0'); // the snapshot sees it: kept
    expect(await db.get('k99')).toBeUndefined();
    snap.release();
    // An overlapping table makes the next compaction rewrite the level (the filter sees each entry again).
    await db.put('k00a', 'v'); await db.put('k19z', 'v');
    await db.flush();
    await db.compactRange();
    const rows = await current(db);
    expect(Object.keys(rows).filter((k) => rows[k]!.startsWith('x'))).toEqual([]);
    expect(Object.keys(rows)).toHaveLength(17);
    await db.close();
  });

  it('replaces values, passing the output level, and leaves other entries alone', async () => {
    const fs = new MemFileSystem();
    let db = await open(fs, {});
    await db.put('ua', 'hello'); await db.put('ub', 'world'); await db.put('other', 'same'); await db.put('lvl', '?');
    await db.close();
    db = await open(fs, { compactionFilter: { module: FILTERS, export: 'upper' } });
    await db.flush();
    await db.compactRange();
    expect(await current(db)).toEqual({ ua: 'HELLO', ub: 'WORLD', other: 'same', lvl: '?' });
    expect(db.stats().compactionFilter).toEqual({ removed: 0, changed: 2 });
    await db.close();
    db = await open(fs, { compactionFilter: { module: FILTERS, export: 'tagLevel' } });
    await db.put('lvl', 'again');
    await db.flush();
    await db.compactRange();
    expect((await db.get('lvl'))?.toString()).toBe('L1');
    await db.close();
  });

  it('does not run at flush', async () => {
    const fs = new MemFileSystem();
    const db = await open(fs, { compactionFilter: { module: FILTERS, export: 'dropX' } });
    await db.put('a', 'x-flushed');
    await db.flush();
    expect((await db.get('a'))?.toString()).toBe('x-flushed');
    await db.close();
  });
});

describe('compaction filter: errors fail the compaction, never the data', () => {
  const cases: Array<[string, Options['compactionFilter'], RegExp]> = [
    ['a throw', { module: FILTERS, export: 'throwsOnBoom' }, /threw on key 'boom': filter exploded on purpose/],
    ['a bad answer', { module: FILTERS, export: 'badReturn' }, /returned 42 for key/],
    ['a Promise', { module: FILTERS, export: 'asyncFilter' }, /returned .* a Promise is not allowed/],
    ['a missing module', { module: '/nonexistent/filter.mjs' }, /the module could not be loaded/],
    ['an export that is not a function', { module: FILTERS, export: 'notAFunction' }, /export notAFunction is a number, not a function/],
    ['a missing export', { module: FILTERS, export: 'nope' }, /export nope is missing/],
  ];
  it.each(cases)('%s', async (_name, filter, message) => {
    const fs = new MemFileSystem();
    let db = await open(fs, {});
    for (const k of ['a', 'boom', 'c']) await db.put(k, `v-${k}`);
    await db.flush();
    await db.put('boom', 'v-boom2');
    await db.close();
    db = await open(fs, { compactionFilter: filter });
    await db.flush();
    const before = await readAll(db);
    const tablesBefore = await tables(fs);
    const errors: string[] = [];
    db.on('background-error', (e) => errors.push(e.error.message));
    const e = await rejectsWith(() => db.compactRange(), 'ERR_INVALID_ARGUMENT', 'compactRange');
    expect(e.message).toMatch(message);
    expect(await readAll(db)).toEqual(before);
    expect(await tables(fs)).toEqual(tablesBefore); // no output left behind
    expect(db.stats().backgroundErrors).toBe(1);
    expect(db.stats().readOnlyReason).toBeUndefined();
    expect(errors).toHaveLength(1);
    await db.put('still', 'writable');
    await db.close();
    db = await open(fs, {});
    await db.compactRange();
    expect((await db.get('boom'))?.toString()).toBe('v-boom2');
    await db.close();
  });
});

describe('compaction filter: the built-in ttl', () => {
  it('without fromValue: by the newest write time of the entry\'s table, carried into the outputs', async () => {
    const fs = new MemFileSystem();
    let now = 1000;
    const db = await open(fs, { clock: () => now, compactionFilter: ttl({ ms: 3000 }) });
    await db.put('old1', 'a'); await db.put('old2', 'b');
    await db.flush(); // written and flushed at 1000
    now = 5000;
    await db.put('new1', 'c'); await db.put('new2', 'd');
    await db.flush(); // at 5000
    now = 5500; // expired: written before 2500
    await db.compactRange();
    expect(await current(db)).toEqual({ new1: 'c', new2: 'd' });
    const m = await inspect.manifest(DIR, { fs });
    const out = m.levels[1]!.files[0]!;
    const t = await inspect.table(`${DIR}/${String(out.fileNumber).padStart(6, '0')}.sst`, { fs });
    expect(t.properties.creationTimeMs).toBe(5500);
    expect(t.properties.newestWriteTimeMs).toBe(5000);
    expect(out.newestWriteTimeMs).toBe(5000); // the MANIFEST (what FIFO's TTL reads) says the same
    // At 8200 the bound is 5200: the output's own creation time (5500) would keep new1/new2, its
    // newest write time (5000) expires them.
    now = 8200;
    await db.put('new15', 'e'); // inside L1's range: the compaction rewrites L1 with it
    await db.flush();
    await db.compactRange();
    expect(await current(db)).toEqual({ new15: 'e' });
    await db.close();
  });

  it('each output carries its own newest write time, the same in the MANIFEST and in the table', async () => {
    const fs = new MemFileSystem();
    let now = 1000;
    const db = await open(fs, { clock: () => now, targetFileSize: 4096, compression: 'none' });
    const value = 'x'.repeat(200);
    for (let i = 0; i < 40; i++) await db.put(`a${String(i).padStart(3, '0')}`, value);
    await db.flush(); // at 1000
    now = 5000;
    for (let i = 0; i < 40; i++) await db.put(`z${String(i).padStart(3, '0')}`, value);
    await db.flush(); // at 5000
    now = 6000;
    await db.compactRange();
    const files = (await inspect.manifest(DIR, { fs })).levels[1]!.files;
    expect(files.length).toBeGreaterThan(2);
    const times: number[] = [];
    for (const f of files) {
      const t = await inspect.table(`${DIR}/${String(f.fileNumber).padStart(6, '0')}.sst`, { fs });
      expect(f.newestWriteTimeMs).toBe(t.properties.newestWriteTimeMs ?? t.properties.creationTimeMs);
      times.push(f.newestWriteTimeMs!);
    }
    // Outputs holding only the keys flushed at 1000 say 1000, not the newest input's 5000: FIFO's TTL
    // would otherwise keep them 4 s too long.
    expect(times[0]).toBe(1000);
    expect(times[times.length - 1]).toBe(5000);
    await db.close();
  });

  it('with fromValue: by the time in the value (u64be-ms and u32be-s); short values are kept', async () => {
    const fs = new MemFileSystem();
    const now = 1_700_000_000_000;
    const ms = (t: number, tail = 'payload'): Buffer => {
      const b = Buffer.alloc(8 + tail.length);
      b.writeBigUInt64BE(BigInt(t), 0);
      b.write(tail, 8);
      return b;
    };
    let db = await open(fs, { clock: () => now, compactionFilter: ttl({ ms: 60_000, fromValue: { offset: 0, type: 'u64be-ms' } }) });
    await db.put('expired', ms(now - 61_000));
    await db.put('fresh', ms(now - 59_000));
    await db.put('short', 'abc');
    await db.flush();
    await db.compactRange();
    expect(Object.keys(await current(db)).sort()).toEqual(['fresh', 'short']);
    await db.close();
    db = await open(fs, { clock: () => now, compactionFilter: ttl({ ms: 60_000, fromValue: { offset: 2, type: 'u32be-s' } }) });
    const s = (t: number): Buffer => { const b = Buffer.alloc(6); b.writeUInt32BE(Math.floor(t / 1000), 2); return b; };
    await db.put('s-expired', s(now - 120_000));
    await db.put('s-fresh', s(now));
    await db.put('zz', 'v'); // makes the L0 table overlap the whole L1 range
    await db.put('a', 'v');
    await db.flush();
    await db.compactRange();
    expect(Object.keys(await current(db)).sort()).toEqual(['a', 's-fresh', 'short', 'zz']);
    await db.close();
  });
});

describe('compaction filter: the option', () => {
  it('is checked at open and at ttl(), and recorded in the OPTIONS file', async () => {
    const fs = new MemFileSystem();
    for (const bad of [5, 'x', { module: '' }, { module: FILTERS, export: 3 }, { module: FILTERS, extra: 1 },
      { module: new URL('https://example.com/f.js') }, { kind: 'gc' }, { kind: 'ttl', ms: 0 }]) {
      await rejectsWith(() => DB.open(DIR, { fs, compactionFilter: bad as never }), 'ERR_INVALID_ARGUMENT', JSON.stringify(bad));
    }
    expect(await fs.list('/').catch(() => [])).not.toContain('db');
    throwsWith(() => ttl({ ms: -1 }), 'ERR_INVALID_ARGUMENT');
    throwsWith(() => ttl({ ms: 10, fromValue: { offset: 0, type: 'u16' as never } }), 'ERR_INVALID_ARGUMENT');
    throwsWith(() => ttl({ ms: 10, fromValue: { offset: -1, type: 'u32be-s' } }), 'ERR_INVALID_ARGUMENT');
    await rejectsWith(() => DB.open(DIR, { fs, maxSubcompactions: 0 }), 'ERR_INVALID_ARGUMENT', 'maxSubcompactions 0');
    const db = await open(fs, { compactionFilter: ttl({ ms: 1000, fromValue: { offset: 4, type: 'u64be-ms' } }), maxSubcompactions: 3 });
    await db.close();
    const name = (await fs.list(DIR)).filter((n) => n.startsWith('OPTIONS-')).sort().at(-1)!;
    const text = Buffer.from(await fs.readFile(`${DIR}/${name}`)).toString();
    expect(text).toContain('compactionFilter=ttl(ms=1000, fromValue=u64be-ms@4)');
    expect(text).toContain('maxSubcompactions=3');
    const db2 = await open(fs, { compactionFilter: { module: FILTERS, export: 'dropX' } });
    await db2.close();
    const name2 = (await fs.list(DIR)).filter((n) => n.startsWith('OPTIONS-')).sort().at(-1)!;
    expect(Buffer.from(await fs.readFile(`${DIR}/${name2}`)).toString()).toContain(`compactionFilter=file://${FILTERS}#dropX`);
  });
});
