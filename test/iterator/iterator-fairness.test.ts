/**
 * A scan over data that needs no I/O (memtable, cached blocks) resolves every next()/nextv() without
 * waiting, so a `for await` loop would run entirely in microtasks and starve timers, sockets and the
 * engine's own sliced work. The iterator lets the event loop turn about once per millisecond of work
 * (src/base/yield-guard.ts): callbacks queued with setImmediate run while the scan is still going.
 */
import { describe, expect, it } from 'vitest';
import { DB, MemFileSystem, WriteBatch } from '../../src/index.js';

async function filled(n: number): Promise<DB> {
  const db = await DB.open('/db', { fs: new MemFileSystem() });
  for (let i = 0; i < n; i += 1000) {
    const b = new WriteBatch();
    for (let j = i; j < i + 1000; j++) b.put(`k${String(j).padStart(8, '0')}`, 'v'.repeat(32));
    await db.write(b);
  }
  return db;
}

/** Counts setImmediate turns while `scan` runs. */
async function turnsDuring(scan: () => Promise<number>): Promise<{ turns: number; entries: number }> {
  let turns = 0;
  let running = true;
  const tick = (): void => { if (running) { turns++; setImmediate(tick); } };
  setImmediate(tick);
  const entries = await scan();
  running = false;
  return { turns, entries };
}

describe('iterator fairness', () => {
  it('a for-await scan of 50,000 in-memory entries lets the event loop turn', async () => {
    const db = await filled(50_000);
    try {
      const r = await turnsDuring(async () => { let n = 0; for await (const _ of db.iterator()) n++; return n; });
      expect(r.entries).toBe(50_000);
      expect(r.turns).toBeGreaterThan(0);
    } finally {
      await db.close();
    }
  });

  it('so does a nextv() loop', async () => {
    const db = await filled(50_000);
    try {
      const r = await turnsDuring(async () => {
        const it = db.iterator();
        let n = 0;
        for (let batch = await it.nextv(100); batch.length > 0; batch = await it.nextv(100)) n += batch.length;
        await it.close();
        return n;
      });
      expect(r.entries).toBe(50_000);
      expect(r.turns).toBeGreaterThan(0);
    } finally {
      await db.close();
    }
  });
});
