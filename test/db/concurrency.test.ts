/**
 * Concurrency at the database level: hundreds of interleaved put/get/iterate/flush calls checked
 * against the commit order; 64 concurrent sync: true writers forming commit groups (fewer WAL syncs
 * than writes, every acknowledged write durable through a power cut); readers during flushes and
 * compactions seeing whole batches or none of them; snapshot reads held across many flushes in one
 * long run without a reopen. Background flushes and compactions run for real (tiny write buffers).
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { DB, MemFileSystem, WriteBatch, type Options, type Snapshot } from '../../src/index.js';
import { CommitLog, SyncHookFileSystem, diffStates, hex, readAll, type LoggedOp } from '../support/db-check.js';
import { type Rng, withSeed } from '../support/rng.js';

const DIR = '/db';
const SMALL: Options = { writeBufferSize: 8 * 1024, blockSize: 256 };
const h = (s: string): string => hex(Buffer.from(s));

describe('interleaved calls', () => {
  it('hundreds of concurrent put/delete/batch/get/iterate/flush calls agree with the commit order', async () => {
    await withSeed('interleaved', async (rng) => {
      const fs = new MemFileSystem();
      const db = await DB.open(DIR, { ...SMALL, fs });
      // Stable keys nobody writes during the storm: every read of them is exact.
      const stable = new Map<string, string>();
      for (let i = 0; i < 80; i++) {
        await db.put(`s${String(i).padStart(3, '0')}`, `stable-${i}`);
        stable.set(h(`s${String(i).padStart(3, '0')}`), h(`stable-${i}`));
      }
      await db.flush();
      const log = new CommitLog();
      const writeValue = new Map<string, string>(); // value hex -> the key it was written to
      const calls: Promise<unknown>[] = [];
      const problems: string[] = [];
      const checks: { seen: Map<string, string>; at: number }[] = [];
      let n = 0;
      const submit = (ops: LoggedOp[], p: Promise<void>): void => {
        void p.then(() => log.commit({ ops, sync: false }));
        calls.push(p);
      };
      for (let i = 0; i < 600; i++) {
        const r = rng.int(100);
        const hot = `h${rng.int(12)}`;
        if (r < 30) {
          const v = `${n++}`;
          writeValue.set(h(v), h(hot));
          submit([{ key: h(hot), value: h(v) }], db.put(hot, v, { sync: rng.int(10) === 0 }));
        } else if (r < 38) {
          submit([{ key: h(hot), value: undefined }], db.delete(hot));
        } else if (r < 48) {
          const b = new WriteBatch();
          const ops: LoggedOp[] = [];
          for (let j = 0; j < 4; j++) {
            const k = `h${rng.int(12)}`, v = `${n++}`;
            b.put(k, v);
            writeValue.set(h(v), h(k));
            ops.push({ key: h(k), value: h(v) });
          }
          submit(ops, db.write(b));
        } else if (r < 65) {
          const k = `s${String(rng.int(90)).padStart(3, '0')}`;
          calls.push(db.get(k).then((v) => {
            const want = stable.get(h(k));
            if ((v === undefined ? undefined : hex(v)) !== want) problems.push(`get ${k}: ${v?.toString()} != ${want}`);
          }));
        } else if (r < 75) {
          calls.push(db.get(hot).then((v) => {
            // Whatever a hot key holds was written to that key by some write.
            if (v !== undefined && writeValue.get(hex(v)) !== h(hot)) problems.push(`get ${hot}: ${v.toString()} was never written to it`);
          }));
        } else if (r < 85) {
          const it = db.iterator({ gte: 's', lt: 't', reverse: rng.int(2) === 0 });
          calls.push((async () => {
            const seen = new Map<string, string>();
            for await (const [k, v] of it) seen.set(hex(k), hex(v));
            if (seen.size !== stable.size || diffStates(seen, stable) !== '') problems.push(`scan of stable keys: ${diffStates(seen, stable)}`);
          })());
        } else if (r < 95) {
          // A whole-database scan reads at its creation: some prefix of the commit order, at least
          // the writes logged by then.
          const at = log.length;
          const it = db.iterator();
          calls.push((async () => {
            const seen = new Map<string, string>();
            for await (const [k, v] of it) if (!stable.has(hex(k))) seen.set(hex(k), hex(v));
            await Promise.resolve();
            checks.push({ seen, at });
          })());
        } else {
          calls.push(db.flush());
        }
        if (rng.int(8) === 0) await Promise.resolve(); // let some calls overlap less
      }
      const results = await Promise.allSettled(calls);
      for (const r of results) if (r.status === 'rejected') problems.push(`a call failed: ${(r.reason as Error).message}`);
      expect(problems).toEqual([]);
      for (const { seen, at } of checks) {
        expect(log.matchingPrefixes(seen).some((p) => p >= at), `a scan started after ${at} writes`).toBe(true);
      }
      expect(log.length).toBeGreaterThan(250);
      const final = await readAll(db);
      for (const k of stable.keys()) final.delete(k);
      expect(final).toEqual(log.stateAfter(log.length));
      await db.close();
      const re = await DB.open(DIR, { ...SMALL, fs });
      const after = await readAll(re);
      for (const k of stable.keys()) after.delete(k);
      expect(after).toEqual(log.stateAfter(log.length));
      await re.close();
    });
  });
});

describe('group commit', () => {
  it('64 concurrent sync: true writers share fsyncs, and every acknowledged write survives a power cut', async () => {
    // MemFileSystem syncs complete within a microtask; a real fdatasync completes on the thread
    // pool, after the event loop turns. Groups form while a sync is in flight, so give every sync
    // that latency (one macrotask), and count the WAL's.
    const mem = new MemFileSystem();
    let walSyncs = 0;
    const fs = new SyncHookFileSystem(mem, async (p) => {
      if (p.endsWith('.log')) walSyncs++;
      await new Promise((r) => setImmediate(r));
    });
    const db = await DB.open(DIR, { fs });
    const writers = 64, perWriter = 12;
    const acked: string[] = [];
    await Promise.all(Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < perWriter; i++) {
        const k = `w${w}-${i}`;
        await db.put(k, `v${w}-${i}`, { sync: true });
        acked.push(k);
      }
    }));
    const writes = writers * perWriter;
    expect(acked).toHaveLength(writes);
    // Groups form while a sync is in flight: far fewer syncs than writes.
    expect(walSyncs).toBeGreaterThan(0);
    expect(walSyncs, `${walSyncs} WAL syncs for ${writes} synced writes`).toBeLessThanOrEqual(writes / 8);
    const cut = mem.crashClone({ keepUnsyncedPercent: 0 });
    await db.close();
    const re = await DB.open(DIR, { fs: cut });
    const got = await re.getMany(acked);
    expect(got.filter((v) => v === undefined)).toHaveLength(0);
    got.forEach((v, i) => expect(v!.toString()).toBe(`v${acked[i]!.slice(1)}`));
    await re.close();
  });

  it('writes are acknowledged in commit order, even in runs long enough to make the engine yield', async () => {
    // Sequence numbers follow the queue, i.e. the order of the put() calls. Acknowledgements must
    // follow it too: the crash tests rely on it, and so does any caller that reports acks onwards.
    const db = await DB.open(DIR, { fs: new MemFileSystem() });
    const submitted: number[] = [];
    const acked: number[] = [];
    let n = 0;
    await Promise.all(Array.from({ length: 32 }, async (_, w) => {
      for (let i = 0; i < 150; i++) {
        const id = n++;
        submitted.push(id);
        await db.put(`w${w}-${i}`, 'x'.repeat(64), { sync: i % 50 === 0 }).then(() => acked.push(id));
      }
    }));
    expect(acked.length).toBe(submitted.length);
    const firstOutOfOrder = acked.findIndex((id, i) => id !== submitted[i]);
    expect(firstOutOfOrder, `ack ${firstOutOfOrder} is write ${acked[firstOutOfOrder]}, submitted ${submitted[firstOutOfOrder]}`).toBe(-1);
    await db.close();
  });

  it('a mixed group: unsynced writers queued behind a synced one are acknowledged with it', async () => {
    const mem = new MemFileSystem();
    const db = await DB.open(DIR, { fs: mem });
    const order: number[] = [];
    await Promise.all(Array.from({ length: 40 }, (_, i) =>
      db.put(`m${String(i).padStart(2, '0')}`, String(i), { sync: i % 5 === 0 }).then(() => order.push(i))));
    // Acknowledged in submission order (sequence order), whatever their sync flags.
    expect(order).toEqual(Array.from({ length: 40 }, (_, i) => i));
    const cut = mem.crashClone({ keepUnsyncedPercent: 0 });
    await db.close();
    const re = await DB.open(DIR, { fs: cut });
    // The last synced write (35) made everything before it durable.
    for (let i = 0; i <= 35; i++) expect((await re.get(`m${String(i).padStart(2, '0')}`))?.toString()).toBe(String(i));
    await re.close();
  });
});

describe('writes racing a MANIFEST edit', () => {
  it('writes acknowledged while a flush edit is being synced stay visible after later flushes and a reopen', async () => {
    // The VersionSet computes an edit's last sequence before syncing the record; writes landing
    // during that sync advance it further, and installing the edit must not step back over them
    // (a later flush would record the older number, and once their WAL is gone a reopen reads
    // below them: acknowledged writes silently invisible).
    const mem = new MemFileSystem();
    let gate: Promise<void> | undefined;
    let open: (() => void) | undefined;
    let parked: (() => void) | undefined;
    const isParked = new Promise<void>((r) => { parked = r; });
    const fs = new SyncHookFileSystem(mem, async (p) => {
      if (gate && /MANIFEST-\d+$/.test(p)) { parked!(); await gate; }
    });
    const db = await DB.open(DIR, { fs });
    for (let i = 0; i < 20; i++) await db.put(`a${i}`, 'first');
    gate = new Promise((r) => { open = r; });
    const flushing = db.flush();
    await isParked; // the flush edit is written, its sync parked
    for (let i = 0; i < 20; i++) await db.put(`b${i}`, 'during the MANIFEST sync');
    const sequence = db.stats().sequence;
    gate = undefined;
    open!();
    await flushing;
    await db.flush(); // the b writes go to a table and their WAL becomes obsolete
    expect(db.stats().sequence).toBe(sequence);
    await db.close();
    const re = await DB.open(DIR, { fs: mem });
    expect(re.stats().sequence).toBeGreaterThanOrEqual(sequence);
    const got = await re.getMany(Array.from({ length: 20 }, (_, i) => `b${i}`));
    expect(got.map((v) => v?.toString())).toEqual(Array(20).fill('during the MANIFEST sync'));
    await re.close();
  });
});

describe('consistent reads during flushes', () => {
  const KEYS = 40;

  /** Every key holds the same generation (a batch writes all of them at once). */
  function checkWhole(entries: [Buffer, Buffer][], what: string): number {
    expect(entries.length, `${what}: keys seen`).toBe(KEYS);
    const gens = new Set(entries.map(([, v]) => v.toString().split(':')[0]));
    expect([...gens], `${what}: generations seen together`).toHaveLength(1);
    return Number([...gens][0]);
  }

  it('an iterator or snapshot never sees part of a batch, while batches, flushes and compactions run', async () => {
    await withSeed('whole batches', async (rng: Rng) => {
      const fs = new MemFileSystem();
      const db = await DB.open(DIR, { ...SMALL, fs });
      const writeGen = async (g: number): Promise<void> => {
        const b = new WriteBatch();
        for (let i = 0; i < KEYS; i++) b.put(`g${String(i).padStart(3, '0')}`, `${g}:${'p'.repeat(rng.int(60))}`);
        await db.write(b);
      };
      await writeGen(0);
      let done = false;
      let lastWritten = 0;
      const writer = (async () => {
        const flushes: Promise<void>[] = [];
        for (let g = 1; g <= 90; g++) {
          await writeGen(g);
          lastWritten = g;
          if (g % 5 === 0) flushes.push(db.flush());
          if (rng.int(3) === 0) await new Promise((r) => setImmediate(r));
        }
        await Promise.all(flushes);
        done = true;
      })();
      const readers = Array.from({ length: 3 }, async (_, r) => {
        let reads = 0;
        while (!done || reads < 5) {
          const floor = lastWritten;
          const mode = (reads + r) % 3;
          if (mode === 0) {
            // Created now, read after more batches and flushes have landed.
            const it = db.iterator({ reverse: reads % 2 === 1 });
            await new Promise((res) => setImmediate(res));
            const entries: [Buffer, Buffer][] = [];
            for await (const e of it) entries.push(e);
            expect(checkWhole(entries, 'iterator')).toBeGreaterThanOrEqual(floor);
          } else if (mode === 1) {
            const snap = db.snapshot();
            await new Promise((res) => setImmediate(res));
            const keys = Array.from({ length: KEYS }, (_, i) => `g${String(i).padStart(3, '0')}`);
            const vals = await db.getMany(keys, { snapshot: snap });
            const entries = vals.map((v, i) => [Buffer.from(keys[i]!), v!] as [Buffer, Buffer]);
            const g = checkWhole(entries, 'snapshot getMany');
            const scanned: [Buffer, Buffer][] = [];
            for await (const e of db.iterator({ snapshot: snap })) scanned.push(e);
            expect(checkWhole(scanned, 'snapshot scan')).toBe(g);
            snap.release();
          } else {
            const entries: [Buffer, Buffer][] = [];
            for await (const e of db.iterator({ gte: 'g', limit: KEYS })) entries.push(e);
            checkWhole(entries, 'fresh scan');
          }
          reads++;
        }
        return reads;
      });
      await writer;
      const reads = await Promise.all(readers);
      expect(reads.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(15);
      expect(db.stats().flushes.count).toBeGreaterThan(5);
      await db.close();
    });
  });
});

describe('snapshots in a long run', () => {
  it('snapshot reads stay exact across many flushes and compactions without a reopen', async () => {
    await withSeed('long snapshots', async (rng) => {
      const fs = new MemFileSystem();
      const db = await DB.open(DIR, { fs, writeBufferSize: 8 * 1024, blockSize: 256, level0CompactionTrigger: 2 });
      const model = new Map<string, string>();
      const snaps: { snap: Snapshot; state: Map<string, string>; takenAt: number }[] = [];
      const verify = async (): Promise<void> => {
        for (const s of snaps) {
          expect(await readAll(db, s.snap), `snapshot taken at op ${s.takenAt}`).toEqual(s.state);
          const keys = [...s.state.keys()].slice(0, 5).concat([h('absent')]);
          const got = await db.getMany(keys.map((k) => Buffer.from(k, 'hex')), { snapshot: s.snap });
          expect(got.map((g) => (g ? hex(g) : undefined))).toEqual(keys.map((k) => s.state.get(k)));
        }
      };
      const sorted = (m: Map<string, string>): Map<string, string> => new Map([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      for (let op = 0; op < 1600; op++) {
        const k = `k${String(rng.int(120)).padStart(3, '0')}`;
        const r = rng.int(100);
        if (r < 60) {
          const v = `${op}:${'x'.repeat(rng.int(100))}`;
          await db.put(k, v);
          model.set(h(k), h(v));
        } else if (r < 80) {
          await db.delete(k);
          model.delete(h(k));
        } else if (r < 95) {
          const b = new WriteBatch();
          for (let j = 0; j < 5; j++) {
            const kk = `k${String(rng.int(120)).padStart(3, '0')}`;
            if (rng.int(3) === 0) { b.delete(kk); model.delete(h(kk)); } else { const v = `${op}.${j}`; b.put(kk, v); model.set(h(kk), h(v)); }
          }
          await db.write(b);
        } else if (r < 98 && snaps.length < 8) {
          snaps.push({ snap: db.snapshot(), state: sorted(model), takenAt: op });
        } else if (snaps.length > 0) {
          snaps.splice(rng.int(snaps.length), 1)[0]!.snap.release();
        }
        if (op % 400 === 399) await verify();
      }
      await db.flush();
      await verify();
      expect(await readAll(db)).toEqual(sorted(model));
      const s = db.stats();
      expect(s.flushes.count).toBeGreaterThan(10);
      for (const x of snaps) x.snap.release();
      expect(db.stats().snapshots).toBe(0);
      await db.close();
    });
  });
});
