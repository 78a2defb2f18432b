/**
 * The reference the memtable is checked against: a plain sorted array of entries in internal-key
 * order (compareInternalKeys), with a binary-search insert. Slow and obviously right.
 * Also: key generators shaped to hit the memtable's edges (empty keys, keys that are prefixes of
 * each other, long shared prefixes, a common prefix that later shrinks).
 */
import fc from 'fast-check';
import { equalBytes } from '../../src/base/bytes.js';
import { compareInternalKeys, KIND_FOR_SEEK, makeInternalKey, ValueKind } from '../../src/base/internal-key.js';
import type { InternalIterator } from '../../src/base/internal-iterator.js';

export interface ModelEntry {
  readonly ikey: Uint8Array;
  readonly key: Uint8Array;
  readonly seq: number;
  readonly kind: number;
  readonly value: Uint8Array;
}

export class SortedModel {
  private list: ModelEntry[] = [];
  private dirty = false;

  /** All entries in internal-key order (sorted lazily after adds). */
  get entries(): readonly ModelEntry[] {
    if (this.dirty) {
      this.list.sort((a, b) => compareInternalKeys(a.ikey, b.ikey));
      this.dirty = false;
    }
    return this.list;
  }

  add(seq: number, kind: number, key: Uint8Array, value: Uint8Array): void {
    // Uint8Array.from, not slice(): on a Buffer, slice() is a view of the caller's memory.
    this.list.push({ ikey: makeInternalKey(key, seq, kind), key: Uint8Array.from(key), seq, kind, value: Uint8Array.from(value) });
    this.dirty = true;
  }

  /** Index of the first entry with ikey >= target. */
  lowerBound(target: Uint8Array): number {
    const entries = this.entries;
    let lo = 0, hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareInternalKeys(entries[mid]!.ikey, target) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the last entry with ikey <= target (-1 when none). */
  floorIndex(target: Uint8Array): number {
    const entries = this.entries;
    let lo = 0, hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareInternalKeys(entries[mid]!.ikey, target) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** The newest version of key with seq <= snap. */
  get(key: Uint8Array, snap: number): ModelEntry | undefined {
    const e = this.entries[this.lowerBound(makeInternalKey(key, snap, KIND_FOR_SEEK))];
    return e !== undefined && equalBytes(e.key, key) ? e : undefined;
  }
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Drains an iterator from seekToFirst (or seekToLast backwards) as hex internal key + value. */
export function drain(it: InternalIterator, backwards = false): string[] {
  const out: string[] = [];
  if (backwards) for (it.seekToLast(); it.valid(); it.prev()) out.push(`${hex(it.key())}=${hex(it.value())}`);
  else for (it.seekToFirst(); it.valid(); it.next()) out.push(`${hex(it.key())}=${hex(it.value())}`);
  return out;
}

export function modelDump(m: SortedModel, backwards = false): string[] {
  const out = m.entries.map((e) => `${hex(e.ikey)}=${hex(e.value)}`);
  return backwards ? out.reverse() : out;
}

/**
 * User keys over a tiny alphabet, so that keys collide, nest as prefixes and share long runs:
 * an optional shared stem, then 0..5 bytes from {0x00, 0x01, 0x61, 0xff}.
 */
export const keyArb: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    fc.constantFrom('', 'user:', 'user:0000', 'user:00001111'),
    fc.array(fc.constantFrom(0x00, 0x01, 0x61, 0xff), { maxLength: 5 }),
  )
  .map(([stem, tail]) => Uint8Array.from([...Buffer.from(stem), ...tail]));

export const valueArb: fc.Arbitrary<Uint8Array> = fc.uint8Array({ maxLength: 12 });

// 0x07 stands for a kind the memtable stores as is; RangeDelete is not an entry kind (range tombstones are kept apart).
export const kindArb: fc.Arbitrary<number> = fc.constantFrom(ValueKind.Put, ValueKind.Put, ValueKind.Delete, 0x07);
