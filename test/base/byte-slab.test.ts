/**
 * ByteSlab (src/base/byte-slab.ts): copies carved from shared slabs stay equal to their sources after
 * the sources and later copies change, small ones share a slab, large ones get their own array.
 */
import { describe, expect, it } from 'vitest';
import { ByteSlab } from '../../src/base/byte-slab.js';
import { withSeed } from '../support/rng.js';

describe('ByteSlab', () => {
  it('keeps every copy intact while the source is reused and many slabs fill', async () => {
    await withSeed('byte-slab', (rng) => {
      const slab = new ByteSlab();
      const src = new Uint8Array(40_000);
      const kept: { copy: Uint8Array; want: Uint8Array }[] = [];
      for (let i = 0; i < 5000; i++) {
        // Mostly put-sized copies, sometimes one over the slab limit, sometimes empty.
        const n = rng.int(20) === 0 ? rng.int(40_000) : rng.int(300);
        const bytes = rng.bytes(n);
        src.set(bytes);
        const copy = slab.copy(src.subarray(0, n));
        kept.push({ copy, want: bytes });
        src.fill(0xee, 0, n); // the caller reuses its buffer at once
      }
      for (const { copy, want } of kept) expect(copy).toEqual(want);
    });
  });

  it('carves small copies from one buffer, 8-byte aligned, and gives a large one its own', () => {
    const slab = new ByteSlab();
    const a = slab.copy(new Uint8Array(130).fill(1));
    const b = slab.copy(new Uint8Array(3).fill(2));
    const c = slab.copy(new Uint8Array(130).fill(3));
    expect(a.buffer).toBe(b.buffer);
    expect(b.buffer).toBe(c.buffer);
    expect([a.byteOffset % 8, b.byteOffset % 8, c.byteOffset % 8]).toEqual([0, 0, 0]);
    expect(b.byteOffset).toBeGreaterThanOrEqual(a.byteOffset + 130);
    expect(c.byteOffset).toBeGreaterThanOrEqual(b.byteOffset + 3);
    const big = slab.copy(new Uint8Array(32 * 1024).fill(4));
    expect(big.buffer).not.toBe(a.buffer);
    expect(big.byteOffset).toBe(0);
    expect(big.buffer.byteLength).toBe(32 * 1024);
  });
});
