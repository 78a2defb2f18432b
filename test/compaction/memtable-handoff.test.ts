/**
 * The flush hand-off (compaction/memtable-handoff.ts): a frozen memtable copied into pooled shared
 * memory is, after a structured clone (what postMessage does), a view that iterates exactly like the
 * memtable, range tombstones included; its arrays sit on the pool's SharedArrayBuffers; a second
 * hand-off while the first is held gets other buffers, and after the first is released it reuses them
 * with its own bytes.
 */
import { describe, expect, it } from 'vitest';
import { ValueKind } from '../../src/base/internal-key.js';
import { MemTable } from '../../src/memtable/memtable.js';
import { copyToPool, PIECE_BYTES, SLICE_MS } from '../../compaction/memtable-handoff.js';
import { BLOCK_BYTES, FlushPoolFullError, SharedBufferPool } from '../../compaction/shared-buffer-pool.js';
import { withSeed, type Rng } from '../support/rng.js';
import { drain } from '../memtable/model.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function filled(rng: Rng, keys: number): MemTable {
  const m = new MemTable();
  let seq = 1;
  for (let i = 0; i < keys; i++) {
    const kind = rng.int(6) === 0 ? ValueKind.Delete : ValueKind.Put;
    m.add(seq++, kind, rng.bytes(1 + rng.int(24)), kind === ValueKind.Delete ? new Uint8Array(0) : rng.bytes(rng.int(60)));
  }
  m.add(seq++, ValueKind.Put, enc('big'), rng.bytes(300_000)); // a chunk of its own
  m.add(seq++, ValueKind.Put, enc('huge'), rng.bytes(BLOCK_BYTES + 10)); // bigger than a block
  m.add(seq++, ValueKind.RangeDelete, enc('a'), enc('c'));
  return m;
}

function buffersOf(m: ReturnType<typeof structuredClone<unknown>>): Set<ArrayBufferLike> {
  const s = m as { arena: { slabs: Uint8Array[]; bigs: Uint8Array[] }; table: { pages: Int32Array[] }; runSet: { runs: { ids: Int32Array }[] } };
  return new Set([...s.arena.slabs, ...s.arena.bigs, ...s.table.pages, ...s.runSet.runs.map((r) => r.ids)].map((a) => a.buffer));
}

describe('copyToPool', () => {
  it('a view of the pooled copy iterates like the memtable; a held copy is never reused; a released one is', async () => {
    await withSeed('memtable hand-off', async (rng) => {
      const pool = new SharedBufferPool(64 * BLOCK_BYTES);
      const a = filled(rng, 20_000 + rng.int(3000));
      const pa = await copyToPool(a.share(), { pool });
      const heldA = new Set(pa.buffers);
      for (const b of buffersOf(pa.mem)) {
        expect(b).toBeInstanceOf(SharedArrayBuffer);
        expect(heldA.has(b as SharedArrayBuffer)).toBe(true);
      }
      const viewA = new MemTable(structuredClone(pa.mem));
      expect(viewA.entries).toBe(a.entries);
      expect(viewA.rangeDeletions).toBe(1);
      expect(drain(viewA.newIterator())).toEqual(drain(a.newIterator()));

      const b = filled(rng, 5000);
      const pb = await copyToPool(b.share(), { pool });
      for (const x of pb.buffers) expect(heldA.has(x)).toBe(false);
      // a's view still reads a's bytes after b's copy.
      expect(drain(viewA.newIterator())).toEqual(drain(a.newIterator()));

      pool.release(pa.buffers);
      const c = filled(rng, 20_000);
      const pc = await copyToPool(c.share(), { pool });
      expect(pc.buffers.some((x) => heldA.has(x))).toBe(true);
      expect(drain(new MemTable(structuredClone(pc.mem)).newIterator())).toEqual(drain(c.newIterator()));
      pool.release(pb.buffers);
      pool.release(pc.buffers);
      expect(pool.lentBytes).toBe(0);
    });
  });

  it('past the cap it rejects with FlushPoolFullError having taken nothing', async () => {
    await withSeed('memtable hand-off cap', async (rng) => {
      const pool = new SharedBufferPool(2 * BLOCK_BYTES);
      const m = filled(rng, 1000);
      await expect(copyToPool(m.share(), { pool })).rejects.toBeInstanceOf(FlushPoolFullError);
      expect(pool.heldBytes).toBe(0);
    });
  });

  it('yields to the event loop whenever a slice has used its time, and the copy is whole after the yields', async () => {
    await withSeed('memtable hand-off slices', async (rng) => {
      const pool = new SharedBufferPool(64 * BLOCK_BYTES);
      const m = filled(rng, 2000);
      const shared = m.share();
      // A clock that moves one slice per look: every piece of every array ends its slice.
      let t = 0;
      let yields = 0;
      let readsBetween = 0;
      const p = await copyToPool(shared, {
        pool, now: () => (t += SLICE_MS),
        // The memtable is frozen, but reads go on between slices: they must find their arrays intact.
        yieldNow: async () => { yields++; readsBetween += drain(m.newIterator()).length > 0 ? 1 : 0; },
      });
      const arrays = [...shared.arena.slabs, ...shared.arena.bigs, ...shared.table.pages,
        ...shared.runSet.runs.flatMap((r) => [r.ids, r.pfx, r.fence])];
      const pieces = arrays.reduce((n, a) => n + Math.ceil(a.byteLength / PIECE_BYTES), 0);
      expect(yields).toBe(pieces);
      expect(readsBetween).toBe(yields);
      expect(drain(new MemTable(structuredClone(p.mem)).newIterator())).toEqual(drain(m.newIterator()));
    });
  });
});
