/**
 * Decodes one block (sorted entries with shared-prefix keys and a restart array) and iterates it
 * in both directions, synchronously. Format: sstable/FORMAT.md "Block"; built by block-builder.ts.
 * Contract: the block bytes are untrusted. Block's constructor checks the restart array; the iterator
 * checks every varint and length as it decodes and throws CorruptionError(file, block offset) naming
 * the entry's offset inside the block; never a RangeError, and every step moves forward or back by at
 * least one entry, so no input makes it loop. Block data is immutable once decoded (it may sit in the
 * block cache and be shared by many iterators); value() returns views into it.
 * Not here: checksums and decompression (block-fetch.ts), cross-block iteration (two-level-iterator.ts).
 */
import { getFixed32, getVarint, type VarintResult } from '../src/base/coding.js';
import type { InternalIterator } from '../src/base/internal-iterator.js';
import { CorruptionError } from '../src/errors.js';
import { copyRange } from './block-builder.js';
import type { RangeCompare } from './range-compare.js';
import { copyBytes } from '../src/base/bytes.js';

/** A decoded block: its raw bytes plus where the restart array starts. Immutable. */
export class Block {
  readonly restartsOffset: number;
  readonly numRestarts: number;

  /**
   * @param data raw (decompressed) block bytes; the Block takes ownership.
   * @param fileOffset the block's offset in the file, for error messages.
   */
  constructor(readonly data: Uint8Array, readonly fileName: string, readonly fileOffset: number) {
    const len = data.length;
    if (len < 4) throw new CorruptionError(fileName, fileOffset, `block of ${len} bytes is too short`);
    const n = getFixed32(data, len - 4);
    if (n > (len - 4) / 4) throw new CorruptionError(fileName, fileOffset, `restart count ${n} does not fit a block of ${len} bytes`);
    this.numRestarts = n;
    this.restartsOffset = len - 4 - 4 * n;
    if (n === 0 && this.restartsOffset !== 0) throw new CorruptionError(fileName, fileOffset, 'block has entries but no restart points');
    let prev = -1;
    for (let i = 0; i < n; i++) {
      const r = getFixed32(data, this.restartsOffset + 4 * i);
      const bad = i === 0 ? r !== 0 && this.restartsOffset > 0 : r <= prev;
      if (bad || (r >= this.restartsOffset && this.restartsOffset > 0)) {
        throw new CorruptionError(fileName, fileOffset, `restart point ${i} (${r}) is out of order or past the entries`);
      }
      prev = r;
    }
  }

  restart(i: number): number {
    return getFixed32(this.data, this.restartsOffset + 4 * i);
  }

  /** Bytes this block keeps alive (its backing buffer), for cache charges. */
  get byteSize(): number {
    return this.data.buffer.byteLength;
  }
}

const EMPTY = new Uint8Array(0);

export class BlockIterator implements InternalIterator {
  private block: Block | undefined;
  private data: Uint8Array = EMPTY;
  private restartsOffset = 0;
  private numRestarts = 0;
  /** Offset of the current entry; restartsOffset (or -1 before positioning) when not valid. */
  private current = -1;
  private nextOffset = 0;
  private restartIndex = 0;
  /** Offset of restart point restartIndex + 1 (Infinity past the last): parseNext's cheap check. */
  private nextRestart = Infinity;
  private keyBuf: Uint8Array = new Uint8Array(64);
  private keyLength = 0;
  private keyView: Uint8Array | undefined;
  private valueStart = 0;
  private valueEnd = 0;
  private readonly slot: VarintResult = { value: 0, offset: 0 };

  constructor(private readonly cmp: RangeCompare, block?: Block) {
    if (block) this.reset(block);
  }

  /** Points the iterator at another block (unpositioned). Reuses the key buffer. */
  reset(block: Block): void {
    this.block = block;
    this.data = block.data;
    this.restartsOffset = block.restartsOffset;
    this.numRestarts = block.numRestarts;
    this.current = -1;
    this.keyView = undefined;
  }

  valid(): boolean {
    return this.current >= 0 && this.current < this.restartsOffset;
  }

  key(): Uint8Array {
    return (this.keyView ??= this.keyBuf.subarray(0, this.keyLength));
  }

  value(): Uint8Array {
    return this.data.subarray(this.valueStart, this.valueEnd);
  }

  /** A copy of the current key the caller owns. */
  keyCopy(): Uint8Array {
    return copyBytes(this.keyBuf.subarray(0, this.keyLength));
  }

  /** The reused key buffer and the current key's length (zero-copy reads; valid until the next move). */
  get keyBuffer(): Uint8Array { return this.keyBuf; }
  get keySize(): number { return this.keyLength; }

  /** Positions on the entry at restart point i (REQUIRES i < the block's restart count). */
  seekToRestart(i: number): void {
    this.seekToRestartPoint(i);
    this.parseNext();
  }

  /** Leaves the iterator not valid, as a seek past the last key does. */
  seekPastEnd(): void {
    this.invalidate();
  }

  /** The block being iterated (undefined before reset() or after close()). */
  get currentBlock(): Block | undefined { return this.block; }

  /** Zero-copy access for decoders of the value (the index's block handles). */
  get valueBytes(): Uint8Array { return this.data; }
  get valueOffset(): number { return this.valueStart; }
  get valueLimit(): number { return this.valueEnd; }
  /** Offset of the current entry inside the block (for error messages). */
  get entryOffset(): number { return this.current; }

  private fail(at: number, detail: string): never {
    const b = this.block!;
    throw new CorruptionError(b.fileName, b.fileOffset, `block entry at +${at}: ${detail}`);
  }

  private invalidate(): void {
    this.current = this.restartsOffset;
    this.restartIndex = this.numRestarts;
  }

  private seekToRestartPoint(i: number): void {
    const b = this.block!;
    this.keyLength = 0;
    this.restartIndex = i;
    this.nextOffset = b.restart(i);
    this.nextRestart = i + 1 < this.numRestarts ? b.restart(i + 1) : Infinity;
  }

  /** Decodes the entry at nextOffset; false (and invalid) at the end of the entries. */
  private parseNext(): boolean {
    const d = this.data;
    const limit = this.restartsOffset;
    let p = this.nextOffset;
    if (p >= limit) { this.invalidate(); return false; }
    const start = p;
    let shared: number, unshared: number, valueLength: number;
    if (p + 3 <= limit && (d[p]! | d[p + 1]! | d[p + 2]!) < 128) {
      shared = d[p]!; unshared = d[p + 1]!; valueLength = d[p + 2]!;
      p += 3;
    } else {
      const s = this.slot;
      if (!getVarint(d, p, limit, s)) this.fail(start, 'bad shared-length varint');
      shared = s.value;
      if (!getVarint(d, s.offset, limit, s)) this.fail(start, 'bad key-length varint');
      unshared = s.value;
      if (!getVarint(d, s.offset, limit, s)) this.fail(start, 'bad value-length varint');
      valueLength = s.value;
      p = s.offset;
    }
    if (shared > this.keyLength) this.fail(start, `shares ${shared} bytes with a key of ${this.keyLength}`);
    if (unshared > limit - p || valueLength > limit - p - unshared) this.fail(start, 'entry runs past the restart array');
    const keyLength = shared + unshared;
    if (keyLength > this.keyBuf.length) {
      const k = new Uint8Array(Math.max(keyLength, this.keyBuf.length * 2));
      copyRange(k, 0, this.keyBuf, 0, shared);
      this.keyBuf = k;
    }
    copyRange(this.keyBuf, shared, d, p, p + unshared);
    this.keyLength = keyLength;
    this.keyView = undefined;
    this.current = start;
    this.valueStart = p + unshared;
    this.valueEnd = this.valueStart + valueLength;
    this.nextOffset = this.valueEnd;
    if (start >= this.nextRestart) {
      const b = this.block!;
      while (this.restartIndex + 1 < this.numRestarts && b.restart(this.restartIndex + 1) <= start) this.restartIndex++;
      this.nextRestart = this.restartIndex + 1 < this.numRestarts ? b.restart(this.restartIndex + 1) : Infinity;
    }
    return true;
  }

  seekToFirst(): undefined {
    if (this.restartsOffset === 0) { this.invalidate(); return; }
    this.seekToRestartPoint(0);
    this.parseNext();
  }

  seekToLast(): undefined {
    if (this.restartsOffset === 0) { this.invalidate(); return; }
    this.seekToRestartPoint(this.numRestarts - 1);
    while (this.parseNext() && this.nextOffset < this.restartsOffset) { /* advance to the last entry */ }
  }

  /** First entry with key >= target. */
  seek(target: Uint8Array): undefined {
    if (this.restartsOffset === 0) { this.invalidate(); return; }
    const d = this.data;
    const b = this.block!;
    const s = this.slot;
    // Binary search for the last restart point whose key is < target (restart keys share nothing).
    let left = 0;
    let right = this.numRestarts - 1;
    const limit = this.restartsOffset;
    while (left < right) {
      const mid = (left + right + 1) >>> 1;
      const off = b.restart(mid);
      let keyStart: number;
      let keyLength: number;
      if (off + 3 <= limit && d[off] === 0 && (d[off + 1]! | d[off + 2]!) < 128) {
        keyLength = d[off + 1]!;
        keyStart = off + 3;
      } else {
        if (!getVarint(d, off, limit, s) || s.value !== 0) this.fail(off, 'restart entry must share no prefix');
        if (!getVarint(d, s.offset, limit, s)) this.fail(off, 'bad key-length varint');
        keyLength = s.value;
        if (!getVarint(d, s.offset, limit, s)) this.fail(off, 'bad value-length varint');
        keyStart = s.offset;
      }
      if (keyLength > limit - keyStart) this.fail(off, 'key runs past the restart array');
      if (this.cmp(d, keyStart, keyStart + keyLength, target, 0, target.length) < 0) left = mid;
      else right = mid - 1;
    }
    this.seekToRestartPoint(left);
    while (this.parseNext()) {
      if (this.cmp(this.keyBuf, 0, this.keyLength, target, 0, target.length) >= 0) return;
    }
  }

  /** Last entry with key <= target. */
  seekForPrev(target: Uint8Array): undefined {
    this.seek(target);
    if (!this.valid()) { this.seekToLast(); return; }
    if (this.cmp(this.keyBuf, 0, this.keyLength, target, 0, target.length) > 0) this.prev();
  }

  next(): undefined {
    this.parseNext();
  }

  prev(): undefined {
    const original = this.current;
    const b = this.block!;
    while (b.restart(this.restartIndex) >= original) {
      if (this.restartIndex === 0) { this.invalidate(); return; }
      this.restartIndex--;
    }
    this.seekToRestartPoint(this.restartIndex);
    // Every parse moves forward by >= 3 bytes, and the last entry parsed starts before `original`.
    while (this.parseNext() && this.nextOffset < original) { /* advance to the entry before original */ }
  }

  close(): undefined {
    this.block = undefined;
    this.data = EMPTY;
    this.current = -1;
    this.restartsOffset = 0;
  }
}

/** Number of entries in a block (walks it; for layout dumps and verification). */
export function countEntries(block: Block, cmp: RangeCompare): number {
  const it = new BlockIterator(cmp, block);
  let n = 0;
  for (it.seekToFirst(); it.valid(); it.next()) n++;
  return n;
}
