/**
 * The public API contract (DESIGN.md "Public API" and "Errors"), as an executable conformance suite
 * in the spirit of abstract-level's, part 1: bad arguments, open options, size limits, empty keys,
 * closed databases, locks, createIfMissing/errorIfExists, read-only opens. Part 2 (reads, snapshots,
 * buffer ownership, a 100 MiB value, stats, LOG) is api-contract-reads.test.ts. Each test has its own
 * MemFileSystem or tempDir. Bad input must get ERR_* with nothing written: every such test scans the
 * database afterwards.
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import * as path from 'node:path';
import { DB, MemFileSystem, WriteBatch, type Options } from '../../src/index.js';
import { withSeed } from '../support/rng.js';
import { tempDir } from '../support/tmpdir.js';
import { fileBytes, hex, openMem, readAll, rejectsWith, seeded, throwsWith } from '../support/db-check.js';

const DIR = '/db';
const BAD_KEYS: readonly unknown[] = [undefined, null, 0, 42, NaN, {}, [], [1, 2], true, () => 1, Symbol('k'), new Uint16Array(2)];
const BAD_OPTIONS: readonly unknown[] = [null, 0, 7, 'sync', true, [], [1]];

describe('bad arguments', () => {
  it('put/delete/get/getMany reject bad keys and values (never throw) and write nothing', async () => {
    const { db, before } = await seeded();
    for (const bad of BAD_KEYS) {
      const label = String(typeof bad === 'symbol' ? 'symbol' : JSON.stringify(bad) ?? typeof bad);
      await rejectsWith(() => db.put(bad as string, 'v'), 'ERR_INVALID_ARGUMENT', `put(${label}, v)`);
      await rejectsWith(() => db.put('k', bad as string), 'ERR_INVALID_ARGUMENT', `put(k, ${label})`);
      await rejectsWith(() => db.delete(bad as string), 'ERR_INVALID_ARGUMENT', `delete(${label})`);
      await rejectsWith(() => db.get(bad as string), 'ERR_INVALID_ARGUMENT', `get(${label})`);
      await rejectsWith(() => db.getMany([bad as string]), 'ERR_INVALID_ARGUMENT', `getMany([${label}])`);
      await rejectsWith(() => db.getMany(['a', bad as string, 'b']), 'ERR_INVALID_ARGUMENT', `getMany([a, ${label}, b])`);
    }
    for (const bad of [undefined, null, 'a', 5, {}, new Set(['a'])]) {
      await rejectsWith(() => db.getMany(bad as string[]), 'ERR_INVALID_ARGUMENT', `getMany(${String(bad)})`);
    }
    expect(await readAll(db)).toEqual(before);
    await db.close();
  });

  it('write options, read options and snapshots of the wrong type are refused', async () => {
    const { db, before } = await seeded();
    // Every deviation is collected, so one run reports them all.
    const wrong: string[] = [];
    const check = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        await rejectsWith(fn, 'ERR_INVALID_ARGUMENT', what);
      } catch (e) {
        wrong.push((e as Error).message.split('\n')[0]!);
      }
    };
    const checkSync = async (what: string, fn: () => unknown): Promise<void> => {
      try {
        throwsWith(fn, 'ERR_INVALID_ARGUMENT', what);
      } catch (e) {
        wrong.push((e as Error).message.split('\n')[0]!);
      }
    };
    for (const bad of BAD_OPTIONS) {
      const label = JSON.stringify(bad);
      await check(`put options ${label}`, () => db.put('k', 'v', bad as object));
      await check(`delete options ${label}`, () => db.delete('a', bad as object));
      await check(`write options ${label}`, () => db.write(new WriteBatch().put('k', 'v'), bad as object));
      await check(`get options ${label}`, () => db.get('a', bad as object));
      await check(`getMany options ${label}`, () => db.getMany(['a'], bad as object));
      await checkSync(`iterator options ${label}`, () => db.iterator(bad as object));
      await checkSync(`keys options ${label}`, () => db.keys(bad as object));
      await checkSync(`values options ${label}`, () => db.values(bad as object));
    }
    for (const sync of [1, 'yes', null, {}]) {
      await check(`sync: ${JSON.stringify(sync)}`, () => db.put('k', 'v', { sync } as object));
    }
    for (const snapshot of [null, 1, 'snap', {}, { sequence: 3 }, []]) {
      await check(`get snapshot ${JSON.stringify(snapshot)}`, () => db.get('a', { snapshot } as object));
      await checkSync(`iterator snapshot ${JSON.stringify(snapshot)}`, () => db.iterator({ snapshot } as object));
    }
    // Accepted-by-mistake writes would show here too.
    const after = await readAll(db);
    await db.close();
    expect(wrong).toEqual([]);
    expect(after).toEqual(before);
  });

  it('write(batch) refuses anything but a WriteBatch; WriteBatch methods throw synchronously', async () => {
    const { db, before } = await seeded();
    const fake = { put() { return this; }, delete() { return this; }, length: 1 };
    for (const bad of [undefined, null, 1, 'batch', {}, [], [['put', 'k', 'v']], fake]) {
      await rejectsWith(() => db.write(bad as WriteBatch), 'ERR_INVALID_ARGUMENT', `write(${JSON.stringify(bad)})`);
    }
    const b = new WriteBatch().put('x', '1');
    for (const bad of BAD_KEYS) {
      throwsWith(() => b.put(bad as string, 'v'), 'ERR_INVALID_ARGUMENT', 'batch.put(bad key)');
      throwsWith(() => b.put('k', bad as string), 'ERR_INVALID_ARGUMENT', 'batch.put(bad value)');
      throwsWith(() => b.delete(bad as string), 'ERR_INVALID_ARGUMENT', 'batch.delete(bad key)');
    }
    // The refused calls left the batch as it was: one put.
    expect(b.length).toBe(1);
    await db.write(b);
    expect((await db.get('x'))?.toString()).toBe('1');
    expect(await readAll(db)).toEqual(new Map([...before, [hex(Buffer.from('x')), hex(Buffer.from('1'))]]));
    await db.close();
  });

  it('deleteRange: db.deleteRange, a batch and tx.deleteRange delete [start, end); bad ranges are ERR_INVALID_ARGUMENT and change nothing', async () => {
    const { db, before } = await seeded({ maxKeySize: 8 });
    const seq = db.stats().sequence;
    for (const [s, e] of [['c', 'c'], ['d', 'b'], ['', '']] as const) {
      await rejectsWith(() => db.deleteRange(s, e), 'ERR_INVALID_ARGUMENT', `deleteRange(${s}, ${e})`);
      throwsWith(() => new WriteBatch().deleteRange(s, e), 'ERR_INVALID_ARGUMENT', `batch.deleteRange(${s}, ${e})`);
    }
    for (const bad of BAD_KEYS) {
      await rejectsWith(() => db.deleteRange(bad as string, 'z'), 'ERR_INVALID_ARGUMENT', 'deleteRange(bad start)');
      await rejectsWith(() => db.deleteRange('a', bad as string), 'ERR_INVALID_ARGUMENT', 'deleteRange(bad end)');
    }
    await rejectsWith(() => db.deleteRange('a', 'z'.repeat(9)), 'ERR_TOO_LARGE', 'deleteRange(end over maxKeySize)');
    const tx = db.beginTransaction({ isolation: 'serializable' });
    tx.put('x', '1');
    throwsWith(() => tx.deleteRange('c', 'c'), 'ERR_INVALID_ARGUMENT', 'tx.deleteRange(c, c)');
    throwsWith(() => tx.deleteRange('d', 'b'), 'ERR_INVALID_ARGUMENT', 'tx.deleteRange(d, b)');
    throwsWith(() => tx.deleteRange(null as unknown as string, 'b'), 'ERR_INVALID_ARGUMENT', 'tx.deleteRange(null, b)');
    throwsWith(() => tx.deleteRange('a', 'z'.repeat(9)), 'ERR_TOO_LARGE', 'tx.deleteRange(end over maxKeySize)');
    // The refused calls buffered nothing: the transaction still sees every key.
    expect((await tx.get('c'))?.toString()).toBe('v-c');
    await tx.commit();
    expect(db.stats().sequence).toBe(seq + 1);
    expect(await readAll(db)).toEqual(new Map([...before, [hex(Buffer.from('x')), hex(Buffer.from('1'))]]));

    await db.write(new WriteBatch().put('y', '2').deleteRange('a', 'c'));
    await db.deleteRange('d', 'e');
    await db.transaction(async (t) => { t.deleteRange('x', 'y'); });
    const keys: string[] = [];
    for await (const k of db.keys()) keys.push(k.toString());
    expect(keys).toEqual(['c', 'e', 'y']);
    await db.close();
  });

  it('iterator bounds, reverse and limit of the wrong type throw synchronously', async () => {
    const { db } = await seeded();
    for (const name of ['gt', 'gte', 'lt', 'lte']) {
      for (const bad of [null, 1, {}, [], true]) {
        throwsWith(() => db.iterator({ [name]: bad } as object), 'ERR_INVALID_ARGUMENT', `iterator ${name}: ${JSON.stringify(bad)}`);
      }
    }
    for (const reverse of [1, 'yes', null]) {
      throwsWith(() => db.iterator({ reverse } as object), 'ERR_INVALID_ARGUMENT', `reverse: ${JSON.stringify(reverse)}`);
    }
    for (const limit of ['5', NaN, null, {}, true]) {
      throwsWith(() => db.iterator({ limit } as object), 'ERR_INVALID_ARGUMENT', `limit: ${String(limit)}`);
    }
    await db.close();
  });
});

describe('options at open', () => {
  const refused: [string, unknown][] = [
    ['unknown option', { writeBufferSise: 1 << 20 }],
    ['options not an object', 5],
    ['options an array', []],
    ['options null', null],
    ['writeBufferSize too small', { writeBufferSize: 1 }],
    ['writeBufferSize negative', { writeBufferSize: -1 }],
    ['writeBufferSize a string', { writeBufferSize: '64MB' }],
    ['writeBufferSize NaN', { writeBufferSize: NaN }],
    ['blockSize fractional', { blockSize: 4096.5 }],
    ['bloomBitsPerKey out of range', { bloomBitsPerKey: 100 }],
    ['compression unknown', { compression: 'gzip' }],
    ['compressionPerLevel bad entry', { compressionPerLevel: ['lz4', 'snappy'] }],
    ['numLevels 1', { numLevels: 1 }],
    ['maxOpenFiles 0', { maxOpenFiles: 0 }],
    ['maxKeySize 0', { maxKeySize: 0 }],
    ['walRecoveryMode unknown', { walRecoveryMode: 'skip-any' }],
    ['readOnly not boolean', { readOnly: 'yes' }],
    ['createIfMissing not boolean', { createIfMissing: 1 }],
    ['level0StopTrigger below slowdown', { level0SlowdownTrigger: 10, level0StopTrigger: 5 }],
    ['clock not a function', { clock: 5 }],
    ['fs not a FileSystem', { fs: {} }],
  ];
  it.each(refused)('%s: ERR_INVALID_ARGUMENT and no directory created', async (_name, options) => {
    const fs = new MemFileSystem();
    const o = options !== null && typeof options === 'object' && !Array.isArray(options) && !('fs' in options)
      ? { ...options, fs } : options;
    await rejectsWith(() => DB.open(DIR, o as Options), 'ERR_INVALID_ARGUMENT', 'DB.open');
    expect(await fs.exists(DIR)).toBe(false);
  });

  it('a bad directory argument is refused', async () => {
    for (const dir of [undefined, null, '', 5, {}]) {
      await rejectsWith(() => DB.open(dir as string, { fs: new MemFileSystem() }), 'ERR_INVALID_ARGUMENT', `DB.open(${JSON.stringify(dir)})`);
    }
  });

  it('createIfMissing: false on a missing directory, errorIfExists on an existing database', async () => {
    const fs = new MemFileSystem();
    await rejectsWith(() => DB.open(DIR, { fs, createIfMissing: false }), 'ERR_INVALID_ARGUMENT', 'createIfMissing: false');
    expect(await fs.exists(DIR)).toBe(false);
    await fs.mkdir('/empty');
    await rejectsWith(() => DB.open('/empty', { fs, createIfMissing: false }), 'ERR_INVALID_ARGUMENT', 'createIfMissing: false, empty dir');
    const db = await DB.open(DIR, { fs, errorIfExists: true });
    await db.put('k', 'v');
    await db.close();
    await rejectsWith(() => DB.open(DIR, { fs, errorIfExists: true }), 'ERR_INVALID_ARGUMENT', 'errorIfExists');
    // The refusal released the lock and changed nothing.
    const again = await DB.open(DIR, { fs, createIfMissing: false });
    expect((await again.get('k'))?.toString()).toBe('v');
    await again.close();
  });
});

describe('size limits', () => {
  it('a key over maxKeySize or a value over maxValueSize is ERR_TOO_LARGE; the limits themselves work', async () => {
    const { db, before } = await seeded({ maxKeySize: 16, maxValueSize: 64 });
    const k17 = 'k'.repeat(17), v65 = Buffer.alloc(65, 1);
    await rejectsWith(() => db.put(k17, 'v'), 'ERR_TOO_LARGE', 'put long key');
    await rejectsWith(() => db.put('k', v65), 'ERR_TOO_LARGE', 'put long value');
    await rejectsWith(() => db.delete(k17), 'ERR_TOO_LARGE', 'delete long key');
    // One oversized member refuses the whole batch, wherever it is.
    const longValue = new WriteBatch().put('x1', 'ok').put('x2', v65).delete('a');
    const longKey = new WriteBatch().delete('b').put('x3', 'ok').put(k17, 'v');
    const longDelete = new WriteBatch().put('x4', 'ok').delete(k17);
    for (const b of [longValue, longKey, longDelete]) await rejectsWith(() => db.write(b), 'ERR_TOO_LARGE', 'oversized batch');
    expect(await readAll(db)).toEqual(before);
    // Exactly at the limits is fine.
    await db.put('k'.repeat(16), Buffer.alloc(64, 2));
    await db.write(new WriteBatch().put('q'.repeat(16), Buffer.alloc(64, 3)));
    expect((await db.get('k'.repeat(16)))?.equals(Buffer.alloc(64, 2))).toBe(true);
    expect((await db.get('q'.repeat(16)))?.equals(Buffer.alloc(64, 3))).toBe(true);
    await db.close();
  });
});

describe('empty keys and values', () => {
  it('round-trip through the memtable, a flush and a reopen', async () => {
    const { db, fs } = await openMem();
    await db.put('', 'empty-key');
    await db.put('e', '');
    await db.put(new Uint8Array(0), new Uint8Array(0));
    await db.write(new WriteBatch().put('f', '').put('g', 'x').delete('g'));
    const check = async (d: DB): Promise<void> => {
      expect((await d.get(''))?.length).toBe(0);
      expect((await d.get('e'))?.length).toBe(0);
      expect((await d.get('f'))?.length).toBe(0);
      expect(await d.get('g')).toBeUndefined();
      const all = [...await readAll(d)];
      expect(all).toEqual([['', ''], [hex(Buffer.from('e')), ''], [hex(Buffer.from('f')), '']]);
      const first = await d.iterator({ limit: 1 }).next();
      expect(first.done).toBe(false);
      expect((first.value as [Buffer, Buffer])[0].length).toBe(0);
      expect(await d.getMany(['', 'zz', 'e'])).toEqual([Buffer.alloc(0), undefined, Buffer.alloc(0)]);
    };
    await check(db);
    await db.flush();
    expect(db.stats().levels.reduce((n, l) => n + l.files, 0)).toBeGreaterThan(0);
    await check(db);
    await db.close();
    const re = await DB.open(DIR, { fs });
    await check(re);
    await re.delete('');
    expect(await re.get('')).toBeUndefined();
    await re.close();
  });
});

describe('closed databases', () => {
  it('every call after close() is ERR_CLOSED; close is idempotent', async () => {
    const { db } = await seeded();
    const snap = db.snapshot();
    const c1 = db.close();
    const c2 = db.close();
    await Promise.all([c1, c2]);
    await db.close();
    await rejectsWith(() => db.put('k', 'v'), 'ERR_CLOSED', 'put');
    await rejectsWith(() => db.delete('a'), 'ERR_CLOSED', 'delete');
    await rejectsWith(() => db.write(new WriteBatch().put('k', 'v')), 'ERR_CLOSED', 'write');
    await rejectsWith(() => db.write(new WriteBatch()), 'ERR_CLOSED', 'write(empty batch)');
    await rejectsWith(() => db.get('a'), 'ERR_CLOSED', 'get');
    await rejectsWith(() => db.get('a', { snapshot: snap }), 'ERR_CLOSED', 'get at snapshot');
    await rejectsWith(() => db.getMany(['a']), 'ERR_CLOSED', 'getMany');
    await rejectsWith(() => db.flush(), 'ERR_CLOSED', 'flush');
    await rejectsWith(() => db.verifyChecksums(), 'ERR_CLOSED', 'verifyChecksums');
    throwsWith(() => db.iterator(), 'ERR_CLOSED', 'iterator');
    throwsWith(() => db.keys(), 'ERR_CLOSED', 'keys');
    throwsWith(() => db.values(), 'ERR_CLOSED', 'values');
    throwsWith(() => db.snapshot(), 'ERR_CLOSED', 'snapshot');
    throwsWith(() => db.stats(), 'ERR_CLOSED', 'stats');
    await rejectsWith(() => db.approximateSize('a', 'z'), 'ERR_CLOSED', 'approximateSize');
    throwsWith(() => db.getProperty('stratadb.stats'), 'ERR_CLOSED', 'getProperty');
    throwsWith(() => db.getUpdatesSince(1), 'ERR_CLOSED', 'getUpdatesSince');
    await rejectsWith(() => db.ingest(['/ext/a.sst']), 'ERR_CLOSED', 'ingest');
    snap.release(); // releasing after close is harmless
  });

  it('writes racing close() either commit or get ERR_CLOSED, and every committed one survives', async () => {
    const { db, fs } = await openMem();
    const results = await Promise.allSettled([
      ...Array.from({ length: 50 }, (_, i) => db.put(`k${i}`, `v${i}`)),
      db.close(),
      ...Array.from({ length: 50 }, (_, i) => db.put(`k${50 + i}`, `v${50 + i}`)),
    ]);
    const committed: number[] = [];
    results.forEach((r, i) => {
      if (i === 50) { expect(r.status).toBe('fulfilled'); return; }
      const n = i < 50 ? i : i - 1;
      if (r.status === 'fulfilled') committed.push(n);
      else expect((r.reason as { code?: string }).code).toBe('ERR_CLOSED');
    });
    const re = await DB.open(DIR, { fs });
    for (const n of committed) expect((await re.get(`k${n}`))?.toString()).toBe(`v${n}`);
    await re.close();
  });
});

describe('locking', () => {
  it('a second open of the same directory in this process is ERR_LOCKED (real file system)', async () => {
    const dir = await tempDir();
    const db = await DB.open(dir);
    await db.put('k', 'v');
    await rejectsWith(() => DB.open(dir), 'ERR_LOCKED', 'second open');
    // Another spelling of the same directory is the same database.
    await rejectsWith(() => DB.open(path.join(dir, '.', '..', path.basename(dir))), 'ERR_LOCKED', 'second open, other path');
    // The refused opens took nothing from the first.
    await rejectsWith(() => DB.open(dir), 'ERR_LOCKED', 'third open');
    expect((await db.get('k'))?.toString()).toBe('v');
    await db.close();
    const again = await DB.open(dir);
    expect((await again.get('k'))?.toString()).toBe('v');
    await again.close();
  });

  it('the same holds on one MemFileSystem', async () => {
    const fs = new MemFileSystem();
    const db = await DB.open(DIR, { fs });
    await rejectsWith(() => DB.open(DIR, { fs }), 'ERR_LOCKED', 'second open');
    await db.close();
    const again = await DB.open(DIR, { fs });
    await again.close();
  });
});

describe('read-only opens', () => {
  async function checkReadOnly(ro: DB, want: Map<string, string>): Promise<void> {
    expect(await readAll(ro)).toEqual(want);
    const snap = ro.snapshot();
    expect(await readAll(ro, snap)).toEqual(want);
    snap.release();
    expect((await ro.getMany(['k000', 'nope'])).map((b) => b?.toString())).toEqual([want.size > 0 ? 'v000' : undefined, undefined]);
    await ro.verifyChecksums();
    expect(ro.stats().sequence).toBeGreaterThan(0);
    for (const [what, fn] of [
      ['put', () => ro.put('k', 'v')],
      ['delete', () => ro.delete('k000')],
      ['write', () => ro.write(new WriteBatch().put('k', 'v'))],
      ['flush', () => ro.flush()],
      ['ingest', () => ro.ingest('/nothing.sst')],
    ] as const) {
      await rejectsWith(fn, 'ERR_READ_ONLY', `read-only ${what}`);
    }
  }

  it('reads work, writes are ERR_READ_ONLY, and no file changes (tables, WAL with a torn tail)', async () => {
    await withSeed('read-only', async (rng) => {
      const fs = new MemFileSystem();
      const db = await DB.open(DIR, { fs, writeBufferSize: 8 * 1024 });
      for (let i = 0; i < 300; i++) await db.put(`k${String(i).padStart(3, '0')}`, i === 0 ? 'v000' : rng.bytes(rng.int(100)));
      await db.flush();
      for (let i = 300; i < 340; i++) await db.put(`k${String(i).padStart(3, '0')}`, rng.bytes(rng.int(100)));
      // A process crash in the middle of a WAL append: the newest WAL ends in a torn record.
      const crashed = fs.crashClone({ keepUnsyncedPercent: 100, keepUnsyncedEntries: true });
      await db.close();
      const wal = (await crashed.list(DIR)).filter((n) => n.endsWith('.log')).sort().pop()!;
      const walPath = `${DIR}/${wal}`;
      const bytes = await crashed.readFile(walPath);
      const w = await crashed.openWritable(walPath, { append: true });
      w.append(bytes.subarray(bytes.length - 20, bytes.length - 3)); // a partial record
      await w.sync();
      await w.close();

      const before = await fileBytes(crashed, DIR);
      const ro = await DB.open(DIR, { fs: crashed, readOnly: true });
      const want = await readAll(ro);
      expect(want.size).toBe(340);
      await checkReadOnly(ro, want);
      await ro.close();
      expect(await fileBytes(crashed, DIR)).toEqual(before);
    });
  });

  it('beside a live read-write open in the same process (real file system), no lock taken', async () => {
    const dir = await tempDir();
    const db = await DB.open(dir, { writeBufferSize: 8 * 1024 });
    for (let i = 0; i < 200; i++) await db.put(`k${String(i).padStart(3, '0')}`, `v${String(i).padStart(3, '0')}`);
    await db.flush();
    await db.put('late', 'in the WAL only');
    const ro = await DB.open(dir, { readOnly: true });
    const want = await readAll(ro);
    expect(want.size).toBe(201);
    expect((await ro.get('late'))?.toString()).toBe('in the WAL only');
    await checkReadOnly(ro, want);
    // The read-write open goes on writing and a second read-only open sees it.
    await db.put('after', 'x');
    const ro2 = await DB.open(dir, { readOnly: true });
    expect((await ro2.get('after'))?.toString()).toBe('x');
    await ro2.close();
    await ro.close();
    await db.put('still', 'writable');
    await db.close();
  });

  it('a read-only open of a missing database is refused, creating nothing', async () => {
    const fs = new MemFileSystem();
    await rejectsWith(() => DB.open(DIR, { fs, readOnly: true }), 'ERR_INVALID_ARGUMENT', 'readOnly, missing dir');
    await fs.mkdir(DIR);
    await rejectsWith(() => DB.open(DIR, { fs, readOnly: true }), 'ERR_INVALID_ARGUMENT', 'readOnly, empty dir');
    expect(await fs.list(DIR)).toEqual([]);
  });
});

describe('sizes, properties and destroy', () => {
  it('approximateSize and getProperty check their arguments and change nothing; DB.destroy refuses a held or foreign directory', async () => {
    const { db, fs, before } = await seeded();
    for (const bad of BAD_KEYS) {
      await rejectsWith(() => db.approximateSize(bad as string, 'z'), 'ERR_INVALID_ARGUMENT', `approximateSize(${String(typeof bad)}, z)`);
      await rejectsWith(() => db.approximateSize('a', bad as string), 'ERR_INVALID_ARGUMENT', `approximateSize(a, ${String(typeof bad)})`);
    }
    expect(typeof (await db.approximateSize('a', 'z'))).toBe('number');
    expect(await db.approximateSize('z', 'a')).toBe(0);
    for (const bad of [undefined, null, 7, {}, ['stratadb.stats']]) {
      throwsWith(() => db.getProperty(bad as string), 'ERR_INVALID_ARGUMENT', `getProperty(${JSON.stringify(bad)})`);
    }
    expect(db.getProperty('stratadb.no-such-property')).toBeUndefined();
    expect(db.getProperty('stratadb.num-files-at-level0')).toBe('0');
    const files = await fileBytes(fs, DIR);
    await rejectsWith(() => DB.destroy(DIR, { fs }), 'ERR_LOCKED', 'destroy while open');
    expect(await fileBytes(fs, DIR)).toEqual(files);
    expect(await readAll(db)).toEqual(before);
    await db.close();
    await fs.mkdir('/other');
    await rejectsWith(() => DB.destroy('/other', { fs }), 'ERR_INVALID_ARGUMENT', 'destroy of a directory without a database');
    expect(await fs.list('/other')).toEqual([]);
    await DB.destroy(DIR, { fs });
    expect(await fs.exists(DIR)).toBe(false);
  });
});

describe('repair', () => {
  it('DB.repair checks its arguments and refuses a held or foreign directory, changing nothing; a healthy database repairs to itself', async () => {
    const { db, fs, before } = await seeded();
    const files = await fileBytes(fs, DIR);
    await rejectsWith(() => DB.repair(DIR, { fs }), 'ERR_LOCKED', 'repair while open');
    expect(await fileBytes(fs, DIR)).toEqual(files);
    await db.close();
    const closed = await fileBytes(fs, DIR);
    for (const bad of ['', 7, undefined, null]) {
      await rejectsWith(() => DB.repair(bad as string, { fs }), 'ERR_INVALID_ARGUMENT', `repair(${JSON.stringify(bad)})`);
    }
    await rejectsWith(() => DB.repair(DIR, { fs, bogus: 1 } as Options), 'ERR_INVALID_ARGUMENT', 'repair with an unknown option');
    await rejectsWith(() => DB.repair(DIR, { fs, readOnly: true }), 'ERR_INVALID_ARGUMENT', 'repair readOnly');
    await rejectsWith(() => DB.repair(DIR, { fs, writeBufferSize: -1 }), 'ERR_INVALID_ARGUMENT', 'repair with a bad option value');
    expect(await fileBytes(fs, DIR)).toEqual(closed);
    await fs.mkdir('/other');
    await rejectsWith(() => DB.repair('/other', { fs }), 'ERR_INVALID_ARGUMENT', 'repair of a directory without a database');
    expect(await fs.list('/other')).toEqual([]);
    const report = await DB.repair(DIR, { fs });
    expect(Object.keys(report).sort()).toEqual([
      'entriesRecovered', 'lastSequence', 'movedToLost', 'tablesDropped', 'tablesInDatabase', 'tablesKept',
      'tablesMerged', 'tablesWritten', 'walsReplayed', 'walsStopped',
    ]);
    expect(report.tablesDropped).toEqual([]);
    const again = await DB.open(DIR, { fs });
    expect(await readAll(again)).toEqual(before);
    expect(again.stats().sequence).toBe(report.lastSequence);
    await again.close();
  });
});

describe('reading the log back', () => {
  it('getUpdatesSince checks its arguments and changes nothing', async () => {
    const { db, fs, before } = await seeded();
    const files = await fileBytes(fs, DIR);
    for (const bad of [-1, 0.5, Number.NaN, Infinity, '1', null, undefined, 2 ** 60]) {
      throwsWith(() => db.getUpdatesSince(bad as number), 'ERR_INVALID_ARGUMENT', `getUpdatesSince(${String(bad)})`);
    }
    throwsWith(() => db.getUpdatesSince(1, { lmit: 1 } as never), 'ERR_INVALID_ARGUMENT', 'getUpdatesSince unknown option');
    throwsWith(() => db.getUpdatesSince(1, { signal: 'x' } as never), 'ERR_INVALID_ARGUMENT', 'getUpdatesSince bad signal');
    expect(await fileBytes(fs, DIR)).toEqual(files);
    expect(await readAll(db)).toEqual(before);
    await db.close();
  });
});

describe('prefix iterators and prefixLength', () => {
  it('iterator/keys/values({ prefix }) bound the range (intersected with gt/gte/lt/lte); a bad prefix or prefixLength is refused', async () => {
    const { db, before } = await seeded({ prefixLength: 1 });
    await db.put('ab', 'v-ab');
    const keys = async (o: object): Promise<string[]> => {
      const out: string[] = [];
      for await (const k of db.keys(o)) out.push(k.toString());
      return out;
    };
    expect(await keys({ prefix: 'a' })).toEqual(['a', 'ab']);
    expect(await keys({ prefix: 'a', gt: 'a' })).toEqual(['ab']);
    expect(await keys({ prefix: 'a', reverse: true, limit: 1 })).toEqual(['ab']);
    expect(await keys({ prefix: 'x' })).toEqual([]);
    for (const bad of [null, 1, {}, [], true]) {
      throwsWith(() => db.iterator({ prefix: bad } as object), 'ERR_INVALID_ARGUMENT', `iterator prefix: ${JSON.stringify(bad)}`);
    }
    await db.delete('ab');
    expect(await readAll(db)).toEqual(before);
    expect(db.stats().filter).toMatchObject({ prefixChecks: expect.any(Number), prefixNegatives: expect.any(Number) });
    await db.close();
    for (const prefixLength of [-1, 2.5, 1025, '4']) {
      await rejectsWith(() => DB.open(DIR, { fs: new MemFileSystem(), prefixLength } as Options), 'ERR_INVALID_ARGUMENT', `prefixLength ${String(prefixLength)}`);
    }
  });
});

describe('bulk load', () => {
  it('ingest checks its arguments and changes nothing', async () => {
    const { db, fs, before } = await seeded();
    const files = await fileBytes(fs, DIR);
    for (const [what, args] of [
      ['no files', [[]]], ['a number', [1]], ['an empty path', [['']]], ['a path listed twice', [['/x.sst', '/x.sst']]],
      ['unknown option', ['/x.sst', { mvoe: true }]], ['move not boolean', ['/x.sst', { move: 1 }]], ['a missing file', ['/x.sst']],
    ] as const) {
      await rejectsWith(() => (db.ingest as (...a: unknown[]) => Promise<unknown>)(...args), 'ERR_INVALID_ARGUMENT', `ingest: ${what}`);
    }
    expect(await fileBytes(fs, DIR)).toEqual(files);
    expect(await readAll(db)).toEqual(before);
    await db.close();
  });
});
