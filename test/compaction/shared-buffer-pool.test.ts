/**
 * The flush pool (compaction/shared-buffer-pool.ts): buffers come back for reuse by size class, a lent
 * buffer is never handed out again before it is released, and a request past the cap takes nothing.
 */
import { describe, expect, it } from 'vitest';
import { BLOCK_BYTES, FlushPoolFullError, SharedBufferPool, sizeClass } from '../../compaction/shared-buffer-pool.js';

describe('SharedBufferPool', () => {
  it('size classes are powers of two from one block', () => {
    expect(sizeClass(1)).toBe(BLOCK_BYTES);
    expect(sizeClass(BLOCK_BYTES)).toBe(BLOCK_BYTES);
    expect(sizeClass(BLOCK_BYTES + 1)).toBe(2 * BLOCK_BYTES);
    expect(sizeClass(5 * BLOCK_BYTES)).toBe(8 * BLOCK_BYTES);
  });

  it('never hands out a lent buffer; reuses released ones of the same class', () => {
    const pool = new SharedBufferPool(8 * BLOCK_BYTES);
    const a = pool.acquire([BLOCK_BYTES, BLOCK_BYTES, 2 * BLOCK_BYTES]);
    const b = pool.acquire([BLOCK_BYTES, 2 * BLOCK_BYTES]);
    expect(new Set([...a, ...b]).size).toBe(5);
    expect(pool.lentBytes).toBe(7 * BLOCK_BYTES);
    pool.release(a);
    const c = pool.acquire([BLOCK_BYTES, 2 * BLOCK_BYTES, BLOCK_BYTES]);
    // Every buffer of c is one of a's (released), none of b's (still lent), and nothing new was allocated.
    for (const x of c) expect(a).toContain(x);
    for (const x of c) expect(b).not.toContain(x);
    expect(pool.heldBytes).toBe(7 * BLOCK_BYTES);
    pool.release(b);
    pool.release(c);
    expect(pool.lentBytes).toBe(0);
  });

  it('past the cap: FlushPoolFullError, and nothing taken', () => {
    const pool = new SharedBufferPool(3 * BLOCK_BYTES);
    const a = pool.acquire([BLOCK_BYTES, BLOCK_BYTES]);
    expect(() => pool.acquire([BLOCK_BYTES, BLOCK_BYTES])).toThrow(FlushPoolFullError);
    expect(pool.lentBytes).toBe(2 * BLOCK_BYTES);
    expect(pool.heldBytes).toBe(2 * BLOCK_BYTES);
    pool.release(a);
    // Free buffers count towards the cap but are reused: two blocks fit again, a 4-block class never.
    expect(pool.acquire([BLOCK_BYTES, BLOCK_BYTES])).toHaveLength(2);
    expect(() => pool.acquire([4 * BLOCK_BYTES])).toThrow(FlushPoolFullError);
  });

  it('a buffer released twice is an internal error', () => {
    const pool = new SharedBufferPool(BLOCK_BYTES);
    const a = pool.acquire([BLOCK_BYTES]);
    pool.release(a);
    expect(() => pool.release(a)).toThrow(/released twice/);
  });
});
