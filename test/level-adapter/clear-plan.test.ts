/**
 * planClear: abstract-level bounds to the [start, end) of one range tombstone, at the edges (no bounds,
 * inverted and empty ranges, bounds that are prefixes of each other, 0xff bytes, keys as long as
 * maxKeySize). The adapter's behaviour on a database is test/level-adapter/clear.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { needsLargest, planClear, type ClearBounds, type ClearPlan } from '../../src/level-adapter/clear-plan.js';

const b = (...xs: number[]): Uint8Array => Uint8Array.from(xs);
const hex = (x: Uint8Array): string => Buffer.from(x).toString('hex') || '""';

function show(p: ClearPlan): string {
  if (p.kind !== 'range') return p.kind;
  return `[${hex(p.start)}, ${hex(p.end)})${p.last ? ` + ${hex(p.last)}` : ''}`;
}

const plan = (bounds: ClearBounds, largest?: Uint8Array, max = 8): string => show(planClear(bounds, max, largest));

describe('planClear', () => {
  it('translates each bound to the half-open form', () => {
    expect(plan({ gte: b(0x61), lt: b(0x63) })).toBe('[61, 63)');
    expect(plan({ gt: b(0x61), lt: b(0x63) })).toBe('[6100, 63)');
    expect(plan({ gte: b(0x61), lte: b(0x63) })).toBe('[61, 6300)');
    expect(plan({ gt: b(0x61), lte: b(0x63) })).toBe('[6100, 6300)');
    // abstract-level's precedence: gte over gt, lte over lt
    expect(plan({ gt: b(0x61), gte: b(0x62), lt: b(0x70), lte: b(0x71) })).toBe('[62, 7100)');
  });

  it('with no lower bound starts at the empty key; with no upper bound ends past the largest key', () => {
    expect(plan({ lt: b(0x63) })).toBe('["", 63)');
    expect(needsLargest({ gte: b(0x61) })).toBe(true);
    expect(needsLargest({ lt: b(0x61) })).toBe(false);
    expect(plan({}, b(0xff, 0xff))).toBe('["", ffff00)');
    expect(plan({ gte: b(0x61) }, b(0x7a))).toBe('[61, 7a00)');
    expect(plan({ gt: b(0x7a) }, b(0x7a, 0x00))).toBe('[7a00, 7a0000)');
  });

  it('finds nothing to do in empty and inverted ranges, and with no key present', () => {
    expect(plan({})).toBe('none');
    expect(plan({ gte: b(0x61) })).toBe('none');
    expect(plan({ gt: b(0x61), lte: b(0x61) })).toBe('none');
    expect(plan({ gte: b(0x61), lt: b(0x61) })).toBe('none');
    expect(plan({ gt: b(0x61), lt: b(0x61, 0x00) })).toBe('none');
    expect(plan({ gte: b(0x62), lte: b(0x61) })).toBe('none');
    expect(plan({ gt: b(0x61), lt: b(0x61) })).toBe('none');
  });

  it('keeps a one-key range when a bound equals the key', () => {
    expect(plan({ gte: b(0x61), lte: b(0x61) })).toBe('[61, 6100)');
    expect(plan({ gte: b(0x61) }, b(0x61))).toBe('[61, 6100)');
    // prefixes: gt "a" excludes "a" and keeps "a\0" and "ab"
    expect(plan({ gt: b(0x61), lte: b(0x61, 0x62) })).toBe('[6100, 616200)');
  });

  it('never writes a key longer than maxKeySize: a point delete for the last key, key by key for a gt bound', () => {
    expect(plan({ gte: b(0x61) }, b(0x62, 0x62), 2)).toBe('[61, 6262) + 6262');
    expect(plan({ lte: b(0xff, 0xff) }, undefined, 2)).toBe('["", ffff) + ffff');
    expect(plan({ gte: b(0xff, 0xff), lte: b(0xff, 0xff) }, undefined, 2)).toBe('[ffff, ffff) + ffff');
    expect(plan({ gt: b(0x61, 0x61), lt: b(0x62) }, undefined, 2)).toBe('keys');
    expect(plan({ gt: b(0x61), lt: b(0x62) }, undefined, 2)).toBe('[6100, 62)');
  });
});
