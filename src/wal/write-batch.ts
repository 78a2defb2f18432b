/**
 * WriteBatch, the public atomic batch (`new WriteBatch().put(k, v).delete(k)`), and the operation
 * encoding it shares with the WAL. Format: src/wal/FORMAT.md "Operations".
 * Representation: ONE growable encoded buffer, no object per operation: per op a kind byte, varint
 * key length, key, and for a put a varint value length and the value; a range delete stores its
 * exclusive end key where a put stores its value. The same bytes go into the
 * WAL record unchanged (wal-record.ts), so a batch is encoded exactly once.
 * Contract:
 * - put/delete/deleteRange throw InvalidArgumentError synchronously for a key or value that is not a
 *   Uint8Array or a string (or a range whose start is not before its end), and then change nothing.
 *   Strings are stored as UTF-8. A range's end counts as a key for maxKeyLength.
 * - Sizes are not limited here: the engine compares maxKeyLength/maxValueLength (O(1)) with its
 *   options at write time (TooLargeError).
 * - The batch copies keys and values when they are added; forEachOp hands out views into its
 *   buffer, valid until the batch is next changed.
 * - encodeSingleOp lets the engine's put/delete path encode one operation into a reusable
 *   ByteWriter without a WriteBatch.
 * Main thread or worker. Not here: sequence numbers and commit times (wal-record.ts).
 */
import { ByteWriter, getVarint, type VarintResult, varintLength } from '../base/coding.js';
import { keyArg } from '../base/arguments.js';
import { ValueKind } from '../base/internal-key.js';
import { compareByteRanges, compareBytes, printableKey } from '../base/bytes.js';
import { InternalError, InvalidArgumentError } from '../errors.js';

/** Receives one operation. For a delete, `value` is empty; for a range delete it is the end key. Views: copy what you keep. */
export type OpCallback = (kind: number, key: Uint8Array, value: Uint8Array) => void;

const EMPTY = new Uint8Array(0);

/** A cleared batch keeps its buffer up to this size (reuse without pinning a huge one). */
const KEEP_CAPACITY = 64 * 1024;

/** Whether an operation of this kind carries a second length-prefixed field (a put's value, a range's end). */
export function opHasValue(kind: number): boolean {
  return kind !== ValueKind.Delete;
}

/** Encoded size of one operation with these key and value lengths (valueLength ignored for a delete). */
export function encodedOpLength(kind: number, keyLength: number, valueLength: number): number {
  const head = 1 + varintLength(keyLength) + keyLength;
  return opHasValue(kind) ? head + varintLength(valueLength) + valueLength : head;
}

/** Appends one encoded operation to `writer`. REQUIRES: kind is a ValueKind (Put, Delete or RangeDelete). */
export function encodeSingleOp(writer: ByteWriter, kind: number, key: Uint8Array, value: Uint8Array): void {
  writer.u8(kind).lengthPrefixed(key);
  if (opHasValue(kind)) writer.lengthPrefixed(value);
}

/**
 * Walks encoded operations in buf[start, end), which must hold exactly `opCount` of them; calls cb
 * (if given) for each. Calls `fail(offset, detail)` (which must throw) on any malformed byte:
 * unknown kind, a length past the end, too many or too few operations.
 */
export function walkOps(
  buf: Uint8Array, start: number, end: number, opCount: number,
  cb: OpCallback | undefined, fail: (offset: number, detail: string) => never,
): void {
  walkOpRanges(buf, start, end, opCount, cb && ((kind, keyStart, keyEnd, valueStart, valueEnd) => {
    cb(kind, buf.subarray(keyStart, keyEnd), opHasValue(kind) ? buf.subarray(valueStart, valueEnd) : EMPTY);
  }), fail);
}

/** Receives one operation as offsets into the walked buffer (a delete has valueStart === valueEnd). */
export type OpRangeCallback = (kind: number, keyStart: number, keyEnd: number, valueStart: number, valueEnd: number) => void;

/**
 * walkOps without a view per operation: offsets only (the conflict tracker packs the keys of a
 * large batch without creating an object per key). Same checks, same `fail`.
 */
export function walkOpRanges(
  buf: Uint8Array, start: number, end: number, opCount: number,
  cb: OpRangeCallback | undefined, fail: (offset: number, detail: string) => never,
): void {
  const slot: VarintResult = { value: 0, offset: 0 };
  let pos = start;
  for (let i = 0; i < opCount; i++) {
    if (pos >= end) fail(pos, `operation ${i} of ${opCount} is missing`);
    const kind = buf[pos]!;
    if (kind !== ValueKind.Put && kind !== ValueKind.Delete && kind !== ValueKind.RangeDelete) fail(pos, `unknown operation kind ${kind}`);
    if (!getVarint(buf, pos + 1, end, slot)) fail(pos + 1, 'bad key length varint');
    const keyStart = slot.offset;
    const keyEnd = keyStart + slot.value;
    if (keyEnd > end) fail(pos + 1, `key length ${slot.value} runs past the end of the batch`);
    pos = keyEnd;
    let valueStart = pos;
    if (kind !== ValueKind.Delete) {
      if (!getVarint(buf, pos, end, slot)) fail(pos, 'bad value length varint');
      valueStart = slot.offset;
      pos = valueStart + slot.value;
      if (pos > end) fail(valueStart, `value length ${slot.value} runs past the end of the batch`);
      if (kind === ValueKind.RangeDelete && compareByteRanges(buf, keyStart, keyEnd, buf, valueStart, pos) >= 0) {
        fail(keyStart, 'range delete start is not before its end');
      }
    }
    if (cb) cb(kind, keyStart, keyEnd, valueStart, pos);
  }
  if (pos !== end) fail(pos, `${end - pos} bytes left over after ${opCount} operations`);
}

function internalFail(offset: number, detail: string): never {
  throw new InternalError(`WriteBatch buffer is malformed at ${offset}: ${detail}`);
}

export class WriteBatch {
  private writer = new ByteWriter(64);
  private count = 0;
  private maxKey = 0;
  private maxValue = 0;
  private rangeDeletes = 0;

  /** Adds a put of key -> value. Throws InvalidArgumentError (and adds nothing) for a bad argument. */
  put(key: Uint8Array | string, value: Uint8Array | string): this {
    const k = keyArg('WriteBatch.put: key', key);
    const v = keyArg('WriteBatch.put: value', value);
    this.append(ValueKind.Put, k, v);
    if (k.length > this.maxKey) this.maxKey = k.length;
    if (v.length > this.maxValue) this.maxValue = v.length;
    return this;
  }

  /** Adds a delete of key. Throws InvalidArgumentError (and adds nothing) for a bad argument. */
  delete(key: Uint8Array | string): this {
    const k = keyArg('WriteBatch.delete: key', key);
    this.append(ValueKind.Delete, k, EMPTY);
    if (k.length > this.maxKey) this.maxKey = k.length;
    return this;
  }

  /**
   * Adds a deletion of every key in [start, end) (half-open, as RocksDB's DeleteRange), applied
   * atomically with the batch's other operations. Throws InvalidArgumentError (and adds nothing) for
   * a bad argument or when start is not before end.
   */
  deleteRange(start: Uint8Array | string, end: Uint8Array | string): this {
    const s = keyArg('WriteBatch.deleteRange: start', start);
    const e = keyArg('WriteBatch.deleteRange: end', end);
    if (compareBytes(s, e) >= 0) {
      throw new InvalidArgumentError(`WriteBatch.deleteRange: start ${printableKey(s)} must be before end ${printableKey(e)}`);
    }
    this.append(ValueKind.RangeDelete, s, e);
    const longer = Math.max(s.length, e.length);
    if (longer > this.maxKey) this.maxKey = longer;
    this.rangeDeletes++;
    return this;
  }

  /** Number of range deletes among the operations. */
  get rangeDeleteCount(): number {
    return this.rangeDeletes;
  }

  private append(kind: number, key: Uint8Array, value: Uint8Array): void {
    const mark = this.writer.length;
    try {
      encodeSingleOp(this.writer, kind, key, value);
    } catch (e) {
      // Growing the buffer can fail (a value near the 2 GiB array limit): leave no half operation.
      this.writer.length = mark;
      throw e;
    }
    this.count++;
  }

  /** Removes every operation. */
  clear(): this {
    if (this.writer.buf.length > KEEP_CAPACITY) this.writer = new ByteWriter(64);
    else this.writer.reset();
    this.count = 0;
    this.maxKey = 0;
    this.maxValue = 0;
    this.rangeDeletes = 0;
    return this;
  }

  /** Number of operations (the sequence numbers the batch will take). */
  get length(): number {
    return this.count;
  }

  /** Size of the encoded operations in bytes (what the batch adds to a WAL record, less its small header). */
  get byteLength(): number {
    return this.writer.length;
  }

  /** Length of the longest key added (0 when empty). */
  get maxKeyLength(): number {
    return this.maxKey;
  }

  /** Length of the longest value added (0 when empty or only deletes). */
  get maxValueLength(): number {
    return this.maxValue;
  }

  /** Calls cb for each operation in the order added; key and value are views (see header). */
  forEachOp(cb: OpCallback): void {
    walkOps(this.writer.buf, 0, this.writer.length, this.count, cb, internalFail);
  }

  /** @internal The encoded operations: a view valid until the batch changes. */
  encodedOps(): Uint8Array {
    return this.writer.view();
  }
}
