/**
 * The WAL's record payloads: the header record that starts every WAL file, and the group record,
 * one per write group, that keeps each batch's boundaries and the commit time.
 * Format: src/wal/FORMAT.md sections 2-3 (layout, fields). Framing: src/record/.
 * Contract:
 * - WalGroupEncoder is reused by the group leader for every group: begin(), one add*() per
 *   batch, finishParts() (or finish()). Large batches are referenced, not copied: the caller
 *   keeps them unchanged until the record is written. The result is valid until the next begin().
 *   Sequence numbers are consecutive over the group's operations in the order added.
 * - decodeWalRecord() treats its input as untrusted and validates the WHOLE record (every batch,
 *   every operation) before returning, so a caller applies all of a group or none of it.
 *   Problems become CorruptionError(fileName, offset of the record, detail).
 * - Decoded batches hand out views into the record bytes (copy what you keep).
 * Not here: framing and checksums (src/record), I/O (wal-writer.ts, wal-replay.ts).
 */
import { ByteReader, ByteWriter, getFixed64 } from '../base/coding.js';
import { MAX_SEQUENCE, ValueKind } from '../base/internal-key.js';
import { invariant } from '../base/invariant.js';
import { CorruptionError, NotSupportedError } from '../errors.js';
import { WAL_FORMAT_VERSION, WAL_HEADER_SIZE, WAL_MAGIC, WalFormatVersion } from './format.js';
import { type OpCallback, WriteBatch, encodeSingleOp, encodedOpLength, walkOpRanges, walkOps } from './write-batch.js';

/** The encoder drops a buffer grown past this at the next begin() (one huge value must not pin it). */
const KEEP_CAPACITY = 4 << 20;

/** Encodes the header record of a new WAL file. */
export function encodeWalHeader(logNumber: number): Uint8Array {
  const w = new ByteWriter(WAL_HEADER_SIZE);
  w.bytes(WAL_MAGIC).u8(WAL_FORMAT_VERSION).fixed64(logNumber);
  return w.toBytes();
}

export interface WalHeader {
  version: number;
  logNumber: number;
}

/** Decodes a header record. CorruptionError when it is not one; NotSupportedError for a newer version. */
export function decodeWalHeader(data: Uint8Array, fileName: string, offset: number): WalHeader {
  for (let i = 0; i < WAL_MAGIC.length; i++) {
    if (data[i] !== WAL_MAGIC[i]) {
      throw new CorruptionError(fileName, offset, 'not a StrataDB WAL: the first record lacks the "SWAL" magic');
    }
  }
  // The version before the size: a newer version may have a longer header.
  const version = data.length > WAL_MAGIC.length ? data[WAL_MAGIC.length]! : 0;
  if (version === 0) throw new CorruptionError(fileName, offset, 'WAL header: missing or zero format version');
  if (version > WAL_FORMAT_VERSION) {
    throw new NotSupportedError(`${fileName}: WAL format version ${version} is not supported (this build reads up to ${WAL_FORMAT_VERSION})`);
  }
  if (data.length !== WAL_HEADER_SIZE) {
    throw new CorruptionError(fileName, offset, `WAL header record is ${data.length} bytes, expected ${WAL_HEADER_SIZE}`);
  }
  const logNumber = getFixed64(data, 5);
  if (Number.isNaN(logNumber)) throw new CorruptionError(fileName, offset, 'WAL header: log number out of range');
  return { version, logNumber };
}

/** Batch operations (or a value) at least this long are referenced, not copied, by the encoder. */
const REFERENCE_MIN = 64 * 1024;

/**
 * Builds group records; one instance per WAL writer, reused for every group. Small batches are
 * copied into one reusable buffer; large ones (>= 64 KiB) are referenced, so the group record is
 * a list of parts that RecordWriter frames without concatenating (finishParts / encodeParts).
 */
export class WalGroupEncoder {
  private w = new ByteWriter(4096);
  /** Offsets in w where refs[i] is spliced in. */
  private readonly cuts: number[] = [];
  private readonly refs: Uint8Array[] = [];
  private readonly parts: Uint8Array[] = [];
  private refBytes = 0;
  private expectedBatches = 0;
  private batches = 0;
  private firstSeq = 0;
  private ops = 0;

  /** Starts a group whose first operation takes `firstSeq` (>= 1) and that will hold `batchCount` batches. */
  begin(firstSeq: number, commitTimeMs: number, batchCount: number): void {
    // Conditions first: the message templates would otherwise be built on every group.
    if (!(Number.isSafeInteger(firstSeq) && firstSeq >= 1)) invariant(false, `WAL group firstSeq ${firstSeq}`);
    if (!(Number.isSafeInteger(commitTimeMs) && commitTimeMs >= 0)) invariant(false, `WAL group commit time ${commitTimeMs}`);
    if (!(Number.isSafeInteger(batchCount) && batchCount >= 1)) invariant(false, `WAL group batch count ${batchCount}`);
    if (this.w.buf.length > KEEP_CAPACITY) this.w = new ByteWriter(4096);
    this.w.reset();
    if (this.refs.length > 0) {
      // Guarded: setting an array's length is not free, and most groups reference nothing.
      this.cuts.length = 0;
      this.refs.length = 0;
      this.refBytes = 0;
    }
    this.w.fixed64(firstSeq).fixed64(commitTimeMs).varint(batchCount);
    this.expectedBatches = batchCount;
    this.batches = 0;
    this.firstSeq = firstSeq;
    this.ops = 0;
  }

  /**
   * Adds a batch given as encoded operations (WriteBatch wire format) and their count (>= 1).
   * REQUIRES: `ops` stays unchanged until the record has been written (the next begin()).
   */
  addBatchOps(ops: Uint8Array, opCount: number): void {
    this.startBatch(opCount);
    this.w.varint(opCount).varint(ops.length);
    this.put(ops);
  }

  /** Adds a WriteBatch. REQUIRES: the batch is not changed before the next begin(). */
  addBatch(batch: WriteBatch): void {
    this.addBatchOps(batch.encodedOps(), batch.length);
  }

  /** Adds a one-operation batch (a plain put or delete) without a WriteBatch. Same REQUIRES for value. */
  addOp(kind: number, key: Uint8Array, value: Uint8Array): void {
    if (kind !== ValueKind.Put && kind !== ValueKind.Delete) invariant(false, `WAL op kind ${kind}`);
    this.startBatch(1);
    const w = this.w;
    w.varint(1).varint(encodedOpLength(kind, key.length, value.length));
    if (kind === ValueKind.Put && value.length >= REFERENCE_MIN) {
      w.u8(kind).lengthPrefixed(key).varint(value.length);
      this.put(value);
    } else {
      w.ensure(encodedOpLength(kind, key.length, value.length));
      encodeSingleOp(w, kind, key, value);
    }
  }

  /**
   * One-call form for the group leader: encodes the batches (each given as encoded operations and
   * their count), sequence numbers from firstSeq on. Returns a single array (see finish()).
   */
  encode(batches: readonly { readonly ops: Uint8Array; readonly count: number }[], firstSeq: number, commitTimeMs: number): Uint8Array {
    this.begin(firstSeq, commitTimeMs, batches.length);
    for (const b of batches) this.addBatchOps(b.ops, b.count);
    return this.finish();
  }

  /** Like encode(), returning parts for WalWriter.appendGroupParts (no copy of large batches). */
  encodeParts(batches: readonly { readonly ops: Uint8Array; readonly count: number }[], firstSeq: number, commitTimeMs: number): readonly Uint8Array[] {
    this.begin(firstSeq, commitTimeMs, batches.length);
    for (const b of batches) this.addBatchOps(b.ops, b.count);
    return this.finishParts();
  }

  /** Sequence number of the last operation added so far. */
  get lastSeq(): number {
    return this.firstSeq + this.ops - 1;
  }

  /** Bytes of the record encoded so far (all parts). */
  get byteLength(): number {
    return this.w.length + this.refBytes;
  }

  /**
   * The record as one array: a view into the encoder valid until the next begin() when nothing
   * was referenced; otherwise a fresh concatenation (the write path uses finishParts()).
   */
  finish(): Uint8Array {
    this.checkComplete();
    if (this.refs.length === 0) return this.w.view();
    const out = new Uint8Array(this.byteLength);
    let at = 0;
    for (const p of this.finishParts()) { out.set(p, at); at += p.length; }
    return out;
  }

  /** The record as parts to be framed back to back; valid until the next begin(). */
  finishParts(): readonly Uint8Array[] {
    this.checkComplete();
    const parts = this.parts;
    if (this.refs.length === 0) {
      if (parts.length !== 1) parts.length = 1;
      parts[0] = this.w.view();
      return parts;
    }
    parts.length = 0;
    let from = 0;
    for (let i = 0; i < this.refs.length; i++) {
      const cut = this.cuts[i]!;
      if (cut > from) parts.push(this.w.buf.subarray(from, cut));
      parts.push(this.refs[i]!);
      from = cut;
    }
    if (this.w.length > from) parts.push(this.w.buf.subarray(from, this.w.length));
    return parts;
  }

  /**
   * Forgets the batches referenced by the record just written (call after appending it): otherwise
   * a huge batch stays pinned by the encoder until the next group begins, which may be never.
   * The record and byteLength are gone afterwards.
   */
  release(): void {
    if (this.refs.length > 0) {
      this.cuts.length = 0;
      this.refs.length = 0;
      this.refBytes = 0;
    }
    if (this.parts.length > 0) this.parts.length = 0;
  }

  private put(bytes: Uint8Array): void {
    if (bytes.length >= REFERENCE_MIN) {
      this.cuts.push(this.w.length);
      this.refs.push(bytes);
      this.refBytes += bytes.length;
    } else {
      this.w.bytes(bytes);
    }
  }

  private checkComplete(): void {
    if (this.batches !== this.expectedBatches) {
      invariant(false, `WAL group declared ${this.expectedBatches} batches, got ${this.batches}`);
    }
  }

  private startBatch(opCount: number): void {
    if (!(Number.isSafeInteger(opCount) && opCount >= 1)) invariant(false, `WAL batch op count ${opCount}`);
    invariant(this.batches < this.expectedBatches, 'more WAL batches than declared in begin()');
    // Subtract first: past 2^53 an addition rounds and the check would pass.
    invariant(this.ops + opCount - 1 <= MAX_SEQUENCE - this.firstSeq, 'sequence numbers exhausted');
    this.batches++;
    this.ops += opCount;
  }
}

/** One batch of a decoded group: its sequence range and its operations. */
export class WalBatch {
  constructor(
    private readonly buf: Uint8Array,
    private readonly start: number,
    private readonly end: number,
    readonly firstSeq: number,
    readonly opCount: number,
    readonly commitTimeMs: number,
  ) {}

  get lastSeq(): number {
    return this.firstSeq + this.opCount - 1;
  }

  /** Operations in order; operation i has sequence firstSeq + i. Views into the record bytes. */
  forEachOp(cb: OpCallback): void {
    walkOps(this.buf, this.start, this.end, this.opCount, cb, (off, detail) => {
      // Unreachable: decodeWalRecord validated these bytes.
      throw new CorruptionError('(decoded WAL batch)', off, detail);
    });
  }

  /** The encoded operations (WriteBatch wire format), a view. */
  encodedOps(): Uint8Array {
    return this.buf.subarray(this.start, this.end);
  }
}

export interface WalGroup {
  firstSeq: number;
  lastSeq: number;
  commitTimeMs: number;
  batches: WalBatch[];
}

/**
 * Decodes and fully validates one group record. `offset` is the record's position in the file,
 * for error messages (byte positions inside a fragmented record are not file offsets).
 */
export function decodeWalRecord(data: Uint8Array, fileName: string, offset: number, version: number = WAL_FORMAT_VERSION): WalGroup {
  const fail = (pos: number, detail: string): never => {
    throw new CorruptionError(fileName, offset, `WAL group record: ${detail} (byte ${pos} of the record)`);
  };
  const r = new ByteReader(data, 0, data.length, fail);
  const firstSeq = r.fixed64();
  const commitTimeMs = r.fixed64();
  const batchCount = r.varint();
  if (firstSeq < 1) fail(0, 'first sequence number 0');
  if (batchCount < 1) fail(16, 'no batches');
  const batches: WalBatch[] = [];
  let seq = firstSeq;
  for (let i = 0; i < batchCount; i++) {
    if (r.atEnd()) fail(r.offset, `batch ${i} of ${batchCount} is missing`);
    const opCount = r.varint();
    if (opCount < 1) fail(r.offset, `batch ${i} has no operations`);
    const byteLength = r.varint();
    const start = r.offset;
    r.bytes(byteLength);
    if (opCount - 1 > MAX_SEQUENCE - seq) fail(start, 'sequence numbers past 2^53');
    const batchFail = (pos: number, detail: string): never => fail(pos, `batch ${i}: ${detail}`);
    // Version 1 had no range deletes: such a kind there is foreign bytes, not an operation.
    const v1Check = version < WalFormatVersion.V2
      ? (kind: number, keyStart: number): void => { if (kind === ValueKind.RangeDelete) batchFail(keyStart - 1, `unknown operation kind ${kind} in a version-${version} WAL`); }
      : undefined;
    walkOpRanges(data, start, start + byteLength, opCount, v1Check, batchFail);
    batches.push(new WalBatch(data, start, start + byteLength, seq, opCount, commitTimeMs));
    seq += opCount;
  }
  if (!r.atEnd()) fail(r.offset, `${r.remaining} bytes left over after ${batchCount} batches`);
  return { firstSeq, lastSeq: seq - 1, commitTimeMs, batches };
}
