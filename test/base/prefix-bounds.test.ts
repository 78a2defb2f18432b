/** prefixSuccessor / intersectPrefix / sharedPrefixOf: the byte rules behind iterator({ prefix }). */
import { describe, expect, it } from 'vitest';
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

  it('the shared prefix is the given one, else the common prefix of a lower and an upper bound', () => {
    expect(commonPrefix(b(1, 2, 3), b(1, 2, 4))).toEqual(b(1, 2));
    expect(sharedPrefixOf({ gte: b(1, 2, 3), lt: b(1, 2, 9) }, undefined)).toEqual(b(1, 2));
    expect(sharedPrefixOf({ gt: b(1, 2), lte: b(1, 2, 9) }, undefined)).toEqual(b(1, 2));
    expect(sharedPrefixOf({ gte: b(1, 2) }, undefined)).toEqual(b());
    expect(sharedPrefixOf({}, b(3))).toEqual(b(3));
  });
});
