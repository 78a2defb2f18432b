/**
 * SeqHashTable: 52-bit key hash -> sequence number, for the conflict tracker's point checks (issue #5).
 * A Map<number, number> keyed by 52-bit hashes boxes every key as a HeapNumber and costs ~80 bytes
 * per entry; this table is two Float64Arrays, 16 bytes per slot.
 *
 * Layout: open addressing with linear probing. keys[s] holds hash + 1 (so 0 means empty: a hash may be
 * 0), seqs[s] the sequence. The home slot is a multiplicative (Fibonacci) hash of the hash's two
 * 32-bit halves, so structured inputs (tests, small integers) spread too.
 * Deletion is by backward shift (no tombstones): the entries after the hole that may move into it
 * do, so a probe still stops at the first empty slot and a long-lived table never silts up.
 * Size: grows (doubles) past 1/2 load; shrinks (halves) below 1/8, so a trimmed tracker gives the
 * memory back; the hysteresis keeps a table hovering at a boundary from rebuilding every call.
 * Contract: hashes are integers in [0, 2^52]; sequences any double. Main thread or worker.
 */

const MIN_CAPACITY = 16;
const GOLDEN = 0x9e3779b1;

export class SeqHashTable {
  private keys: Float64Array;
  private seqs: Float64Array;
  private mask: number;
  private shift: number;
  private n = 0;

  /** @param floor the table never shrinks below this many slots (a table that fills and drains all the time). */
  constructor(capacity = MIN_CAPACITY, private readonly floor = MIN_CAPACITY) {
    let cap = MIN_CAPACITY;
    while (cap < capacity) cap *= 2;
    this.keys = new Float64Array(cap);
    this.seqs = new Float64Array(cap);
    this.mask = cap - 1;
    this.shift = 32 - Math.log2(cap);
  }

  /** Entries held. */
  get size(): number { return this.n; }
  /** Slots (a power of two, at least 16). */
  get capacity(): number { return this.keys.length; }
  /** Bytes the table holds. */
  get bytes(): number { return this.keys.byteLength + this.seqs.byteLength; }

  private home(hash: number): number {
    // the low 32 bits (ToUint32 is exact modulo 2^32 for integers up to 2^53) mixed with the high ones
    const lo = hash >>> 0;
    const hi = (hash / 0x1_0000_0000) >>> 0;
    return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), GOLDEN) >>> this.shift;
  }

  private find(hash: number): number {
    const k = hash + 1;
    const keys = this.keys, mask = this.mask;
    for (let s = this.home(hash); ; s = (s + 1) & mask) {
      const x = keys[s]!;
      if (x === k) return s;
      if (x === 0) return -1;
    }
  }

  /** The sequence stored for `hash`, or undefined. */
  get(hash: number): number | undefined {
    const s = this.find(hash);
    return s < 0 ? undefined : this.seqs[s];
  }

  has(hash: number): boolean { return this.find(hash) >= 0; }

  /** Stores hash -> seq, replacing any previous sequence. */
  set(hash: number, seq: number): void {
    if (2 * (this.n + 1) > this.keys.length) this.resize(this.keys.length * 2);
    const k = hash + 1;
    const keys = this.keys, mask = this.mask;
    let s = this.home(hash);
    for (; ; s = (s + 1) & mask) {
      const x = keys[s]!;
      if (x === k) { this.seqs[s] = seq; return; }
      if (x === 0) break;
    }
    keys[s] = k;
    this.seqs[s] = seq;
    this.n++;
  }

  /** Removes `hash`; returns whether it was there. */
  delete(hash: number): boolean {
    const s = this.find(hash);
    if (s < 0) return false;
    this.removeAt(s);
    return true;
  }

  /** Removes `hash` only if its sequence is `seq` (a newer write of the same hash stays). */
  deleteIf(hash: number, seq: number): boolean {
    const s = this.find(hash);
    if (s < 0 || this.seqs[s] !== seq) return false;
    this.removeAt(s);
    return true;
  }

  /** Calls fn for every entry (any order; for tests and rebuilding). */
  forEach(fn: (hash: number, seq: number) => void): void {
    const keys = this.keys;
    for (let s = 0; s < keys.length; s++) if (keys[s] !== 0) fn(keys[s]! - 1, this.seqs[s]!);
  }

  private removeAt(hole: number): void {
    const keys = this.keys, seqs = this.seqs, mask = this.mask;
    // Backward shift: walk the run after the hole; an entry whose home is not cyclically inside
    // (hole, j] can move back into the hole (its probe from home to j passes through the hole).
    for (let j = (hole + 1) & mask; keys[j] !== 0; j = (j + 1) & mask) {
      const home = this.home(keys[j]! - 1);
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        keys[hole] = keys[j]!;
        seqs[hole] = seqs[j]!;
        hole = j;
      }
    }
    keys[hole] = 0;
    seqs[hole] = 0;
    this.n--;
    if (8 * this.n < keys.length && keys.length > MIN_CAPACITY && keys.length > this.floor) this.resize(keys.length / 2);
  }

  private resize(capacity: number): void {
    const oldKeys = this.keys, oldSeqs = this.seqs;
    this.keys = new Float64Array(capacity);
    this.seqs = new Float64Array(capacity);
    this.mask = capacity - 1;
    this.shift = 32 - Math.log2(capacity);
    const keys = this.keys, mask = this.mask;
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i]!;
      if (k === 0) continue;
      let s = this.home(k - 1);
      while (keys[s] !== 0) s = (s + 1) & mask;
      keys[s] = k;
      this.seqs[s] = oldSeqs[i]!;
    }
  }
}
