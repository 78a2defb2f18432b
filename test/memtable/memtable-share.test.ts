/**
 * A frozen memtable handed to another thread (MemTable.share(), copied by compaction/memtable-handoff.ts):
 * the read-only view built from a structured clone of share() (what postMessage does) iterates exactly
 * the entries of the memtable it views, its unsorted tail and big records included.
 */
import { describe, expect, it } from 'vitest';
import { ValueKind } from '../../src/base/internal-key.js';
import { MemTable } from '../../src/memtable/memtable.js';
import { withSeed } from '../support/rng.js';
import { drain } from './model.js';

describe('MemTable.share()', () => {
  it('a view of the structured clone iterates like the memtable (runs, unsorted tail, versions, big records)', async () => {
    await withSeed('shared memtable view', (rng) => {
      const m = new MemTable();
      let seq = 1;
      // 20k distinct keys: two full sorted batches and merges, plus an unsorted tail.
      for (let i = 0; i < 20_000 + rng.int(3000); i++) {
        const key = rng.bytes(1 + rng.int(24));
        const versions = 1 + (rng.int(8) === 0 ? rng.int(4) : 0);
        for (let v = 0; v < versions; v++) {
          const kind = rng.int(6) === 0 ? ValueKind.Delete : ValueKind.Put;
          m.add(seq++, kind, key, kind === ValueKind.Delete ? new Uint8Array(0) : rng.bytes(rng.int(40)));
        }
      }
      m.add(seq++, ValueKind.Put, new TextEncoder().encode('big'), rng.bytes(300_000)); // a chunk of its own

      const shared = m.share();
      expect(shared.pending.length).toBeGreaterThan(0);
      const clone = structuredClone(shared);

      const view = new MemTable(clone);
      expect(view.entries).toBe(m.entries);
      expect(view.firstSeq).toBe(m.firstSeq);
      expect(view.lastSeq).toBe(m.lastSeq);
      // The view first: draining the memtable sorts its own tail, which the view must not need.
      const b = drain(view.newIterator());
      const bBack = drain(view.newIterator(), true);
      const a = drain(m.newIterator());
      expect(b.length).toBe(m.entries);
      expect(b).toEqual(a);
      expect(bBack).toEqual([...a].reverse());
    });
  });
});
