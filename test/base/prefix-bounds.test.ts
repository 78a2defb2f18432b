/** prefixSuccessor / intersectPrefix / sharedPrefixOf: the byte rules behind iterator({ prefix }). */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { compareBytes } from '../../src/base/bytes.js';
import { withSeed } from '../support/rng.js';
import { commonPrefix, intersectPrefix, prefixSuccessor, sharedPrefixOf } from '../../src/base/prefix-bounds.js';

const b = (...x: number[]): Uint8Array => Uint8Array.from(x);

describe('prefix bounds', () => {
  it('the successor increments the last byte below 0xff and drops the rest', () => {
    expect(prefixSuccessor(b(1, 2, 3))).toEqual(b(1, 2, 4));
    expect(prefixSuccessor(b(1, 0xff, 0xff))).toEqual(b(2));
    expect(prefixSuccessor(b(0xfe, 0xff))).toEqual(b(0xff));
    expect(prefixSuccessor(b(0xff, 0xff))).toBeUndefined();
    expect(prefixSuccessor(b())).toBeUndefined();
    const p = b(7);
    prefixSuccessor(p);
    expect(p).toEqual(b(7)); // the argument is not changed
  });

  it('intersects with the tighter of each bound', () => {
    expect(intersectPrefix({}, b(5))).toEqual({ gte: b(5), lt: b(6) });
    expect(intersectPrefix({ gte: b(5, 1), lt: b(5, 9) }, b(5))).toEqual({ gte: b(5, 1), lt: b(5, 9) });
    expect(intersectPrefix({ gte: b(4), lt: b(7) }, b(5))).toEqual({ gte: b(5), lt: b(6) });
    expect(intersectPrefix({ gt: b(5, 3), lte: b(5, 4) }, b(5))).toEqual({ gt: b(5, 3), gte: b(5), lte: b(5, 4), lt: b(6) });
    expect(intersectPrefix({ lt: b(9) }, b(0xff))).toEqual({ gte: b(0xff), lt: b(9) });
  });

  it('the shared prefix is the given one, else the longest that a lower and an upper bound enclose', () => {
    expect(commonPrefix(b(1, 2, 3), b(1, 2, 4))).toEqual(b(1, 2));
    expect(sharedPrefixOf({ gte: b(1, 2, 3), lt: b(1, 2, 9) }, undefined)).toEqual(b(1, 2));
    expect(sharedPrefixOf({ gt: b(1, 2), lte: b(1, 2, 9) }, undefined)).toEqual(b(1, 2));
    expect(sharedPrefixOf({ gte: b(1, 2) }, undefined)).toEqual(b());
    expect(sharedPrefixOf({}, b(3))).toEqual(b(3));
    const utf8 = (x: string): Uint8Array => new TextEncoder().encode(x);
    expect(sharedPrefixOf({ gte: utf8('user:'), lt: utf8('user;') }, undefined)).toEqual(utf8('user:'));
    expect(sharedPrefixOf({ gte: utf8('user:'), lte: utf8('user;') }, undefined)).toEqual(utf8('user')); // 'user;' itself is inside
    expect(sharedPrefixOf({ gte: b(5, 0xff, 0xff, 1), lt: b(6) }, undefined)).toEqual(b(5, 0xff, 0xff));
    expect(sharedPrefixOf({ gt: b(5, 1), lt: b(6, 0) }, undefined)).toEqual(b());
    expect(sharedPrefixOf({ gt: b(1, 2, 3), gte: b(1, 2), lt: b(1, 3), lte: b(1, 2, 9) }, undefined)).toEqual(b(1, 2));
  });

  it('every key between random bounds starts with their shared prefix', async () => {
    await withSeed('shared-prefix', (rng) => {
      const alphabet = [0, 1, 2, 0xfe, 0xff];
      const key = (): Uint8Array => Uint8Array.from({ length: rng.int(4) }, () => rng.pick(alphabet));
      const all: Uint8Array[] = [];
      const walk = (p: number[]): void => { all.push(Uint8Array.from(p)); if (p.length < 4) for (const x of alphabet) walk([...p, x]); };
      walk([]);
      for (let i = 0; i < 300; i++) {
        const lo = key();
        const hi = key();
        const inclusive = rng.int(2) === 1;
        const inside = all.filter((k) => compareBytes(k, lo) >= 0 && (inclusive ? compareBytes(k, hi) <= 0 : compareBytes(k, hi) < 0));
        const p = sharedPrefixOf(inclusive ? { gte: lo, lte: hi } : { gte: lo, lt: hi }, undefined);
        for (const k of inside) expect(compareBytes(k.subarray(0, p.length), p), `${k} in [${lo}, ${hi}${inclusive ? ']' : ')'} vs ${p}`).toBe(0);
      }
    });
  });
});

describe('prefixSuccessor leaves its argument alone', () => {
  it('a Buffer (whose slice() is a view) is copied, not incremented in place', () => {
    const p = Buffer.from([0x6c, 0x31]);
    const s = prefixSuccessor(p.subarray(0, 1));
    expect(s).toEqual(b(0x6d));
    expect([...p]).toEqual([0x6c, 0x31]);
  });
});
