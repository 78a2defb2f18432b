/**
 * KeyLog: the keys a serializable transaction read, in read order (repeats kept), packed: one growable
 * byte arena, a Uint32Array of offsets and a Float64Array of their 52-bit hashes (keyHash52). No JS
 * object per read.
 * Why keys and not only hashes: a hash answers "was this key written since?", but a range delete
 * committed since covers keys by order, so the commit check needs the key bytes too.
 * Memory: key bytes + 12 B per read, doubling as it grows. Main thread or worker.
 */
import { keyHash52 } from './key-set.js';

export class KeyLog {
  private arena = new Uint8Array(256);
  private used = 0;
  private offsets = new Uint32Array(17);
  private hashList = new Float64Array(16);
  private n = 0;

  get count(): number { return this.n; }

  /** Appends a copy of `key`. */
  add(key: Uint8Array): void {
    const n = this.n;
    if (this.used + key.length > this.arena.length) {
      let cap = this.arena.length * 2;
      while (cap < this.used + key.length) cap *= 2;
      const a = new Uint8Array(cap);
      a.set(this.arena.subarray(0, this.used));
      this.arena = a;
    }
    if (n + 1 > this.hashList.length) {
      const h = new Float64Array(this.hashList.length * 2);
      h.set(this.hashList);
      this.hashList = h;
      const o = new Uint32Array(h.length + 1);
      o.set(this.offsets);
      this.offsets = o;
    }
    this.arena.set(key, this.used);
    this.hashList[n] = keyHash52(key);
    this.offsets[n] = this.used;
    this.used += key.length;
    this.offsets[n + 1] = this.used;
    this.n = n + 1;
  }

  /** keyHash52 of read i. */
  hash(i: number): number { return this.hashList[i]!; }

  /** Read i as a view into the log (valid until the next add). */
  key(i: number): Uint8Array { return this.arena.subarray(this.offsets[i]!, this.offsets[i + 1]!); }
}
