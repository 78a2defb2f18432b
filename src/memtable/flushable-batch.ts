/**
 * FlushableBatch: one large committed batch held as it was encoded and served as an immutable
 * memtable (Pebble's flushableBatch). Copying a batch of writeBufferSize / 2 bytes or more into the
 * MemTable costs ~77 B per 16-byte entry (arena record, entry row, hash slot, sorted run); held as
 * its own frozen "memtable" it costs its encoded bytes plus 8 B per op, until it is flushed.
 *
 * Representation: the batch's bytes (WriteBatch wire format, src/wal/FORMAT.md "Operations"; never
 * copied), `offsets` (op i starts at offsets[i]; its seq is firstSeq + i) and `order` (op indices
 * sorted by user key ascending, then seq descending: internal order, since every op has its own
 * seq). Typed arrays only, no JS object per op. A key written twice in a plain batch is two ops.
 * `order` is built on the first read, iterator or flush (keys committed in order are only checked;
 * others are radix-sorted, base/key-sort.ts), so the write that commits the batch does not pay for it.
 * Range deletes: a batch holding one is not made flushable (indexOps answers undefined); the write
 * path inserts it into the MemTable as usual. rangeDeletions is 0, the fragments are empty.
 * Contract: immutable, main thread only (no share(): its flush runs on the main thread); the bytes
 * must not change while it lives (the write queue owns a request's ops and never mutates them).
 * Not here: the iterator (flushable-batch-iterator.ts), when a batch is large (write-path.ts).
 */
import type { InternalIterator } from '../base/internal-iterator.js';
import { getVarint, type VarintResult } from '../base/coding.js';
import { compareByteRanges } from '../base/bytes.js';
import { sortByKeyBytes } from '../base/key-sort.js';
import { ValueKind } from '../base/internal-key.js';
import { invariant } from '../base/invariant.js';
import { walkOpRanges } from '../wal/write-batch.js';
import { FragmentSet } from '../rangedel/fragment-set.js';
import type { Stretches } from '../rangedel/stretches.js';
import type { ReadableMemTable } from './readable-memtable.js';
import { FlushableBatchIterator } from './flushable-batch-iterator.js';

const MISS = -1;
const EMPTY = new Uint8Array(0);
/** Offsets are kept in a Uint32Array. */
const MAX_BATCH_BYTES = 0xffff_ffff;

/**
 * The start offset of each of the `count` ops in ops[0, ops.length), or undefined when the batch
 * cannot be held as a FlushableBatch (it holds a range delete, or is too large for 32-bit offsets).
 * `fail` (which throws) reports a malformed byte.
 */
export function indexOps(ops: Uint8Array, count: number, fail: (offset: number, detail: string) => never): Uint32Array | undefined {
  if (ops.length > MAX_BATCH_BYTES) return undefined;
  const offsets = new Uint32Array(count);
  let i = 0;
  let next = 0;
  let rangeDelete = false;
  walkOpRanges(ops, 0, ops.length, count, (kind, _ks, _ke, _vs, valueEnd) => {
    if (kind === ValueKind.RangeDelete) rangeDelete = true;
    offsets[i++] = next;
    next = valueEnd;
  }, fail);
  return rangeDelete ? undefined : offsets;
}

export class FlushableBatch implements ReadableMemTable {
  readonly rangeDeletions = 0;
  private sorted: Uint32Array | undefined;
  private hitOp = -1;
  /** Scratch for decoding lengths (the bytes were validated by indexOps). */
  private readonly slot: VarintResult = { value: 0, offset: 0 };

  /**
   * @param ops the batch (its ops are at sequences firstSeq, firstSeq + 1, …)
   * @param offsets indexOps(ops, …): one per op, no range delete among them
   */
  constructor(private readonly ops: Uint8Array, private readonly offsets: Uint32Array, readonly firstSeq: number) {
    invariant(offsets.length > 0, 'an empty FlushableBatch');
  }

  get entries(): number { return this.offsets.length; }
  get lastSeq(): number { return this.firstSeq + this.offsets.length - 1; }

  /** The batch's bytes (its whole buffer: a view pins it all), the offsets and the sorted order (made or to be made). */
  approximateMemoryUsage(): number {
    return this.ops.buffer.byteLength + 2 * this.offsets.byteLength;
  }

  rangeDelFragments(): FragmentSet { return FragmentSet.EMPTY; }
  ownStretches(_readSeq: number): Stretches | undefined { return undefined; }

  get(userKey: Uint8Array, snapshotSeq: number): number {
    const order = this.order();
    const n = order.length;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compareKeyTo(order[mid]!, userKey) < 0) lo = mid + 1;
      else hi = mid;
    }
    // Within one key the ops are newest first: the first at or below the snapshot is the answer.
    for (let p = lo; p < n; p++) {
      const op = order[p]!;
      if (this.compareKeyTo(op, userKey) !== 0) break;
      if (this.firstSeq + op <= snapshotSeq) {
        this.hitOp = op;
        return this.ops[this.offsets[op]!]!;
      }
    }
    return MISS;
  }

  lastSeqFound(): number { return this.firstSeq + this.hitOp; }

  lastValue(): Uint8Array {
    invariant(this.hitOp >= 0, 'FlushableBatch.lastValue() without a get() hit');
    return this.valueOf(this.hitOp);
  }

  newIterator(): InternalIterator {
    return new FlushableBatchIterator(this, this.order());
  }

  /** @internal Op indices in internal order (built on first use, see header). */
  order(): Uint32Array {
    return (this.sorted ??= this.sortOps());
  }

  /** @internal The kind byte of op i. */
  kindOf(op: number): number { return this.ops[this.offsets[op]!]!; }

  /** @internal The seq of op i. */
  seqOf(op: number): number { return this.firstSeq + op; }

  /** @internal Where op i's key starts; its length is left in keyLength. */
  keyStartOf(op: number): number {
    const s = this.slot;
    getVarint(this.ops, this.offsets[op]! + 1, this.ops.length, s);
    this.keyLength = s.value;
    return s.offset;
  }

  /** @internal Set by keyStartOf. */
  keyLength = 0;

  /** @internal The batch's bytes (keys are read in place). */
  get bytes(): Uint8Array { return this.ops; }

  /** @internal Op i's value, a view into the batch (empty for a delete). */
  valueOf(op: number): Uint8Array {
    if (this.kindOf(op) !== ValueKind.Put) return EMPTY;
    const ks = this.keyStartOf(op);
    const s = this.slot;
    getVarint(this.ops, ks + this.keyLength, this.ops.length, s);
    return this.ops.subarray(s.offset, s.offset + s.value);
  }

  /** @internal Op i's user key against key[0, end) (end defaults to its length). */
  compareKeyTo(op: number, key: Uint8Array, end = key.length): number {
    const ks = this.keyStartOf(op);
    return compareByteRanges(this.ops, ks, ks + this.keyLength, key, 0, end);
  }

  private compareOps(a: number, b: number): number {
    const ka = this.keyStartOf(a);
    const la = this.keyLength;
    const kb = this.keyStartOf(b);
    const c = compareByteRanges(this.ops, ka, ka + la, this.ops, kb, kb + this.keyLength);
    return c !== 0 ? c : b - a;
  }

  private sortOps(): Uint32Array {
    const n = this.offsets.length;
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    for (let i = 1; i < n; i++) {
      if (this.compareOps(i - 1, i) > 0) {
        // A stable sort of the ops newest first leaves each key's ops in seq-descending order.
        for (let j = 0; j < n; j++) order[j] = n - 1 - j;
        const batch = this;
        sortByKeyBytes(order, {
          bytes: this.ops,
          start(op: number): number { const ks = batch.keyStartOf(op); this.end = ks + batch.keyLength; return ks; },
          end: 0,
        });
        return order;
      }
    }
    return order;
  }
}
