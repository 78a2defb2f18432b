/**
 * Model checking for InternalIterator implementations that present one sorted sequence (merging,
 * concat): random versioned records, random cursor operations, and a driver that applies the
 * operations to the iterator and to an index into the sorted array, comparing after each step.
 * Used by test/iterator/*.test.ts; generic enough for compaction tests later.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { InternalIterator, MaybePromise } from '../../src/base/internal-iterator.js';
import { compareInternalKeys, makeInternalKey, ValueKind } from '../../src/base/internal-key.js';
import type { Entry } from './array-iterator.js';

/** One write: user key, kind, value; its seq is assigned by position (see toEntries). */
export interface Version {
  userKey: Uint8Array;
  kind: number;
  value: Uint8Array;
}

/** Short keys over a tiny alphabet: many versions per key, prefixes, the empty key, 0xff bytes. */
export const userKeyArb: fc.Arbitrary<Uint8Array> = fc
  .array(fc.constantFrom(0x00, 0x01, 0x61, 0xff), { maxLength: 3 })
  .map((a) => Uint8Array.from(a));

export const versionArb: fc.Arbitrary<Version> = fc.record({
  userKey: userKeyArb,
  kind: fc.constantFrom(ValueKind.Put, ValueKind.Put, ValueKind.Delete),
  value: fc.uint8Array({ maxLength: 6 }),
});

/** Internal-key entries for versions, seq = index + 1 (unique), sorted in internal order. */
export function toEntries(versions: readonly Version[]): Entry[] {
  const out = versions.map((v, i) => ({ key: makeInternalKey(v.userKey, i + 1, v.kind), value: v.value, seq: i + 1 }));
  return sortEntries(out);
}

export function sortEntries<T extends Entry>(entries: T[]): T[] {
  return entries.sort((a, b) => compareInternalKeys(a.key, b.key));
}

/** A seek target in internal-key space: any user key, seq around the data, a real or seek kind. */
export function seekTargetArb(maxSeq: number): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(userKeyArb, fc.integer({ min: 0, max: maxSeq + 1 }), fc.constantFrom(0, 1, 0xff))
    .map(([u, s, k]) => makeInternalKey(u, s, k));
}

export type CursorOp =
  | { op: 'first' }
  | { op: 'last' }
  | { op: 'seek'; target: Uint8Array }
  | { op: 'seekForPrev'; target: Uint8Array }
  /** A seek to an existing key (picked at run time): exact hits matter at table boundaries. */
  | { op: 'seekEntry'; which: number; isForPrev: boolean }
  | { op: 'next' }
  | { op: 'prev' };

/** Mostly steps (so direction switches happen mid-walk), some repositioning. */
export function cursorOpsArb(maxSeq: number): fc.Arbitrary<CursorOp[]> {
  const op: fc.Arbitrary<CursorOp> = fc.oneof(
    { weight: 1, arbitrary: fc.constant({ op: 'first' } as const) },
    { weight: 1, arbitrary: fc.constant({ op: 'last' } as const) },
    { weight: 2, arbitrary: seekTargetArb(maxSeq).map((target) => ({ op: 'seek', target }) as const) },
    { weight: 2, arbitrary: seekTargetArb(maxSeq).map((target) => ({ op: 'seekForPrev', target }) as const) },
    { weight: 2, arbitrary: fc.record({ which: fc.nat(), isForPrev: fc.boolean() }).map((r) => ({ op: 'seekEntry', ...r }) as const) },
    { weight: 6, arbitrary: fc.constant({ op: 'next' } as const) },
    { weight: 5, arbitrary: fc.constant({ op: 'prev' } as const) },
  );
  return fc.array(op, { minLength: 1, maxLength: 40 });
}

/** Awaits a MaybePromise; with expectSync, fails if a Promise came back. */
export async function settle<T>(r: MaybePromise<T>, expectSync = false): Promise<T> {
  if (expectSync) expect(r).not.toBeInstanceOf(Promise);
  return await r;
}

function lowerBound(sorted: readonly Entry[], t: Uint8Array): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareInternalKeys(sorted[mid]!.key, t) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/**
 * Applies ops to `it` and to a position in `sorted`, comparing valid/key/value after each.
 * next/prev on an invalid cursor are skipped (the contract forbids them).
 */
export async function checkCursorOps(
  it: InternalIterator,
  sorted: readonly Entry[],
  ops: readonly CursorOp[],
  expectSync = false,
): Promise<void> {
  let pos = -1;
  const log: string[] = [];
  for (let o of ops) {
    if (o.op === 'seekEntry') {
      if (sorted.length === 0) continue;
      const target = sorted[o.which % sorted.length]!.key;
      o = o.isForPrev ? { op: 'seekForPrev', target } : { op: 'seek', target };
    }
    const isValid = pos >= 0 && pos < sorted.length;
    if ((o.op === 'next' || o.op === 'prev') && !isValid) continue;
    log.push(o.op + ('target' in o ? ' ' + hex(o.target) : ''));
    switch (o.op) {
      case 'first': await settle(it.seekToFirst(), expectSync); pos = 0; break;
      case 'last': await settle(it.seekToLast(), expectSync); pos = sorted.length - 1; break;
      case 'seek': await settle(it.seek(o.target), expectSync); pos = lowerBound(sorted, o.target); break;
      case 'seekForPrev': {
        await settle(it.seekForPrev(o.target), expectSync);
        const lb = lowerBound(sorted, o.target);
        pos = lb < sorted.length && compareInternalKeys(sorted[lb]!.key, o.target) === 0 ? lb : lb - 1;
        break;
      }
      case 'next': await settle(it.next(), expectSync); pos++; break;
      case 'prev': await settle(it.prev(), expectSync); pos--; break;
    }
    const want = pos >= 0 && pos < sorted.length ? sorted[pos]! : undefined;
    const ctx = `after ${log.join(', ')}`;
    expect(it.valid(), ctx).toBe(want !== undefined);
    if (want) {
      expect(hex(it.key()), ctx).toBe(hex(want.key));
      expect(hex(it.value()), ctx).toBe(hex(want.value));
    }
  }
}
