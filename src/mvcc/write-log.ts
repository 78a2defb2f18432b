/**
 * WriteLog: a transaction's write buffer as a packed operation log. Every put and delete is appended
 * in the WriteBatch wire format (src/wal/FORMAT.md "Operations") to ONE growing byte buffer, so a
 * transaction that writes each key once commits the log itself as its batch, with no copy. An
 * open-addressing index (one Uint32Array: offset + 1 of the newest op of each key, 0 = empty slot)
 * finds a key's newest op for read-your-own-writes; a probe compares the key bytes in the log, never
 * a string. No JS object per op: a 1,000,000-put transaction is one byte buffer and one index array.
 *
 * Range deletes are few and kept apart, as RangeTombstones (their bytes copied) with a FragmentSet
 * cached for queries; they never enter the log, so a log with none is a valid batch as it is.
 * Order: an op at log offset o has the private sequence base + 2o + 2; a range delete made when the
 * log held L bytes has base + 2L + 1: above every op before it (offsets <= L - 2, an op is at least
 * 2 bytes) and below every op after it, which is the order transaction.ts promises. Two range
 * deletes with no op between them share a sequence (the fragmenter keeps one; they are simultaneous).
 * Growth: the log by 1.5x, copied while under 1 MiB (old buffers are dropped, or kept by iterators
 * made before, whose ops never change: ops are only appended), in place past it (a resizable
 * ArrayBuffer: no copy and no old buffer beside the new one; NB process.memoryUsage().arrayBuffers
 * does not count such a buffer, `bytes` and RSS do); the index doubles past 3/4 load (5-11 B per
 * distinct key).
 * Sorted view: sortedOffsets() gives the newest op of each key in key order (for iterators, see
 * write-log-iterator.ts), built on demand: keys written in order are only checked, others
 * radix-sorted (base/key-sort.ts). After more writes the next one is not sorted from scratch:
 * the ops written since are sorted alone and spliced into the previous view, less the entries they
 * superseded (O(k log n) comparisons and one copy for k new ops; a new array each time, as iterators
 * keep the old one).
 * Contract: the log holds at most 2^32 - 1 bytes (ERR_TOO_LARGE past it, nothing appended); keys and
 * values are copied in; views handed out (view, buffer, keyAt, valueAt) stay valid and unchanged for the life of
 * the buffer they point into. Main thread (a transaction's own structure).
 * Not here: the batch made at commit when the log cannot be used as it is (write-buffer-batch.ts).
 */
import { getVarint, putVarint, type VarintResult } from '../base/coding.js';
import { ValueKind } from '../base/internal-key.js';
import { compareByteRanges, copyBytes } from '../base/bytes.js';
import { murmurHash3x86_32 } from '../base/murmur3.js';
import { sortByKeyBytes, type KeyBounds } from '../base/key-sort.js';
import { TooLargeError } from '../errors.js';
import { encodedOpLength } from '../wal/write-batch.js';
import { FragmentSet } from '../rangedel/fragment-set.js';
import type { RangeTombstone } from '../rangedel/range-tombstone.js';

/** Hash of data[start, end) for the index; injectable so tests can force collisions. */
export type LogKeyHash = (data: Uint8Array, start: number, end: number) => number;

const defaultHash: LogKeyHash = (data, start, end) => murmurHash3x86_32(data, start, end, 0x2545f491);

/** Offsets are stored + 1 in a Uint32Array. */
const MAX_LOG_BYTES = 0xffff_ffff;
/**
 * Past this a log grows in place: a resizable ArrayBuffer reserves address space up to
 * MAX_LOG_BYTES and commits pages only as they are written, so growing copies nothing and leaves no
 * old buffer for the collector (copying growth held the last two buffers at once: ~2.5x the ops at
 * the peak of a large transaction). Below it, a plain buffer: no reservation per small transaction.
 */
const IN_PLACE_FROM = 1 << 20;

type Resizable = ArrayBufferLike & { resizable?: boolean; resize?: (n: number) => void };

/** A length-tracking view of a resizable buffer of `n` bytes, or undefined where none can be made. */
function resizableBytes(n: number): Uint8Array<ArrayBuffer> | undefined {
  try {
    const ab = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(n, { maxByteLength: MAX_LOG_BYTES });
    return (ab as Resizable).resizable === true ? new Uint8Array(ab) : undefined;
  } catch {
    return undefined; // no address space to reserve: copying growth still works
  }
}
const MIN_SLOTS = 16;
/**
 * The log's first buffer: a typical transaction (a few puts of ~100-byte values) fits without growing;
 * a 256-byte start grew four times for ten such puts, 9% of a small transaction's CPU.
 */
const FIRST_LOG_BYTES = 4096;

export class WriteLog {
  private buf = new Uint8Array(FIRST_LOG_BYTES);
  private used = 0;
  private slots = new Uint32Array(MIN_SLOTS);
  private mask = MIN_SLOTS - 1;
  private shift = 32 - Math.log2(MIN_SLOTS);
  private distinct = 0;
  private ops = 0;
  private rewritten = 0;
  private userBytesSum = 0;
  private readonly ranges: RangeTombstone[] = [];
  private rangeBytes = 0;
  private fragments: FragmentSet | undefined;
  private sorted: Uint32Array | undefined;
  /** Log bytes `sorted` covers; ops at or past it are not in it. */
  private sortedAt = 0;
  /** Entries of `sorted` whose key was written again since (undefined: too many, sort from scratch). */
  private superseded: number[] | undefined = [];
  /** Scratch for decoding key lengths (the log is our own, always well formed). */
  private readonly slot: VarintResult = { value: 0, offset: 0 };

  /** @param base the private sequence numbers start above it (see header). */
  constructor(private readonly base: number, private readonly hash: LogKeyHash = defaultHash) {}

  /** Point ops appended (a key written twice counts twice). */
  get opCount(): number { return this.ops; }
  /** Range deletes made. */
  get rangeDeletions(): number { return this.ranges.length; }
  /** Ops and range deletes: zero means nothing to commit. */
  get entries(): number { return this.ops + this.ranges.length; }
  /** Point ops that replaced an earlier op of the same key (then the log is not the batch). */
  get rewrites(): number { return this.rewritten; }
  /** Key and value bytes of the point ops appended. */
  get userBytes(): number { return this.userBytesSum; }
  /** Bytes of encoded ops in the log. */
  get byteLength(): number { return this.used; }
  /** Bytes held: the log's buffer, the index, the cached sorted view and the range deletes. */
  get bytes(): number {
    return this.buf.byteLength + this.slots.byteLength + (this.sorted?.byteLength ?? 0) + this.rangeBytes;
  }
  /** The largest private sequence so far (every op's is at or below it). */
  get maxSeq(): number { return this.base + 2 * this.used + 2; }

  /** The encoded ops, in the order written, as a view (the batch when there are no rewrites or ranges). */
  view(): Uint8Array { return this.buf.subarray(0, this.used); }
  /** The buffer the ops live in now (iterators keep it: its ops never change). */
  get buffer(): Uint8Array { return this.buf; }

  /** Appends a put or a delete (value ignored for a delete). */
  append(kind: number, key: Uint8Array, value: Uint8Array): void {
    const klen = key.length;
    const vlen = kind === ValueKind.Delete ? 0 : value.length;
    const len = encodedOpLength(kind, klen, vlen);
    if (this.used + len > MAX_LOG_BYTES) {
      throw new TooLargeError(`a transaction's writes are limited to ${MAX_LOG_BYTES} encoded bytes`);
    }
    if (this.used + len > this.buf.length) this.grow(this.used + len);
    const buf = this.buf;
    const off = this.used;
    buf[off] = kind;
    let p = putVarint(buf, off + 1, klen);
    const keyStart = p;
    buf.set(key, p);
    p += klen;
    if (kind !== ValueKind.Delete) {
      p = putVarint(buf, p, vlen);
      buf.set(value, p);
      p += vlen;
    }
    this.used = p;
    this.ops++;
    this.userBytesSum += klen + vlen;
    this.index(off, keyStart, keyStart + klen);
  }

  /** Records a range delete [start, end) at this point of the log (REQUIRES start < end). */
  deleteRange(start: Uint8Array, end: Uint8Array): void {
    this.ranges.push({ start: copyBytes(start), end: copyBytes(end), seq: this.base + 2 * this.used + 1 });
    this.rangeBytes += start.length + end.length + 64;
    this.fragments = undefined;
  }

  /** The range deletes as fragments (cached until the next range delete). */
  rangeDelFragments(): FragmentSet {
    return this.fragments ??= FragmentSet.fromTombstones(this.ranges);
  }

  /** The log offset of the newest op of `key`, or -1. */
  find(key: Uint8Array): number {
    return this.findRange(key, 0, key.length);
  }

  /** find() for data[start, end), which may be inside the log itself. */
  findRange(data: Uint8Array, start: number, end: number): number {
    const slots = this.slots, mask = this.mask, buf = this.buf;
    const klen = end - start;
    for (let s = this.home(data, start, end); ; s = (s + 1) & mask) {
      const x = slots[s]!;
      if (x === 0) return -1;
      const ks = this.keyStartAt(x - 1);
      if (this.slot.value === klen && compareByteRanges(buf, ks, ks + klen, data, start, end) === 0) return x - 1;
    }
  }

  /** The kind of the op at `off` (ValueKind.Put or Delete). */
  kindAt(off: number): number { return this.buf[off]!; }
  /** The private sequence of the op at `off`. */
  seqAt(off: number): number { return this.base + 2 * off + 2; }

  /** Where the key of the op at `off` starts; its length is left in this.slot.value. */
  private keyStartAt(off: number): number {
    getVarint(this.buf, off + 1, this.used, this.slot);
    return this.slot.offset;
  }

  /** The key of the op at `off` as [start, end) of `buffer`, written into `out` (no view made). */
  keyBoundsAt(off: number, out: { start: number; end: number }): void {
    const ks = this.keyStartAt(off);
    out.start = ks;
    out.end = ks + this.slot.value;
  }

  /** The key of the op at `off`, as a view. */
  keyAt(off: number): Uint8Array {
    const ks = this.keyStartAt(off);
    return this.buf.subarray(ks, ks + this.slot.value);
  }

  /** The value of the put at `off`, as a view (empty for a delete). */
  valueAt(off: number): Uint8Array {
    return valueOf(this.buf, off, this.used, this.slot);
  }

  /** Offsets of the newest op of each key, in key order (cached until the next write; do not change it). */
  sortedOffsets(): Uint32Array {
    const old = this.sorted;
    if (old && this.sortedAt === this.used) return old;
    const out = old && this.superseded ? this.mergeNewer(old, this.superseded) : this.sortAll();
    this.sorted = out;
    this.sortedAt = this.used;
    this.superseded = [];
    return out;
  }

  /** Every key's newest op, sorted from scratch. */
  private sortAll(): Uint32Array {
    const out = new Uint32Array(this.distinct);
    let n = 0;
    const slots = this.slots;
    for (let s = 0; s < slots.length; s++) if (slots[s] !== 0) out[n++] = slots[s]! - 1;
    // Log order first (a native numeric sort): a transaction that wrote its keys in order needs no more.
    out.sort();
    const cmp = this.comparator();
    for (let i = 1; i < n; i++) {
      if (cmp(out[i - 1]!, out[i]!) > 0) { sortByKeyBytes(out, this.keyBounds()); return out; }
    }
    return out;
  }

  /** Key bounds of ops by offset, for sortByKeyBytes. */
  private keyBounds(): KeyBounds {
    const log = this;
    return {
      bytes: this.buf,
      start(off: number): number { const ks = log.keyStartAt(off); this.end = ks + log.slot.value; return ks; },
      end: 0,
    };
  }

  /** `old` (the view at sortedAt) less `gone`, merged with the newest ops written since. */
  private mergeNewer(old: Uint32Array, gone: readonly number[]): Uint32Array {
    const newest: number[] = [];
    const at = { start: 0, end: 0 };
    for (let off = this.sortedAt; off < this.used;) {
      const end = this.opEnd(off, at);
      if (this.findRange(this.buf, at.start, at.end) === off) newest.push(off);
      off = end;
    }
    const cmp = this.comparator();
    const fresh = Uint32Array.from(newest);
    sortByKeyBytes(fresh, this.keyBounds());
    // Where each superseded entry is, and where each new op goes, by binary search (keys in `old` are
    // unique, and a new op's key is in `old` only as a superseded entry); then runs are copied.
    const lowerBound = (off: number): number => {
      let lo = 0, hi = old.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cmp(old[mid]!, off) < 0) lo = mid + 1; else hi = mid;
      }
      return lo;
    };
    const goneAt = gone.map(lowerBound).sort((x, y) => x - y);
    const insertAt = fresh.map(lowerBound);
    const out = new Uint32Array(this.distinct);
    let i = 0, g = 0, j = 0, n = 0;
    for (;;) {
      const stop = Math.min(j < fresh.length ? insertAt[j]! : old.length, g < goneAt.length ? goneAt[g]! : old.length);
      out.set(old.subarray(i, stop), n);
      n += stop - i;
      i = stop;
      if (j < fresh.length && insertAt[j] === i) out[n++] = fresh[j++]!;
      else if (g < goneAt.length && goneAt[g] === i) { i++; g++; }
      else break; // i === old.length, nothing left to insert
    }
    return out;
  }

  /** Compares the keys of the ops at two offsets. */
  private comparator(): (x: number, y: number) => number {
    const buf = this.buf, used = this.used, a: VarintResult = { value: 0, offset: 0 }, b: VarintResult = { value: 0, offset: 0 };
    return (x, y) => {
      getVarint(buf, x + 1, used, a);
      getVarint(buf, y + 1, used, b);
      return compareByteRanges(buf, a.offset, a.offset + a.value, buf, b.offset, b.offset + b.value);
    };
  }

  /** Where the op at `off` ends; its key's bounds go to `key`. */
  private opEnd(off: number, key: { start: number; end: number }): number {
    this.keyBoundsAt(off, key);
    if (this.buf[off] === ValueKind.Delete) return key.end;
    getVarint(this.buf, key.end, this.used, this.slot);
    return this.slot.offset + this.slot.value;
  }

  private home(data: Uint8Array, start: number, end: number): number {
    // Fibonacci hashing (the product's high bits): an injected weak hash (tests) still spreads.
    return Math.imul(this.hash(data, start, end) | 0, 0x9e3779b1) >>> this.shift;
  }

  /** Points the key's slot at the op just appended at `off` (its key is buf[ks, ke)). */
  private index(off: number, ks: number, ke: number): void {
    // the op itself is not indexed yet: a hit is an earlier op of the same key
    const found = this.findRange(this.buf, ks, ke);
    if (found >= 0) {
      this.slots[this.slotOf(found, ks, ke)] = off + 1;
      if (found < this.sortedAt && this.superseded) {
        // a slot in the sorted view went stale; past 1/4 of it a fresh sort is as cheap as a filter
        if (4 * this.superseded.length >= this.sorted!.length) this.superseded = undefined;
        else this.superseded.push(found);
      }
      this.rewritten++;
      return;
    }
    if (4 * (this.distinct + 1) > 3 * this.slots.length) this.resize(this.slots.length * 2);
    const slots = this.slots, mask = this.mask;
    let s = this.home(this.buf, ks, ke);
    while (slots[s] !== 0) s = (s + 1) & mask;
    slots[s] = off + 1;
    this.distinct++;
  }

  private slotOf(off: number, ks: number, ke: number): number {
    const slots = this.slots, mask = this.mask;
    let s = this.home(this.buf, ks, ke);
    while (slots[s] !== off + 1) s = (s + 1) & mask;
    return s;
  }

  private resize(capacity: number): void {
    const old = this.slots;
    this.slots = new Uint32Array(capacity);
    this.mask = capacity - 1;
    this.shift = 32 - Math.log2(capacity);
    const slots = this.slots, mask = this.mask;
    for (let i = 0; i < old.length; i++) {
      const x = old[i]!;
      if (x === 0) continue;
      const ks = this.keyStartAt(x - 1);
      let s = this.home(this.buf, ks, ks + this.slot.value);
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = x;
    }
  }

  private grow(need: number): void {
    let cap = Math.max(FIRST_LOG_BYTES, Math.floor(this.buf.length * 1.5));
    if (cap < need) cap = need;
    if (cap > MAX_LOG_BYTES) cap = MAX_LOG_BYTES;
    const ab = this.buf.buffer as Resizable;
    if (ab.resizable === true) {
      ab.resize!(cap); // `buf` tracks the buffer's length
      return;
    }
    const next = cap >= IN_PLACE_FROM ? resizableBytes(cap) ?? new Uint8Array(cap) : new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.used));
    this.buf = next;
  }
}

/** The value of the op at `off` in `buf` (empty for a delete), as a view. */
export function valueOf(buf: Uint8Array, off: number, limit: number, slot: VarintResult): Uint8Array {
  if (buf[off] === ValueKind.Delete) return EMPTY;
  getVarint(buf, off + 1, limit, slot);
  getVarint(buf, slot.offset + slot.value, limit, slot);
  return buf.subarray(slot.offset, slot.offset + slot.value);
}

const EMPTY = new Uint8Array(0);
