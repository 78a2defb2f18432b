/**
 * Large batches through the whole engine (src/memtable/flushable-batch.ts, write-path.ts): a write
 * of writeBufferSize / 2 encoded bytes or more bypasses the memtable, as a flushable batch alone in
 * its WAL. Checked against a model: large db.write batches (repeated keys, deletes) and large
 * transaction commits mixed with small writes from concurrent writers, snapshots taken before and
 * after, iterators opened across the switch, reads during and after the flush, reopen after close
 * (flushed or not), reads and writes while the batch's flush is held at its table's sync and at its
 * MANIFEST edit's sync, a batch holding a range delete (the normal path), and a transaction whose log
 * grew in place (a resizable buffer, past 1 MiB) written through the real file system, plain and
 * encrypted. The LOG says which path each batch took.
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { DB, MemFileSystem, staticKeyProvider, WriteBatch, type Options, type Snapshot } from '../../src/index.js';
import { tempDir } from '../support/tmpdir.js';
import { HoldFileSystem } from '../support/hold-fs.js';
import { hex, readAll } from '../support/db-check.js';
import { type Rng, withSeed } from '../support/rng.js';

const DIR = '/db';
const WBS = 16 * 1024;
const base: Options = { writeBufferSize: WBS, blockSize: 512 };

type Model = Map<string, string>;
const hx = (s: string): string => hex(Buffer.from(s));

async function bypassed(fs: MemFileSystem): Promise<number> {
  const log = Buffer.from(await fs.readFile(`${DIR}/LOG`)).toString();
  return log.split('\n').filter((l) => l.includes('flushable batch of')).length;
}

/** A batch of about `bytes` encoded bytes over `keys` keys (so keys repeat), some deletes; applied to `model` on success. */
function bigBatch(rng: Rng, bytes: number, keys: number, tag: string): { batch: WriteBatch; apply: (m: Model) => void } {
  const batch = new WriteBatch();
  const ops: [string, string | undefined][] = [];
  while (batch.byteLength < bytes) {
    const k = `k${String(rng.int(keys)).padStart(4, '0')}`;
    if (rng.int(8) === 0) { batch.delete(k); ops.push([k, undefined]); }
    else {
      const v = `${tag}:${ops.length}:${'v'.repeat(rng.int(60))}`;
      batch.put(k, v);
      ops.push([k, v]);
    }
  }
  return {
    batch,
    apply: (m) => { for (const [k, v] of ops) { if (v === undefined) m.delete(hx(k)); else m.set(hx(k), hx(v)); } },
  };
}

function put(m: Model, k: string, v: string | undefined): void {
  if (v === undefined) m.delete(hx(k));
  else m.set(hx(k), hx(v));
}

describe('large batches bypass the memtable', () => {
  it('a large batch is read, iterated, flushed and reopened like memtable data; snapshots and old iterators keep their view', async () => {
    await withSeed('flushable basic', async (rng) => {
      const fs = new MemFileSystem();
      let db = await DB.open(DIR, { ...base, fs });
      const model: Model = new Map();
      for (let i = 0; i < 50; i++) { const v = `small${i}`; await db.put(`k${String(i).padStart(4, '0')}`, v); put(model, `k${String(i).padStart(4, '0')}`, v); }
      const s1: Snapshot = db.snapshot();
      const at1 = new Map(model);
      const before = db.iterator();
      // Position it before the batch lands: it must keep the old view.
      const firstBefore = await before.next();
      const big = bigBatch(rng, WBS / 2 + 100, 300, 'big');
      await db.write(big.batch);
      big.apply(model);
      expect(await bypassed(fs)).toBe(1);
      const s2 = db.snapshot();
      const at2 = new Map(model);
      // Small writes right after: they go to a new WAL and the active memtable.
      for (let i = 0; i < 20; i++) { const k = `k${String(rng.int(300)).padStart(4, '0')}`; await db.put(k, `after${i}`); put(model, k, `after${i}`); }
      await db.delete('k0001'); put(model, 'k0001', undefined);
      expect(await readAll(db)).toEqual(model);
      expect(await readAll(db, s1)).toEqual(at1);
      expect(await readAll(db, s2)).toEqual(at2);
      for (let i = 0; i < 300; i++) {
        const k = `k${String(i).padStart(4, '0')}`;
        const want = model.get(hx(k));
        const got = await db.get(k);
        expect(got === undefined ? undefined : hex(got), k).toBe(want);
      }
      // The iterator made before the batch: the rest of it is the old state.
      const rest = new Map<string, string>();
      if (firstBefore.value) rest.set(hex(firstBefore.value[0]), hex(firstBefore.value[1]));
      for await (const [k, v] of before) rest.set(hex(k), hex(v));
      expect(rest).toEqual(at1);
      await db.flush();
      expect(db.stats().immutableMemtables).toBe(0);
      expect(await readAll(db)).toEqual(model);
      expect(await readAll(db, s2)).toEqual(at2);
      s1.release(); s2.release();
      await db.close();
      db = await DB.open(DIR, { ...base, fs });
      expect(await readAll(db)).toEqual(model);
      await db.close();
    });
  });

  it('concurrent small writes, large batches and large transactions keep commit order; reopen without a flush replays them', async () => {
    await withSeed('flushable mixed', async (rng) => {
      for (const flushOnClose of [true, false]) {
        const fs = new MemFileSystem();
        const options: Options = { ...base, flushOnClose, maxWriteBufferNumber: 2 };
        const db = await DB.open(DIR, { ...options, fs });
        const model: Model = new Map();
        const log: ((m: Model) => void)[] = [];
        const commit = (p: Promise<unknown>, apply: (m: Model) => void): Promise<unknown> => {
          void p.then(() => log.push(apply), () => undefined);
          return p;
        };
        let tag = 0;
        const writer = async (w: number): Promise<void> => {
          for (let i = 0; i < 25; i++) {
            const r = rng.int(10);
            if (r === 0) {
              const b = bigBatch(rng, WBS / 2 + rng.int(WBS), 400, `b${tag++}`);
              await commit(db.write(b.batch), b.apply);
            } else if (r === 1) {
              const t = `t${tag++}`;
              const ops: [string, string][] = [];
              const tx = db.beginTransaction();
              for (let n = 0; n < 250; n++) {
                const k = `k${String(rng.int(400)).padStart(4, '0')}`, v = `${t}:${n}:${'x'.repeat(rng.int(50))}`;
                tx.put(k, v);
                ops.push([k, v]);
              }
              await commit(tx.commit(), (m) => { for (const [k, v] of ops) put(m, k, v); }).catch(() => undefined);
            } else {
              const k = `k${String(rng.int(400)).padStart(4, '0')}`, v = `w${w}.${i}`;
              await commit(db.put(k, v), (m) => put(m, k, v));
            }
          }
        };
        await Promise.all([0, 1, 2, 3].map(writer));
        for (const f of log) f(model);
        expect(await bypassed(fs)).toBeGreaterThan(0);
        expect(await readAll(db)).toEqual(model);
        await db.close();
        const re = await DB.open(DIR, { ...options, fs });
        expect(await readAll(re), `flushOnClose ${flushOnClose}`).toEqual(model);
        await re.close();
      }
    });
  });

  it('a large batch holding a range delete takes the memtable path', async () => {
    const fs = new MemFileSystem();
    const db = await DB.open(DIR, { ...base, fs });
    await db.put('a1', 'x');
    const b = new WriteBatch().deleteRange('a', 'b');
    for (let i = 0; b.byteLength < WBS; i++) b.put(`c${i}`, 'y'.repeat(40));
    await db.write(b);
    expect(await bypassed(fs)).toBe(0);
    expect(await db.get('a1')).toBeUndefined();
    expect(Buffer.from((await db.get('c0'))!).toString()).toBe('y'.repeat(40));
    await db.close();
  });

  it('a large transaction commit is held as a flushable batch (memory counted as an immutable memtable)', async () => {
    const fs = new MemFileSystem();
    // A flush that cannot run yet keeps the batch in memory for the stats to see.
    const db = await DB.open(DIR, { ...base, fs, writeBufferSize: 64 * 1024 });
    await db.put('first', '1');
    const tx = db.beginTransaction();
    for (let i = 0; i < 2000; i++) tx.put(`t${String(i).padStart(5, '0')}`, 'z'.repeat(20));
    const sawBatch = new Promise<number>((resolve) => {
      db.on('flush', (e) => { if (e.phase === 'begin' && e.entries === 2000) resolve(db.stats().memory.immutableMemtables); });
    });
    await tx.commit();
    expect(await bypassed(fs)).toBe(1);
    const held = await sawBatch;
    // Its bytes (~31 KiB encoded, in a log buffer grown by 1.5x) plus 8 B per op, not ~77 B per entry.
    expect(held).toBeGreaterThan(2000 * 8);
    expect(held).toBeLessThan(2000 * 60);
    expect(Buffer.from((await db.get('t01999'))!).toString()).toBe('z'.repeat(20));
    await db.close();
  });

  it('a transaction log past 1 MiB (grown in place) commits through the real file system, plain and encrypted, and replays after a reopen', async () => {
    for (const encrypted of [false, true]) {
      const dir = await tempDir();
      const options: Options = {
        writeBufferSize: 4 * 1024 * 1024, flushOnClose: false,
        ...(encrypted ? { encryption: { keyProvider: staticKeyProvider({ k1: 'a'.repeat(64) }, 'k1') } } : {}),
      };
      let db = await DB.open(dir, options);
      const tx = db.beginTransaction();
      const n = 60_000;
      for (let i = 0; i < n; i++) tx.put(`key${String(i).padStart(6, '0')}`, `value-${i}`);
      await tx.commit();
      await db.put('after', 'x');
      expect(Buffer.from((await db.get('key012345'))!).toString()).toBe('value-12345');
      await db.close();
      db = await DB.open(dir, options);
      let count = 0;
      for await (const [k, v] of db.iterator()) {
        const key = Buffer.from(k).toString();
        if (key === 'after') continue;
        expect(Buffer.from(v).toString(), key).toBe(`value-${Number(key.slice(3))}`);
        count++;
      }
      expect(count, `encrypted ${encrypted}`).toBe(n);
      await db.close();
    }
  });

  for (const held of ['table', 'MANIFEST'] as const) {
    it(`reads and writes go on while the batch's flush is held at its ${held} sync; the batch is there after it and after a reopen`, async () => {
      await withSeed(`flushable held ${held}`, async (rng) => {
        const mem = new MemFileSystem();
        let armed = false;
        const fs = new HoldFileSystem(mem, (kind, p) => armed && kind === 'sync' && (held === 'table' ? p.endsWith('.sst') : p.includes('MANIFEST')));
        const options: Options = { ...base, maxWriteBufferNumber: 3 };
        const db = await DB.open(DIR, { ...options, fs });
        const model: Model = new Map();
        for (let i = 0; i < 30; i++) { const k = `k${String(rng.int(300)).padStart(4, '0')}`; await db.put(k, `pre${i}`); put(model, k, `pre${i}`); }
        await db.flush(); // nothing frozen before the batch: the next table and MANIFEST edit are its flush's
        const big = bigBatch(rng, WBS / 2 + 500, 300, 'big');
        armed = true;
        await db.write(big.batch);
        big.apply(model);
        await fs.reached; // the batch's flush is in flight, parked
        const during = db.snapshot();
        const atDuring = new Map(model);
        for (let i = 0; i < 20; i++) { const k = `k${String(rng.int(300)).padStart(4, '0')}`; await db.put(k, `during${i}`); put(model, k, `during${i}`); }
        expect(await readAll(db)).toEqual(model);
        expect(await readAll(db, during)).toEqual(atDuring);
        for (let i = 0; i < 300; i += 7) {
          const k = `k${String(i).padStart(4, '0')}`;
          const got = await db.get(k);
          expect(got === undefined ? undefined : hex(got), k).toBe(model.get(hx(k)));
        }
        fs.release();
        await db.flush();
        expect(db.stats().immutableMemtables).toBe(0);
        expect(await readAll(db)).toEqual(model);
        expect(await readAll(db, during)).toEqual(atDuring);
        during.release();
        await db.close();
        const re = await DB.open(DIR, { ...options, fs: mem });
        expect(await readAll(re)).toEqual(model);
        await re.close();
      });
    });
  }
});
