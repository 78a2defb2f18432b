/**
 * The public API contract, part 2 (part 1 is api-contract.test.ts): snapshots (released, foreign),
 * getMany, iterator limits and lifetimes (break, db.close()), implicit iterator snapshots, buffer
 * ownership both ways, a 100 MiB value on the real file system, stats() and the LOG file.
 * Each test has its own MemFileSystem or tempDir.
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { DB, MemFileSystem, WriteBatch } from '../../src/index.js';
import { makeRng } from '../support/rng.js';
import { tempDir } from '../support/tmpdir.js';
import { hex, openMem, readAll, rejectsWith, seeded, throwsWith } from '../support/db-check.js';

const DIR = '/db';

describe('snapshots', () => {
  it('a released snapshot and a snapshot of another database are refused', async () => {
    const { db, before } = await seeded();
    const { db: other } = await openMem();
    const snap = db.snapshot();
    await db.put('a', 'changed');
    expect((await db.get('a', { snapshot: snap }))?.toString()).toBe('v-a');
    expect(await readAll(db, snap)).toEqual(before);
    const foreign = other.snapshot();
    await rejectsWith(() => db.get('a', { snapshot: foreign }), 'ERR_INVALID_ARGUMENT', 'get, foreign snapshot');
    await rejectsWith(() => db.getMany(['a'], { snapshot: foreign }), 'ERR_INVALID_ARGUMENT', 'getMany, foreign snapshot');
    throwsWith(() => db.iterator({ snapshot: foreign }), 'ERR_INVALID_ARGUMENT', 'iterator, foreign snapshot');
    snap.release();
    snap.release(); // idempotent
    expect(db.stats().snapshots).toBe(0);
    await rejectsWith(() => db.get('a', { snapshot: snap }), 'ERR_INVALID_ARGUMENT', 'get, released snapshot');
    await rejectsWith(() => db.getMany(['a'], { snapshot: snap }), 'ERR_INVALID_ARGUMENT', 'getMany, released snapshot');
    throwsWith(() => db.iterator({ snapshot: snap }), 'ERR_INVALID_ARGUMENT', 'iterator, released snapshot');
    throwsWith(() => db.keys({ snapshot: snap }), 'ERR_INVALID_ARGUMENT', 'keys, released snapshot');
    foreign.release();
    await other.close();
    await db.close();
  });

  it('a snapshot from before a reopen belongs to another database', async () => {
    const { db, fs } = await seeded();
    const snap = db.snapshot();
    await db.close();
    const re = await DB.open(DIR, { fs });
    await rejectsWith(() => re.get('a', { snapshot: snap }), 'ERR_INVALID_ARGUMENT', 'snapshot of the closed instance');
    await re.close();
  });
});

describe('reads', () => {
  it('iterator bounds and seek targets are copied: a Buffer the caller reuses at once changes nothing', async () => {
    const { db } = await seeded();
    const keysOf = async (it: AsyncIterable<[Buffer, Buffer]>): Promise<string> => {
      const out: string[] = [];
      for await (const [k] of it) out.push(k.toString());
      return out.join(',');
    };
    const gte = Buffer.from('c');
    const lt = Buffer.from('e');
    const bounded = db.iterator({ gte, lt });
    gte[0] = 0x61; // 'a'
    lt[0] = 0x7a; // 'z'
    expect(await keysOf(bounded)).toBe('c,d');
    const seekFirst = db.iterator();
    const target = Buffer.from('d');
    seekFirst.seek(target);
    target[0] = 0x61;
    expect(await keysOf(seekFirst)).toBe('d,e');
    const seekLater = db.iterator();
    await seekLater.next();
    const later = Buffer.from('d');
    seekLater.seek(later);
    later[0] = 0x61;
    expect(await keysOf(seekLater)).toBe('d,e');
    await db.close();
  });

  it('an iterator made while the memtable was empty sees nothing written after it, with or without a seek', async () => {
    const { db } = await seeded();
    await db.flush(); // every key in a table, the memtable empty
    const plain = db.iterator();
    const seeking = db.iterator();
    const bounded = db.iterator({ gte: 'b' });
    await db.put('aa', 'late');
    await db.put('c', 'changed');
    await db.delete('d');
    const keysOf = async (it: AsyncIterable<[Buffer, Buffer]>): Promise<string[]> => {
      const out: string[] = [];
      for await (const [k, v] of it) out.push(`${k.toString()}=${v.toString()}`);
      return out;
    };
    expect(await keysOf(plain)).toEqual(['a=v-a', 'b=v-b', 'c=v-c', 'd=v-d', 'e=v-e']);
    seeking.seek('aa');
    expect(await keysOf(seeking)).toEqual(['b=v-b', 'c=v-c', 'd=v-d', 'e=v-e']);
    expect(await keysOf(bounded)).toEqual(['b=v-b', 'c=v-c', 'd=v-d', 'e=v-e']);
    expect(await keysOf(db.iterator({ gte: 'aa', lt: 'e' }))).toEqual(['aa=late', 'b=v-b', 'c=changed']);
    await db.close();
  });

  it('getMany answers undefined for missing keys, in the order asked, across memtable and tables', async () => {
    const { db } = await openMem({ writeBufferSize: 4 * 1024 });
    for (let i = 0; i < 100; i += 2) await db.put(`k${i}`, `v${i}`);
    await db.flush();
    for (let i = 1; i < 100; i += 4) await db.put(`k${i}`, `w${i}`);
    await db.delete('k10');
    const keys = ['k10', 'k0', 'nope', 'k1', 'k1', '', 'k98', 'k3', 'k99', Buffer.from('k5')];
    const got = (await db.getMany(keys)).map((b) => b?.toString());
    expect(got).toEqual([undefined, 'v0', undefined, 'w1', 'w1', undefined, 'v98', undefined, undefined, 'w5']);
    expect(await db.getMany([])).toEqual([]);
    await db.close();
  });

  it('getMany starts every lookup before awaiting any, and keeps the order when they finish out of order', async () => {
    const { db } = await openMem();
    for (const k of ['a', 'b', 'c']) await db.put(k, `v-${k}`);
    // Every lookup made to wait (as a table being opened or a zstd block would), released in reverse.
    const engine = db.engine;
    const real = engine.get.bind(engine);
    const held: (() => void)[] = [];
    engine.get = (k: Uint8Array, seq: number) => new Promise((resolve) => { held.push(() => resolve(real(k, seq))); });
    const got = db.getMany(['c', 'nope', 'a', 'b']);
    await Promise.resolve();
    expect(held.length).toBe(4);
    for (const release of held.reverse()) release();
    expect((await got).map((b) => b?.toString())).toEqual(['v-c', undefined, 'v-a', 'v-b']);
    await db.close();
  });

  it('iterator limit: 0 yields nothing; -1, Infinity and absent mean no limit; n yields n', async () => {
    const { db } = await seeded();
    const count = async (o: object): Promise<string[]> => {
      const out: string[] = [];
      for await (const k of db.keys(o)) out.push(k.toString());
      return out;
    };
    expect(await count({ limit: 0 })).toEqual([]);
    expect(await count({ limit: 0, reverse: true })).toEqual([]);
    for (const limit of [-1, Infinity, undefined]) expect(await count(limit === undefined ? {} : { limit })).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await count({ limit: 2 })).toEqual(['a', 'b']);
    expect(await count({ limit: 2, reverse: true })).toEqual(['e', 'd']);
    expect(await count({ limit: 3, gt: 'b' })).toEqual(['c', 'd', 'e']);
    expect(await count({ limit: 10, lte: 'c', reverse: true })).toEqual(['c', 'b', 'a']);
    expect(await count({ limit: 5 })).toHaveLength(5);
    const vals: string[] = [];
    for await (const v of db.values({ limit: 1, gte: 'd' })) vals.push(v.toString());
    expect(vals).toEqual(['v-d']);
    await db.close();
  });

  it('for await with break closes the iterator; db.close() closes iterators left open', async () => {
    const { db } = await seeded();
    const it1 = db.iterator();
    for await (const [k] of it1) { if (k.toString() === 'b') break; }
    await rejectsWith(() => it1.next(), 'ERR_CLOSED', 'next after break');
    const it2 = db.iterator();
    expect((await it2.next()).done).toBe(false);
    const it3 = db.keys({ reverse: true }); // never started
    await db.close();
    await rejectsWith(() => it2.next(), 'ERR_CLOSED', 'next after db.close');
    await rejectsWith(() => it3.next(), 'ERR_CLOSED', 'next of an unstarted iterator after db.close');
    await it2.close(); // idempotent
  });

  it('an iterator reads at the moment it was created, even across a flush', async () => {
    const { db } = await seeded({ writeBufferSize: 4 * 1024 });
    const it = db.iterator();
    await db.put('a', 'new');
    await db.delete('b');
    await db.put('bb', 'new');
    await db.flush();
    const seen: string[] = [];
    for await (const [k, v] of it) seen.push(`${k}=${v}`);
    expect(seen).toEqual(['a=v-a', 'b=v-b', 'c=v-c', 'd=v-d', 'e=v-e']);
    await db.close();
  });

  it('returned Buffers are copies; so are the keys and values given to put and WriteBatch', async () => {
    const { db } = await openMem({ writeBufferSize: 4 * 1024, blockSize: 256 });
    const key = Buffer.from('key1'), value = Buffer.from('value1');
    await db.put(key, value);
    const b = new WriteBatch();
    const bk = Buffer.from('key2'), bv = Buffer.from('value2');
    b.put(bk, bv);
    key.fill(0); value.fill(0); bk.fill(0); bv.fill(0);
    await db.write(b);
    const check = async (): Promise<void> => {
      for (const get of [
        async () => (await db.get('key1'))!,
        async () => (await db.getMany(['key1']))[0]!,
      ]) {
        const got = await get();
        expect(got.toString()).toBe('value1');
        got.fill(0x41);
      }
      for await (const [k, v] of db.iterator()) { k.fill(0x42); v.fill(0x43); }
      for await (const k of db.keys()) k.fill(0x44);
      expect((await db.get('key1'))?.toString()).toBe('value1');
      expect((await db.get('key2'))?.toString()).toBe('value2');
      expect([...(await readAll(db)).keys()]).toEqual([hex(Buffer.from('key1')), hex(Buffer.from('key2'))]);
    };
    await check(); // from the memtable
    await db.flush();
    await check(); // from a table, through the block cache
    await check(); // again: a mutated cached block would show here
    await db.close();
  });
});

describe('large values', () => {
  it('a 100 MiB value: put, get, flush, reopen, get (real file system)', async () => {
    const dir = await tempDir();
    const rng = makeRng(1234);
    const value = Buffer.alloc(100 * 1024 * 1024);
    const chunk = rng.bytes(1 << 16);
    for (let off = 0; off < value.length; off += chunk.length) {
      value.set(chunk, off);
      value.writeUInt32LE(off, off); // no two chunks equal
    }
    const db = await DB.open(dir);
    await db.put('small', 'x');
    await db.put('big', value, { sync: true });
    expect((await db.get('big'))!.equals(value)).toBe(true);
    await db.flush();
    expect((await db.get('big'))!.equals(value)).toBe(true);
    await db.close();
    const re = await DB.open(dir);
    const got = await re.get('big');
    expect(got?.length).toBe(value.length);
    expect(got!.equals(value)).toBe(true);
    expect((await re.get('small'))?.toString()).toBe('x');
    await re.close();
  });
});

describe('stats and LOG', () => {
  it('stats() has every DBStats field with sane values after writes and a flush', async () => {
    const { db } = await openMem({ writeBufferSize: 16 * 1024 });
    const empty = db.stats();
    expect(empty.sequence).toBe(0);
    expect(empty.writeAmplification).toBe(0);
    for (let i = 0; i < 500; i++) await db.put(`key${i}`, 'x'.repeat(50));
    await db.flush();
    await db.get('key1');
    await db.get('absent');
    const s = db.stats();
    expect(s.sequence).toBe(500);
    expect(s.memtable.entries).toBeGreaterThanOrEqual(0);
    expect(s.memtable.bytes).toBeGreaterThanOrEqual(0);
    for (const n of [s.memory.memtables, s.memory.cache, s.memory.tableReaders]) {
      expect(typeof n).toBe('number');
      expect(n).toBeGreaterThanOrEqual(0);
    }
    expect(s.memory.tableReaders).toBeGreaterThan(0);
    expect(s.levels.length).toBe(7);
    s.levels.forEach((l, i) => {
      expect(l.level).toBe(i);
      for (const n of [l.files, l.bytes, l.score]) expect(Number.isFinite(n) && n >= 0).toBe(true);
    });
    // Flushes land in L0; a background compaction may already have moved them down.
    expect(s.levels.reduce((n, l) => n + l.files, 0)).toBeGreaterThan(0);
    expect(s.levels.reduce((n, l) => n + l.bytes, 0)).toBeGreaterThan(0);
    expect(s.flushes.count).toBeGreaterThanOrEqual(1);
    expect(s.flushes.bytes).toBeGreaterThan(0);
    for (const n of [s.compactions.count, s.compactions.bytesRead, s.compactions.bytesWritten, s.compactions.ms]) {
      expect(Number.isFinite(n) && n >= 0).toBe(true);
    }
    expect(s.userBytesWritten).toBeGreaterThan(0);
    expect(s.walBytesWritten).toBeGreaterThan(s.userBytesWritten);
    expect(s.writeAmplification).toBeGreaterThan(1);
    expect(s.stalls.slowdownMs).toBeGreaterThanOrEqual(0);
    expect(s.stalls.stopMs).toBeGreaterThanOrEqual(0);
    expect(s.cache.capacity).toBe(64 * 1024 * 1024);
    expect(s.cache.usage).toBeGreaterThanOrEqual(0);
    expect(s.cache.hits + s.cache.misses).toBeGreaterThan(0);
    expect(s.filter.checks).toBeGreaterThanOrEqual(s.filter.negatives);
    expect(s.filter.checks).toBeGreaterThan(0);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s); // a plain object
    await db.close();
  });

  it('the LOG file names StrataDB and Node versions and records flushes', async () => {
    const { db, fs } = await openMem({ writeBufferSize: 4 * 1024 });
    for (let i = 0; i < 50; i++) await db.put(`k${i}`, 'v'.repeat(100));
    await db.flush();
    await db.close();
    const log = Buffer.from(await fs.readFile(`${DIR}/LOG`)).toString();
    const first = log.split('\n')[0]!;
    expect(first).toMatch(/StrataDB \d+\.\d+\.\d+/);
    expect(first).toContain(`Node ${process.version}`);
    expect(log).toMatch(/flushed memtable/);
    // No key or value material in the log.
    expect(log).not.toContain('vvvvvvvv');
  });
});

describe('has, hasMany, getSync, signal, dispose (the calls Level/RocksDB/lmdb users expect)', () => {
  it('has/hasMany answer like get() !== undefined; more in has.test.ts', async () => {
    const { db } = await openMem();
    await db.put('a', '');
    await db.put('b', '2');
    await db.delete('b');
    expect(await db.has('a')).toBe(true);
    expect(await db.hasMany(['b', 'a', 'c'])).toEqual([false, true, false]);
    await db.close();
  });

  it('getSync: memtable and snapshot answers; ERR_NOT_SUPPORTED only when a read must wait, get() then works', async () => {
    const fs = new MemFileSystem();
    let db = await DB.open(DIR, { fs, compactionExecutor: 'inline' });
    await db.put('t', 'table');
    await db.flush();
    await db.close();
    db = await DB.open(DIR, { fs, compactionExecutor: 'inline' });
    // Right after open the table's reader is not open: opening it is asynchronous.
    throwsWith(() => db.getSync('t'), 'ERR_NOT_SUPPORTED', 'getSync of an unopened table');
    expect((await db.get('t'))!.toString()).toBe('table');
    expect(db.getSync('t')!.toString()).toBe('table');
    await db.put('m', 'mem');
    const snap = db.snapshot();
    await db.delete('m');
    expect(db.getSync('m')).toBeUndefined();
    expect(db.getSync('m', { snapshot: snap })!.toString()).toBe('mem');
    expect(db.getSync('none')).toBeUndefined();
    /* eslint-disable @typescript-eslint/no-explicit-any -- the point is to pass what the types forbid */
    throwsWith(() => db.getSync(7 as any), 'ERR_INVALID_ARGUMENT', 'getSync(7)');
    throwsWith(() => db.getSync('m', { snap } as any), 'ERR_INVALID_ARGUMENT', 'getSync unknown option');
    /* eslint-enable @typescript-eslint/no-explicit-any */
    snap.release();
    throwsWith(() => db.getSync('m', { snapshot: snap }), 'ERR_INVALID_ARGUMENT', 'getSync released snapshot');
    await db.close();
    throwsWith(() => db.getSync('m'), 'ERR_CLOSED', 'getSync after close');
  });

  it('reads take a signal (ERR_ABORTED), and DB, iterators, transactions and snapshots are disposable', async () => {
    const { db } = await openMem();
    const c = new AbortController();
    c.abort();
    await rejectsWith(() => db.get('a', { signal: c.signal }), 'ERR_ABORTED', 'get');
    await rejectsWith(() => db.iterator({ signal: c.signal }).next(), 'ERR_ABORTED', 'iterator next');
    expect(typeof db[Symbol.asyncDispose]).toBe('function');
    expect(typeof db.iterator()[Symbol.asyncDispose]).toBe('function');
    expect(typeof db.beginTransaction()[Symbol.asyncDispose]).toBe('function');
    expect(typeof db.snapshot()[Symbol.dispose]).toBe('function');
    await db.close();
  });
});

describe('events (RocksDB EventListener as Node events; more in events.test.ts)', () => {
  it("the DB is an EventEmitter: flush begin/end pair by jobId, 'close' is the last event", async () => {
    const { db } = await openMem();
    const seen: string[] = [];
    let jobId = -1;
    db.on('flush', (e) => {
      if (e.phase === 'begin') jobId = e.jobId;
      else expect(e.jobId).toBe(jobId);
      seen.push(`flush ${e.phase}`);
    });
    db.once('close', () => { seen.push('close'); });
    await db.put('a', '1');
    await db.flush();
    await db.close();
    await db.close();
    expect(seen).toEqual(['flush begin', 'flush end', 'close']);
  });
});
