import { describe, expect, it } from 'vitest';
import { Arena, BIG_RECORD, SLAB_SIZE } from '../../src/memtable/arena.js';

describe('Arena', () => {
  it('bump-allocates in slabs that grow from 4 KiB to 1 MiB and never overlap', () => {
    const a = new Arena();
    expect(a.bytesHeld).toBe(0);
    const spans: [Uint8Array, number, number][] = [];
    for (let i = 0; i < 3000; i++) {
      const size = (i * 37) % 1000;
      const addr = a.alloc(size);
      expect(addr).toBeGreaterThanOrEqual(0);
      const chunk = a.chunk(addr);
      const off = a.offset(addr);
      expect(off + size).toBeLessThanOrEqual(chunk.length);
      chunk.fill(i & 0xff, off, off + size);
      spans.push([chunk, off, size]);
    }
    // Every record still holds what was written into it: no two records share bytes.
    let wrong = 0;
    spans.forEach(([chunk, off, size], i) => {
      for (let j = off; j < off + size; j++) if (chunk[j] !== (i & 0xff)) wrong++;
    });
    expect(wrong).toBe(0);
    expect(a.bytesHeld).toBeGreaterThanOrEqual(spans.reduce((n, [, , s]) => n + s, 0));
    expect(a.chunk(0).length).toBe(4096);
    expect(a.bytesHeld).toBeLessThan(4 * SLAB_SIZE);
  });

  it('gives a big record a chunk of exactly its size', () => {
    const a = new Arena();
    a.alloc(10);
    const held = a.bytesHeld;
    const addr = a.alloc(BIG_RECORD * 100);
    expect(addr).toBeLessThan(0);
    expect(a.offset(addr)).toBe(0);
    expect(a.chunk(addr).length).toBe(BIG_RECORD * 100);
    expect(a.bytesHeld - held).toBe(BIG_RECORD * 100);
    // Small records keep using the current slab.
    const small = a.alloc(10);
    expect(small).toBeGreaterThanOrEqual(0);
    expect(a.bytesHeld - held).toBe(BIG_RECORD * 100);
  });
});
