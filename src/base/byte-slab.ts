import { copyBytes } from './bytes.js';
/**
 * Hands out small immutable byte copies carved from a shared 64 KiB slab, so a put's encoded
 * operation costs a view object instead of its own ArrayBuffer. A typed array over 64 bytes gets an
 * off-heap backing store in V8: a malloc, an external-memory entry the young-generation GC must
 * sweep, and a free; at tens of thousands of puts a second that was the main thread's largest
 * allocation cost and lengthened every scavenge. A slab lives while any copy in it is referenced,
 * so a copy must be short-lived or small (a write request, gone once its group is applied).
 * Large copies get their own array: they would pin the slab and gain nothing.
 * Regions are never reused, so a copy is never overwritten while someone holds it.
 */

const SLAB_BYTES = 64 * 1024;
/** Larger copies get their own array (a quarter slab: at most a quarter is wasted at a slab's end). */
const MAX_SLAB_COPY = SLAB_BYTES / 4;

export class ByteSlab {
  private slab = new Uint8Array(SLAB_BYTES);
  private used = 0;

  /** A copy of `src` the caller may keep and must not write to. */
  copy(src: Uint8Array): Uint8Array {
    const n = src.length;
    if (n > MAX_SLAB_COPY) return copyBytes(src);
    if (this.used + n > SLAB_BYTES) {
      this.slab = new Uint8Array(SLAB_BYTES);
      this.used = 0;
    }
    const start = this.used;
    // 8-byte aligned starts keep any later wide reads over the copy aligned as an own array's would.
    this.used = (start + n + 7) & ~7;
    const out = this.slab.subarray(start, start + n);
    out.set(src);
    return out;
  }
}
