/**
 * Flushes as jobs of the compaction executor (compaction/flush-job.ts): with workers the memtable is
 * written as its L0 table in a worker thread (the LOG line of each flush says where it ran), inline
 * mode writes it on the main thread, and both give the same data back, also after a reopen; an
 * encrypted database's flush in a worker seals the table under the current key; range tombstones reach
 * the worker's table; a memtable too big for the flush pool is written inline; a flushable batch (a
 * large batch held as written: no share()) is written inline even with a worker running; a worker
 * that dies mid-flush costs one attempt, retried, and no data.
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DB, WriteBatch, staticKeyProvider, type Options } from '../../src/index.js';
import { tempDir } from '../support/tmpdir.js';
import { makeRng, testSeed, type Rng } from '../support/rng.js';

function flushLines(dir: string): string[] {
  return readFileSync(join(dir, 'LOG'), 'utf8').split('\n').filter((l) => l.includes('flushed memtable'));
}

async function fillAndFlush(db: DB, rng: Rng, n: number): Promise<Map<string, string>> {
  const model = new Map<string, string>();
  for (let i = 0; i < n; i++) {
    const k = `key${String(rng.int(n * 2)).padStart(6, '0')}`;
    const v = Buffer.from(rng.bytes(rng.int(300))).toString('hex');
    model.set(k, v);
    await db.put(k, v);
  }
  await db.flush();
  return model;
}

async function rows(db: DB): Promise<string[]> {
  const out: string[] = [];
  for await (const [k, v] of db.iterator()) out.push(`${k.toString()}=${v.toString()}`);
  return out;
}

function sorted(model: Map<string, string>): string[] {
  return [...model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`);
}

async function run(mode: 'worker' | 'inline', seed: number, extra: Options = {}): Promise<{ dir: string; lines: string[]; rows: string[]; model: string[] }> {
  const dir = await tempDir();
  let db = await DB.open(dir, { compactionExecutor: mode, ...extra });
  const model = await fillAndFlush(db, makeRng(seed), 3000);
  expect(db.stats().levels[0]!.files).toBe(1);
  expect(db.stats().memtable.entries).toBe(0);
  const lines = flushLines(dir);
  await db.close();
  db = await DB.open(dir, { compactionExecutor: 'inline', ...extra }); // reads the table, not a WAL
  const got = await rows(db);
  await db.close();
  return { dir, lines, rows: got, model: sorted(model) };
}

async function seeded(f: (seed: number) => Promise<void>): Promise<void> {
  const seed = testSeed();
  try {
    await f(seed);
  } catch (e) {
    (e as Error).message = `SEED=${seed}: ${(e as Error).message}`;
    throw e;
  }
}

describe('flush jobs', () => {
  it('with workers, a flush writes its table in a worker; inline mode on the main thread; the same data either way', async () => {
    await seeded(async (seed) => {
      const w = await run('worker', seed);
      const i = await run('inline', seed);
      expect(w.lines.length).toBeGreaterThan(0);
      expect(w.lines[0]).toMatch(/flushed memtable \(\d+ entries\) to L0 table \d+ \(\d+ bytes\) in [\d.]+ ms \(in a worker\)/);
      expect(i.lines[0]).toMatch(/flushed memtable \(\d+ entries\) to L0 table \d+ \(\d+ bytes\) in [\d.]+ ms \(on the main thread\)/);
      expect(w.rows).toEqual(w.model);
      expect(i.rows).toEqual(i.model);
    });
  });

  it('a small flush before any worker has started stays inline (no worker started for it)', async () => {
    const dir = await tempDir();
    const db = await DB.open(dir, { compactionExecutor: 'worker' });
    for (let i = 0; i < 10; i++) await db.put(`k${i}`, 'v');
    await db.flush();
    expect(flushLines(dir)[0]).toMatch(/\(on the main thread\)/);
    expect((db.engine as unknown as { executor: { started: number } }).executor.started).toBe(0);
    expect((await db.get('k3'))?.toString()).toBe('v');
    await db.close();
  });

  it('a memtable bigger than the flush pool may hold is written on the main thread, and starts no worker', async () => {
    await seeded(async (seed) => {
      const dir = await tempDir();
      // writeBufferSize 64 KiB: the pool's cap is its 4 MiB floor; one 6 MiB value overflows it. The
      // range delete keeps the batch in the memtable (a large batch without one bypasses it).
      const db = await DB.open(dir, { compactionExecutor: 'worker', writeBufferSize: 64 * 1024 });
      const big = Buffer.from(makeRng(seed).bytes(6 << 20));
      await db.write(new WriteBatch().deleteRange('a', 'b').put('big', big));
      await db.flush();
      expect(flushLines(dir)[0]).toMatch(/\(on the main thread\)/);
      expect((db.engine as unknown as { executor: { started: number } }).executor.started).toBe(0);
      expect((await db.get('big'))?.equals(big)).toBe(true);
      await db.close();
    });
  });

  it('a flushable batch is written on the main thread, even with a flush worker running', async () => {
    await seeded(async (seed) => {
      const dir = await tempDir();
      const db = await DB.open(dir, { compactionExecutor: 'worker', writeBufferSize: 256 * 1024 });
      const rng = makeRng(seed);
      await fillAndFlush(db, rng, 3000);
      expect(flushLines(dir).at(-1)).toMatch(/\(in a worker\)/);
      const started = (db.engine as unknown as { executor: { started: number } }).executor.started;
      const b = new WriteBatch();
      for (let i = 0; i < 3000; i++) b.put(`batch${String(i).padStart(5, '0')}`, Buffer.from(rng.bytes(40)).toString('hex'));
      await db.write(b);
      await db.flush();
      const log = readFileSync(join(dir, 'LOG'), 'utf8');
      expect(log).toContain('flushable batch of 3000 entries');
      expect(flushLines(dir).at(-1)).toMatch(/flushed memtable \(3000 entries\).*\(on the main thread\)/);
      expect((db.engine as unknown as { executor: { started: number } }).executor.started).toBe(started);
      expect((await db.get('batch01234'))?.length).toBe(80);
      await db.close();
    });
  });

  it('an encrypted database flushes in a worker under the current key', async () => {
    await seeded(async (seed) => {
      const keyProvider = staticKeyProvider({ k1: randomBytes(32) }, 'k1');
      const w = await run('worker', seed, { encryption: { keyProvider } });
      expect(w.lines[0]).toMatch(/\(in a worker\)/);
      expect(w.rows).toEqual(w.model);
      // No table holds a key in the clear.
      for (const f of readdirSync(w.dir).filter((n) => n.endsWith('.sst'))) {
        expect(readFileSync(join(w.dir, f)).includes(Buffer.from('key0'))).toBe(false);
      }
      await expect(DB.open(w.dir, { compactionExecutor: 'inline' })).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_/) });
    });
  });

  it('range tombstones reach the worker: its table deletes the range after a reopen', async () => {
    await seeded(async (seed) => {
      const dir = await tempDir();
      let db = await DB.open(dir, { compactionExecutor: 'worker' });
      const rng = makeRng(seed);
      for (let i = 0; i < 6000; i++) await db.put(`key${String(i).padStart(5, '0')}`, Buffer.from(rng.bytes(200)));
      const b = new WriteBatch().deleteRange('key01000', 'key02000');
      await db.engine.writes.submit(b.encodedOps().slice(), b.length, b.byteLength, true);
      await db.flush();
      expect(flushLines(dir)[0]).toMatch(/\(in a worker\)/);
      await db.close();
      db = await DB.open(dir, { compactionExecutor: 'inline' });
      expect(await db.get('key00999')).toBeDefined();
      expect(await db.get('key01000')).toBeUndefined();
      expect(await db.get('key01999')).toBeUndefined();
      expect(await db.get('key02000')).toBeDefined();
      expect((await rows(db)).length).toBe(5000);
      await db.close();
    });
  });

  it('a worker that dies mid-flush: the attempt fails, its shared buffers go back, the retry writes the table', async () => {
    await seeded(async (seed) => {
      const dir = await tempDir();
      // The first worker started dies on its first flush; every later one is the real worker.
      const real = pathToFileURL(fileURLToPath(new URL('../../dist/compaction/worker.js', import.meta.url))).href;
      const marker = join(dir, 'worker-died');
      const script = join(await tempDir(), 'dying-worker.mjs');
      writeFileSync(script, `
import { parentPort } from 'node:worker_threads';
import { existsSync, writeFileSync } from 'node:fs';
if (!existsSync(${JSON.stringify(marker)})) {
  writeFileSync(${JSON.stringify(marker)}, '');
  parentPort.on('message', (m) => { if (m.type === 'flush') process.exit(7); });
  parentPort.postMessage({ type: 'ready' });
} else {
  await import(${JSON.stringify(real)});
}
`);
      let db = await DB.open(dir, { compactionExecutor: 'worker', compactionWorkerPath: script });
      const model = await fillAndFlush(db, makeRng(seed), 3000);
      const log = readFileSync(join(dir, 'LOG'), 'utf8');
      expect(log).toMatch(/flush attempt 1 of \d+ failed: compaction worker exited with code 7/);
      expect(flushLines(dir)[0]).toMatch(/\(in a worker\)/);
      const pool = (db.engine as unknown as { executor: { workers: { flushPool: { lentBytes: number; heldBytes: number } } } }).executor.workers.flushPool;
      expect(pool.lentBytes).toBe(0);
      expect(pool.heldBytes).toBeGreaterThan(0);
      await db.close();
      db = await DB.open(dir, { compactionExecutor: 'inline' });
      expect(await rows(db)).toEqual(sorted(model));
      await db.close();
    });
  });
});
