/**
 * Damaged files (LevelDB's corruption_test): bytes flipped and files truncated in every file kind
 * of a small real database on a MemFileSystem.
 * - the newest WAL: point-in-time recovery opens with the valid prefix (and cuts the damage off,
 *   so later opens stay clean); 'absolute' refuses with ERR_CORRUPTION naming the WAL and offset;
 * - an older WAL (synced when it rolled over): ERR_CORRUPTION;
 * - the MANIFEST: ERR_CORRUPTION, or a clean open when the damage is an interrupted final append
 *   (src/manifest/FORMAT.md section 7);
 * - CURRENT naming nothing or holding garbage, a missing table file: ERR_CORRUPTION;
 * - table blocks: a sweep over every byte of one small table; every get and scan returns the
 *   right answer or ERR_CORRUPTION naming the table and an offset in it, never a wrong value, and
 *   verifyChecksums always reports the damage.
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { CorruptionError, DB, MemFileSystem, inspect, type Options, type StrataError } from '../../src/index.js';
import { FaultFileSystem, failPath, none } from '../../src/fs/fault-fs.js';
import { CommitLog, hex, overwrite, readAll } from '../support/db-check.js';
import { makeRng, withSeed } from '../support/rng.js';

const DIR = '/db';

/** An exact copy of DIR (every entry, as listed): each damaged variant starts from the same bytes. */
async function copyFs(src: MemFileSystem): Promise<MemFileSystem> {
  const dst = new MemFileSystem();
  await dst.mkdir(DIR);
  for (const name of await src.list(DIR)) await overwrite(dst, `${DIR}/${name}`, await src.readFile(`${DIR}/${name}`));
  await dst.syncDir(DIR);
  return dst;
}

async function mutate(fs: MemFileSystem, file: string, f: (b: Uint8Array) => Uint8Array): Promise<void> {
  await overwrite(fs, file, f((await fs.readFile(file)).slice()));
}
const flip = (offset: number, mask = 0x55) => (b: Uint8Array): Uint8Array => { b[offset]! ^= mask; return b; };
const truncate = (length: number) => (b: Uint8Array): Uint8Array => b.slice(0, length);

async function filesOf(fs: MemFileSystem, suffix: string): Promise<string[]> {
  return (await fs.list(DIR)).filter((n) => n.endsWith(suffix)).map((n) => `${DIR}/${n}`);
}

/** Opens, expecting ERR_CORRUPTION; returns the error (checked to carry file and offset). */
async function openCorrupt(fs: MemFileSystem, options: Options = {}): Promise<CorruptionError> {
  try {
    const db = await DB.open(DIR, { ...options, fs });
    await db.close();
  } catch (e) {
    expect((e as StrataError).code, (e as Error).message).toBe('ERR_CORRUPTION');
    expect(e).toBeInstanceOf(CorruptionError);
    const c = e as CorruptionError;
    expect(typeof c.file).toBe('string');
    expect(Number.isInteger(c.offset) && c.offset >= 0).toBe(true);
    return c;
  }
  throw new Error('open succeeded; expected ERR_CORRUPTION');
}

/** A database whose newest WAL holds `walWrites` single-put records after `tableWrites` flushed ones. */
async function walDb(tableWrites: number, walWrites: number): Promise<{ fs: MemFileSystem; log: CommitLog; wal: string }> {
  const fs = new MemFileSystem();
  const log = new CommitLog();
  const rng = makeRng(42);
  const db = await DB.open(DIR, { fs });
  const put = async (i: number): Promise<void> => {
    const k = `k${String(rng.int(30)).padStart(2, '0')}`, v = `${i}:${'v'.repeat(rng.int(120))}`;
    await db.put(k, v);
    log.commit({ ops: [{ key: hex(Buffer.from(k)), value: hex(Buffer.from(v)) }], sync: false });
  };
  for (let i = 0; i < tableWrites; i++) await put(i);
  await db.flush();
  for (let i = 0; i < walWrites; i++) await put(tableWrites + i);
  // What a process crash leaves (a clean close may flush the memtable and empty the WAL).
  const crashed = fs.crashClone({ keepUnsyncedPercent: 100, keepUnsyncedEntries: true });
  await db.close();
  // The newest WAL; older ones may reappear (their deletion was never made durable) but lie below
  // the MANIFEST's log number, so recovery ignores them.
  const wals = (await filesOf(crashed, '.log')).sort();
  return { fs: crashed, log, wal: wals[wals.length - 1]! };
}

describe('the newest WAL', () => {
  it('point-in-time: a flipped byte in record r keeps exactly the records before r, and the damage is cut off', async () => {
    const { fs, log, wal } = await walDb(30, 16);
    const records = (await inspect.wal(wal, { fs })).records;
    expect(records).toHaveLength(16);
    const size = (await fs.stat(wal)).size;
    for (let r = 0; r < records.length; r++) {
      const start = records[r]!.offset;
      const end = r + 1 < records.length ? records[r + 1]!.offset : size;
      for (const at of [start + (r % 7), Math.floor((start + end) / 2), end - 1]) {
        const copy = await copyFs(fs);
        await mutate(copy, wal, flip(at));
        const db = await DB.open(DIR, { fs: copy });
        const state = await readAll(db);
        expect(log.matchingPrefixes(state), `flip at ${at} in record ${r}`).toContain(30 + r);
        await db.put('after', 'x');
        await db.close();
        // The damaged tail was cut at the first open: the WAL is now an older, clean one.
        const again = await DB.open(DIR, { fs: copy });
        const s2 = await readAll(again);
        s2.delete(hex(Buffer.from('after')));
        expect(s2).toEqual(state);
        expect((await again.get('after'))?.toString()).toBe('x');
        await again.close();
      }
    }
  });

  it('point-in-time and tolerate-tail: truncation keeps the whole records before the cut', async () => {
    const { fs, log, wal } = await walDb(10, 12);
    const records = (await inspect.wal(wal, { fs })).records;
    const size = (await fs.stat(wal)).size;
    let n = 0;
    for (let len = 0; len < size; len += 1 + Math.floor(len / 15)) {
      for (const mode of [n++ % 2 === 0 ? 'point-in-time' : 'tolerate-tail'] as const) {
        const copy = await copyFs(fs);
        await mutate(copy, wal, truncate(len));
        const db = await DB.open(DIR, { fs: copy, walRecoveryMode: mode });
        const whole = records.filter((rec, i) => (i + 1 < records.length ? records[i + 1]!.offset : size) <= len).length;
        expect(log.matchingPrefixes(await readAll(db)), `${mode}, cut at ${len}`).toContain(10 + whole);
        await db.close();
      }
    }
  });

  it("'absolute' refuses any damage with ERR_CORRUPTION naming the WAL and the bad record", async () => {
    const { fs, wal } = await walDb(10, 12);
    const records = (await inspect.wal(wal, { fs })).records;
    const size = (await fs.stat(wal)).size;
    for (const r of [0, 5, records.length - 1]) {
      const at = records[r]!.offset + 9;
      const copy = await copyFs(fs);
      await mutate(copy, wal, flip(at));
      const e = await openCorrupt(copy, { walRecoveryMode: 'absolute' });
      expect(e.file).toBe(wal);
      expect(e.offset).toBeGreaterThanOrEqual(records[r]!.offset);
      expect(e.offset).toBeLessThanOrEqual(at);
    }
    const copy = await copyFs(fs);
    await mutate(copy, wal, truncate(size - 5));
    expect((await openCorrupt(copy, { walRecoveryMode: 'absolute' })).file).toBe(wal);
    // A flip in the middle with intact records after it is not a torn tail: tolerate-tail refuses too.
    const mid = await copyFs(fs);
    await mutate(mid, wal, flip(records[3]!.offset + 9));
    expect((await openCorrupt(mid, { walRecoveryMode: 'tolerate-tail' })).file).toBe(wal);
  });
});

describe('an older WAL', () => {
  it('damage in a WAL that is not the newest is ERR_CORRUPTION (it was synced at roll-over)', async () => {
    // Keep flushes failing so two WALs hold data, then take what a process crash would leave.
    const mem = new MemFileSystem();
    const ffs = new FaultFileSystem(mem, { injector: failPath('*.sst') });
    const db = await DB.open(DIR, { fs: ffs, writeBufferSize: 8 * 1024 });
    let i = 0;
    const walsWithData = async (fs: MemFileSystem): Promise<string[]> => {
      const out: string[] = [];
      for (const w of await filesOf(fs, '.log')) if ((await fs.stat(w)).size > 0) out.push(w);
      return out;
    };
    while ((await walsWithData(mem)).length < 2 && i < 2000) await db.put(`k${i % 50}`, `${i++}:${'x'.repeat(100)}`);
    for (let j = 0; j < 10; j++) await db.put(`late${j}`, 'y');
    const crashed = mem.crashClone({ keepUnsyncedPercent: 100, keepUnsyncedEntries: true });
    ffs.setInjector(none);
    await db.close();
    const [older, newer] = (await walsWithData(crashed)).slice(-2);
    expect(newer).toBeDefined();
    // Undamaged, the clone opens with everything.
    const fine = await DB.open(DIR, { fs: await copyFs(crashed) });
    expect((await fine.get('late9'))?.toString()).toBe('y');
    await fine.close();
    const olderSize = (await crashed.stat(older!)).size;
    for (const damage of [flip(olderSize - 3), flip(Math.floor(olderSize / 2)), flip(40), truncate(olderSize - 10)]) {
      const copy = await copyFs(crashed);
      await mutate(copy, older!, damage);
      expect((await openCorrupt(copy)).file).toBe(older);
    }
  });
});

describe('MANIFEST and CURRENT', () => {
  /** A closed database whose live MANIFEST holds a snapshot record and three flush edits. */
  async function manifestDb(): Promise<{ fs: MemFileSystem; manifest: string; offsets: number[] }> {
    const fs = new MemFileSystem();
    const db = await DB.open(DIR, { fs });
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 20; i++) await db.put(`r${round}-${i}`, 'v'.repeat(50));
      await db.flush();
    }
    await db.close();
    const m = await inspect.manifest(DIR, { fs });
    expect(m.problem).toBeUndefined();
    return { fs, manifest: `${DIR}/${m.manifest}`, offsets: m.edits.map((e) => e.offset) };
  }

  it('a flipped byte is ERR_CORRUPTION, except inside the final record (an interrupted append)', async () => {
    const { fs, manifest, offsets } = await manifestDb();
    expect(offsets.length).toBeGreaterThanOrEqual(4);
    const size = (await fs.stat(manifest)).size;
    const last = offsets[offsets.length - 1]!;
    for (let at = 0; at < size; at++) {
      const copy = await copyFs(fs);
      await mutate(copy, manifest, flip(at, 0x10));
      if (at < last) {
        expect((await openCorrupt(copy)).file, `flip at ${at}`).toBe(manifest);
        continue;
      }
      try {
        const db = await DB.open(DIR, { fs: copy });
        await readAll(db);
        await db.close();
      } catch (e) {
        expect((e as StrataError).code, `flip at ${at} (final record): ${(e as Error).message}`).toBe('ERR_CORRUPTION');
      }
    }
  });

  it('truncation inside the first record is ERR_CORRUPTION; anywhere later it is a torn tail: a clean open', async () => {
    const { fs, manifest, offsets } = await manifestDb();
    const size = (await fs.stat(manifest)).size;
    const firstEnd = offsets[1]!;
    for (let len = 0; len < size; len += 1 + Math.floor(len / 25)) {
      const copy = await copyFs(fs);
      await mutate(copy, manifest, truncate(len));
      if (len < firstEnd) {
        expect((await openCorrupt(copy)).file, `cut at ${len}`).toBe(manifest);
      } else {
        const db = await DB.open(DIR, { fs: copy });
        await readAll(db);
        await db.verifyChecksums();
        await db.close();
      }
    }
  });

  it('CURRENT naming a missing MANIFEST or holding garbage is ERR_CORRUPTION naming CURRENT', async () => {
    const { fs } = await manifestDb();
    for (const content of ['MANIFEST-999999\n', 'MANIFEST-000001', '', 'hello\n', '\u0000\u0001\n', `MANIFEST-${'9'.repeat(70)}\n`, '000005.sst\n']) {
      for (const readOnly of [false, true]) {
        const copy = await copyFs(fs);
        await overwrite(copy, `${DIR}/CURRENT`, Buffer.from(content, 'latin1'));
        const e = await openCorrupt(copy, { readOnly });
        expect(e.file, JSON.stringify(content)).toBe(`${DIR}/CURRENT`);
      }
    }
  });

  it('a table file the MANIFEST lists but the directory lacks is ERR_CORRUPTION naming it', async () => {
    const { fs } = await manifestDb();
    for (const table of await filesOf(fs, '.sst')) {
      const copy = await copyFs(fs);
      await copy.remove(table);
      expect((await openCorrupt(copy)).file).toBe(table);
    }
  });
});

describe('table blocks', () => {
  /** One table holding every entry (nothing in the WAL), small blocks so the sweep crosses many. */
  async function tableDb(options: Options): Promise<{ fs: MemFileSystem; table: string; want: Map<string, string> }> {
    const fs = new MemFileSystem();
    const db = await DB.open(DIR, { ...options, fs, blockSize: 100, blockRestartInterval: 2 });
    const rng = makeRng(5);
    for (let i = 0; i < 7; i++) await db.put(`key${String(i * 3).padStart(3, '0')}`, Buffer.from(rng.bytes(5 + rng.int(30))));
    await db.delete('key006');
    await db.flush();
    const want = await readAll(db);
    await db.close();
    const tables = await filesOf(fs, '.sst');
    expect(tables).toHaveLength(1);
    return { fs, table: tables[0]!, want };
  }

  /** Runs every read against the damaged table; returns how many reads reported corruption. */
  async function readEverything(fs: MemFileSystem, table: string, size: number, want: Map<string, string>, what: string): Promise<number> {
    let detected = 0;
    const corrupt = (e: unknown, op: string): void => {
      const c = e as CorruptionError;
      expect(c.code, `${what}, ${op}: ${(e as Error).message}`).toBe('ERR_CORRUPTION');
      expect(c.file, `${what}, ${op}`).toBe(table);
      expect(c.offset >= 0 && c.offset <= size, `${what}, ${op}: offset ${c.offset}`).toBe(true);
      detected++;
    };
    let db: DB;
    try {
      db = await DB.open(DIR, { fs, readOnly: true });
    } catch (e) {
      corrupt(e, 'open');
      return detected;
    }
    try {
      const keys = [...want.keys()];
      // Every key the table holds, the deleted one, and absent keys before, between and after.
      for (const i of [0, 2, 3, 6, 9, 12, 13, 15, 18, 40]) {
        const k = hex(Buffer.from(`key${String(i).padStart(3, '0')}`));
        try {
          const got = await db.get(Buffer.from(k, 'hex'));
          expect(got === undefined ? undefined : hex(got), `${what}, get ${k}`).toBe(want.get(k));
        } catch (e) {
          corrupt(e, `get ${k}`);
        }
      }
      try {
        const got = await db.getMany(keys.map((k) => Buffer.from(k, 'hex')));
        expect(got.map((g) => (g ? hex(g) : undefined)), `${what}, getMany`).toEqual([...want.values()]);
      } catch (e) {
        corrupt(e, 'getMany');
      }
      for (const reverse of [false, true]) {
        const seen: [string, string][] = [];
        try {
          for await (const [k, v] of db.iterator({ reverse })) seen.push([hex(k), hex(v)]);
        } catch (e) {
          corrupt(e, reverse ? 'reverse scan' : 'scan');
        }
        const expected = reverse ? [...want].reverse() : [...want];
        // What a scan yielded before it stopped is right; a complete scan is all of it.
        expect(seen, `${what}, ${reverse ? 'reverse ' : ''}scan`).toEqual(expected.slice(0, seen.length));
      }
      try {
        await db.verifyChecksums();
        throw new Error(`${what}: verifyChecksums found nothing`);
      } catch (e) {
        corrupt(e, 'verifyChecksums');
      }
    } finally {
      await db.close();
    }
    return detected;
  }

  it.each([['none'], ['lz4'], ['zstd']] as const)('every flipped byte (compression %s): the right answer or ERR_CORRUPTION, never a wrong value', async (compression) => {
    await withSeed(`table sweep ${compression}`, async (rng) => {
      const { fs, table, want } = await tableDb({ compression });
      const original = await fs.readFile(table);
      // Every byte with 'none'; a random quarter with the codecs (the sweep is the slow part).
      const step = compression === 'none' ? 1 : 4;
      for (let at = rng.int(step); at < original.length; at += step) {
        const mask = 1 << rng.int(8);
        await mutate(fs, table, flip(at, mask));
        await readEverything(fs, table, original.length, want, `flip 0x${mask.toString(16)} at ${at} of ${original.length}`);
        await overwrite(fs, table, original);
      }
    });
  });

  it('truncation at any length: the right answer or ERR_CORRUPTION', async () => {
    const { fs, table, want } = await tableDb({ compression: 'none' });
    const original = await fs.readFile(table);
    for (let len = 0; len < original.length; len += 1 + Math.floor(len / 30)) {
      await overwrite(fs, table, original.subarray(0, len));
      const detected = await readEverything(fs, table, original.length, want, `cut at ${len} of ${original.length}`);
      expect(detected).toBeGreaterThan(0);
    }
  });
});
