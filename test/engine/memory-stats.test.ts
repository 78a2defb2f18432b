/**
 * stats().memory (src/engine/memory-stats.ts): every part in bytes, the total their sum, memtables
 * split into active and immutable, writes waiting for a group counted, conflict tracking growing
 * while a transaction is open, open transactions' write buffers counted until they end, and no worker
 * figures in inline mode.
 */
import { describe, expect, it } from 'vitest';
import { DB, MemFileSystem } from '../../src/index.js';
import { withSeed } from '../support/rng.js';

const PARTS = ['memtables', 'cache', 'tableReaders', 'pendingWrites', 'transactions', 'transactionBuffers', 'compactionWorkerBytes',
  'flushWorkerBytes', 'flushPool'] as const;

describe('stats().memory', () => {
  it('reports each part in bytes, and the total is their sum', async () => {
    await withSeed('memory stats', async (rng) => {
      const db = await DB.open('/db', { fs: new MemFileSystem(), writeBufferSize: 64 * 1024, cacheSize: 1 << 20 });
      try {
        for (let i = 0; i < 3000; i++) await db.put(`k${rng.int(100_000)}`, rng.bytes(50));
        await db.flush();
        for (let i = 0; i < 200; i++) await db.get(`k${rng.int(100_000)}`);
        for (let i = 0; i < 100; i++) await db.put(`k${rng.int(100_000)}`, rng.bytes(50));
        const m = db.stats().memory;
        let sum = 0;
        for (const p of PARTS) { expect(Number.isInteger(m[p]), p).toBe(true); expect(m[p], p).toBeGreaterThanOrEqual(0); sum += m[p]; }
        expect(m.total).toBe(sum);
        expect(m.memtables).toBe(m.activeMemtable + m.immutableMemtables);
        expect(m.activeMemtable).toBeGreaterThan(0);
        expect(m.tableReaders).toBeGreaterThan(0);
        expect(m.cache).toBeGreaterThan(0);
        expect(m.cache).toBe(db.stats().cache.usage);
        // Inline (an injected fs): no workers, no shared memory.
        expect([m.compactionWorkers, m.compactionWorkerBytes, m.flushWorkers, m.flushWorkerBytes, m.flushPool]).toEqual([0, 0, 0, 0, 0]);
        expect(m.process.rss).toBeGreaterThan(0);
        expect(m.process.heapUsed).toBeGreaterThan(0);
        expect(m.process.arrayBuffers).toBeGreaterThan(0);
      } finally {
        await db.close();
      }
    });
  });

  it('counts writes waiting for a write group, and nothing once they are applied', async () => {
    const db = await DB.open('/db', { fs: new MemFileSystem() });
    try {
      const puts = Array.from({ length: 50 }, (_, i) => db.put(`k${i}`, 'v'.repeat(100)));
      expect(db.stats().memory.pendingWrites).toBeGreaterThanOrEqual(50 * 100);
      await Promise.all(puts);
      expect(db.stats().memory.pendingWrites).toBe(0);
    } finally {
      await db.close();
    }
  });

  it('conflict tracking grows with commits while a transaction is open', async () => {
    const db = await DB.open('/db', { fs: new MemFileSystem() });
    try {
      const before = db.stats().memory.transactions;
      const tx = db.beginTransaction();
      for (let i = 0; i < 500; i++) await db.put(`key-${i}`, 'v');
      expect(db.stats().memory.transactions).toBeGreaterThan(before + 500 * 8);
      tx.rollback();
    } finally {
      await db.close();
    }
  });

  it("counts open transactions' write buffers until commit or rollback, and what their iterators sort", async () => {
    const db = await DB.open('/db', { fs: new MemFileSystem() });
    try {
      expect(db.stats().memory.transactionBuffers).toBe(0);
      const a = db.beginTransaction();
      const b = db.beginTransaction({ locking: 'pessimistic' });
      // Keys out of order, so that an iterator has to sort them.
      for (let i = 0; i < 2000; i++) a.put(`a-${(i * 7919) % 2000}`, 'x'.repeat(100));
      const afterA = db.stats().memory.transactionBuffers;
      expect(afterA).toBeGreaterThanOrEqual(2000 * 100);
      for (let i = 0; i < 1000; i++) b.put(`b-${i}`, 'y'.repeat(50));
      const afterB = db.stats().memory.transactionBuffers;
      expect(afterB).toBeGreaterThanOrEqual(afterA + 1000 * 50);
      // The pessimistic transaction's locks are in the lock table, counted under `transactions`.
      expect(db.stats().memory.transactions).toBeGreaterThan(0);
      const it = a.iterator();
      expect(String((await it.next()).value?.[0])).toBe('a-0');
      await it.close();
      const sorted = db.stats().memory.transactionBuffers;
      expect(sorted).toBeGreaterThan(afterB); // the sorted view of a's 2000 ops
      const m = db.stats().memory;
      expect(m.total).toBeGreaterThanOrEqual(m.transactionBuffers + m.transactions);
      await a.commit();
      const afterCommit = db.stats().memory.transactionBuffers;
      expect(afterCommit).toBeGreaterThanOrEqual(1000 * 50);
      expect(afterCommit).toBeLessThan(afterB - afterA + 1024);
      b.rollback();
      expect(db.stats().memory.transactionBuffers).toBe(0);
      // A failed commit ends the transaction too.
      const c = db.beginTransaction();
      const d = db.beginTransaction();
      c.put('k', '1');
      d.put('k', '2');
      await c.commit();
      await expect(d.commit()).rejects.toMatchObject({ code: 'ERR_TXN_CONFLICT' });
      expect(db.stats().memory.transactionBuffers).toBe(0);
    } finally {
      await db.close();
    }
  });
});
