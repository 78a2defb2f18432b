/**
 * RecordReader: reads the records a RecordWriter framed, from a whole log file held in memory.
 * Format: src/record/FORMAT.md (section 7, "Reading damaged files": the outcome for every kind of damage).
 * Contract:
 * - The input is untrusted: every length is bounds-checked, every fragment checksummed; damage is
 *   reported (readReporting) or thrown as CorruptionError(fileName, offset, detail) (read), never a
 *   RangeError, a hang or an allocation larger than the input.
 * - A returned record is read-only and lives as long as `data`: a FULL record is a view into
 *   `data` (no copy); a fragmented one is assembled into a fresh array.
 * - The `offset` of a problem is where valid data ends: the header of the first physical record of
 *   the logical record that could not be read. Everything before it was returned as records.
 * - After 'eof' or 'corrupt' the reader is finished and repeats that result; it does not resync
 *   (replay stops at the first problem or refuses the file; see src/wal/FORMAT.md).
 * - A log in the recyclable format (its first header has a recyclable type) may be a reused file:
 *   past this life's records lie the previous life's. Its records must carry the expected log number;
 *   any other record, zeros or garbage, is a problem with `recyclable: true`, and the torn-tail scan
 *   counts only this life's records, so the previous life never makes a tail look like a hole.
 * Not here: what records mean, and what to do about damage (wal-replay.ts, manifest/).
 */
import { CorruptionError } from '../errors.js';
import type { FileCipher } from '../encryption/file-cipher.js';
import { getFixed32 } from '../base/coding.js';
import {
  BLOCK_SIZE, HEADER_SIZE, RECYCLABLE_HEADER_SIZE, RECYCLABLE_TYPE_OFFSET, RecordType, isRecyclableType,
  recordChecksum, recordTypeName, recyclableChecksum,
} from './format.js';

export type RecordReadResult =
  | { kind: 'record'; data: Uint8Array; offset: number }
  | { kind: 'eof' }
  /**
   * atTail: no checksum-valid physical record (of this log's life, for a recyclable log) follows the
   * damage, i.e. it looks like a torn write. recyclable: the log is in the recyclable format, where
   * such a tail is also what the end of a reused file looks like.
   */
  | { kind: 'corrupt'; offset: number; detail: string; atTail: boolean; recyclable: boolean };

const EOF: RecordReadResult = { kind: 'eof' };

/** Bytes the torn-tail scan may checksum before it gives up (answering "not a torn tail"). */
const SCAN_BUDGET = 16 << 20;

/** Outcomes of readPhysical() besides a good record. */
const PHYS_OK = 0;
const PHYS_EOF = 1;
const PHYS_BAD = 2;

export class RecordReader {
  private pos = 0;
  private finished: RecordReadResult | undefined;
  // The physical record readPhysical() found (fields, not an object: no allocation per fragment).
  private physOffset = 0;
  private physType = 0;
  private physStart = 0;
  private physEnd = 0;
  private physDetail = '';
  /** [start, end) payload ranges of the fragments of the record being assembled. */
  private readonly ranges: number[] = [];

  private ordinal = 0;
  /** Whether the log is in the recyclable format: known from the type of its first header. */
  private readonly recyclable: boolean;
  private readonly headerSize: number;
  /** Recyclable format: the low 32 bits of the log number this life's records carry. */
  private readonly logNumber: number;

  /**
   * `cipher`: the log is encrypted (recordCipherFor() finds that out from its first record): each
   * record is opened at its ordinal, the first one after its encryption header. A record whose
   * frame is intact but whose tag fails is reported as damage that is not a torn tail.
   */
  constructor(private readonly data: Uint8Array, readonly fileName: string, private readonly cipher?: FileCipher, logNumber?: number) {
    this.recyclable = data.length >= HEADER_SIZE && isRecyclableType(data[6]!);
    this.headerSize = this.recyclable ? RECYCLABLE_HEADER_SIZE : HEADER_SIZE;
    // Without the number from the file name, the first header's field is the best guess (a reused
    // file whose new life wrote nothing then reads as its previous life: wal-dump names the file).
    this.logNumber = logNumber !== undefined
      ? logNumber >>> 0
      : this.recyclable && data.length >= RECYCLABLE_HEADER_SIZE ? getFixed32(data, HEADER_SIZE) : -1;
  }

  /** Whether the log is in the recyclable format. */
  get isRecyclable(): boolean {
    return this.recyclable;
  }

  /** Offset just past the last record returned: the end of the valid prefix so far. */
  get position(): number {
    return this.pos;
  }

  /** The next record, or undefined at a clean end. Throws CorruptionError at the first problem. */
  read(): Uint8Array | undefined {
    const r = this.readReporting();
    if (r.kind === 'record') return r.data;
    if (r.kind === 'eof') return undefined;
    throw new CorruptionError(this.fileName, r.offset, r.detail);
  }

  /** Like read(), but reports damage as a result instead of throwing. */
  readReporting(): RecordReadResult {
    const r = this.readFramed();
    if (!this.cipher || r.kind !== 'record') return r;
    let sealed = r.data;
    if (this.ordinal === 0) {
      const n = this.cipher.header.size;
      if (sealed.length < n) return this.fail(r.offset, 'first record is shorter than its encryption header', false);
      sealed = sealed.subarray(n);
    }
    try {
      const data = this.cipher.open(this.ordinal, sealed, this.fileName, r.offset);
      this.ordinal++;
      return { kind: 'record', data, offset: r.offset };
    } catch (e) {
      if (!(e instanceof CorruptionError)) throw e;
      this.pos = r.offset;
      return this.fail(r.offset, `record ${this.ordinal}: authentication failed (tampered or damaged data, or the wrong key for key id ${JSON.stringify(this.cipher.keyId)})`, false);
    }
  }

  private readFramed(): RecordReadResult {
    if (this.finished) return this.finished;
    const ranges = this.ranges;
    ranges.length = 0;
    let recordOffset = -1;
    for (;;) {
      const status = this.readPhysical();
      if (status === PHYS_EOF) {
        if (recordOffset < 0) return this.finish(EOF);
        return this.fail(recordOffset, `truncated record: the file ends inside the record that starts at ${recordOffset}`, true);
      }
      if (status === PHYS_BAD) {
        const at = recordOffset < 0 ? this.physOffset : recordOffset;
        const where = recordOffset < 0 ? '' : ` (in the record that starts at ${recordOffset})`;
        return this.fail(at, this.physDetail + where, this.nothingValidAfter(this.physOffset));
      }
      const type = this.physType;
      if (type === RecordType.Full || type === RecordType.First) {
        if (recordOffset >= 0) {
          return this.fail(recordOffset,
            `record that starts at ${recordOffset} is cut short by a ${recordTypeName(type)} fragment at ${this.physOffset}`,
            false);
        }
        if (type === RecordType.Full) {
          const data = this.data.subarray(this.physStart, this.physEnd);
          const offset = this.physOffset;
          this.pos = this.physEnd;
          return { kind: 'record', data, offset };
        }
        recordOffset = this.physOffset;
        ranges.push(this.physStart, this.physEnd);
        continue;
      }
      // MIDDLE or LAST
      if (recordOffset < 0) {
        return this.fail(this.physOffset,
          `${recordTypeName(type)} fragment at ${this.physOffset} without a FIRST fragment before it`,
          false);
      }
      ranges.push(this.physStart, this.physEnd);
      if (type === RecordType.Last) {
        this.pos = this.physEnd;
        return { kind: 'record', data: this.assemble(), offset: recordOffset };
      }
    }
  }

  private finish(r: RecordReadResult): RecordReadResult {
    this.finished = r;
    return r;
  }

  private fail(offset: number, detail: string, atTail: boolean): RecordReadResult {
    return this.finish({ kind: 'corrupt', offset, detail, atTail, recyclable: this.recyclable });
  }

  private assemble(): Uint8Array {
    const ranges = this.ranges;
    let total = 0;
    for (let i = 0; i < ranges.length; i += 2) total += ranges[i + 1]! - ranges[i]!;
    const out = new Uint8Array(total);
    let at = 0;
    for (let i = 0; i < ranges.length; i += 2) {
      const s = ranges[i]!;
      const e = ranges[i + 1]!;
      out.set(this.data.subarray(s, e), at);
      at += e - s;
    }
    return out;
  }

  /**
   * Reads the physical record at this.pos into the phys* fields and advances past it.
   * PHYS_EOF only at a clean end (the data ends exactly at a record or block boundary before
   * any trailer byte); everything else that is not a whole, checksum-valid record is PHYS_BAD.
   */
  private readPhysical(): number {
    const data = this.data;
    const end = data.length;
    const hs = this.headerSize;
    for (;;) {
      const pos = this.pos;
      if (pos >= end) return PHYS_EOF;
      const leftover = BLOCK_SIZE - (pos % BLOCK_SIZE);
      if (leftover < hs) {
        // Block trailer. The writer emits it in the same append as the header that follows, so
        // a file that ends inside it, or right after it, lost that header: a torn write.
        this.physOffset = pos;
        if (end < pos + leftover) return this.bad(`file ends inside the block trailer at ${pos}`);
        for (let i = pos; i < pos + leftover; i++) {
          if (data[i] !== 0) return this.bad(`non-zero byte in the block trailer at ${i}`);
        }
        if (end === pos + leftover) return this.bad(`file ends after the block trailer at ${pos}, before the header that must follow it`);
        this.pos = pos + leftover;
        continue;
      }
      this.physOffset = pos;
      if (end - pos < hs) return this.bad(`truncated record header at ${pos}: ${end - pos} of ${hs} bytes`);
      const length = data[pos + 4]! | (data[pos + 5]! << 8);
      const type = data[pos + 6]!;
      const stored = getFixed32(data, pos);
      if (stored === 0 && length === 0 && type === RecordType.Zero) {
        return this.bad(`zero-filled region at ${pos} (preallocated or lost pages)`);
      }
      if (this.recyclable) {
        if (!isRecyclableType(type)) return this.bad(`record type ${type} at ${pos} is not one of a recyclable log (left by an earlier use of the file, or damage)`);
        const n = getFixed32(data, pos + HEADER_SIZE);
        if (n !== this.logNumber) return this.bad(`record at ${pos} belongs to log ${n}, not ${this.logNumber} (left by an earlier use of the file)`);
      }
      if (hs + length > leftover) {
        return this.bad(`record at ${pos} declares ${length} payload bytes but only ${leftover - hs} fit in its block`);
      }
      const payloadEnd = pos + hs + length;
      if (payloadEnd > end) {
        return this.bad(`truncated record at ${pos}: ${length} payload bytes declared, ${end - pos - hs} present`);
      }
      const sum = this.recyclable
        ? recyclableChecksum(type, this.logNumber, data, pos + hs, payloadEnd)
        : recordChecksum(type, data, pos + hs, payloadEnd);
      if (sum !== stored) {
        return this.bad(`checksum mismatch in the record at ${pos}`);
      }
      // A checksum-valid unknown type is a writer from the future, not bit rot; still unreadable here.
      if (!this.recyclable && (type === RecordType.Zero || type > RecordType.Last)) return this.bad(`unknown record type ${type} at ${pos}`);
      this.physType = this.recyclable ? type - RECYCLABLE_TYPE_OFFSET : type;
      this.physStart = pos + hs;
      this.physEnd = payloadEnd;
      this.pos = payloadEnd;
      return PHYS_OK;
    }
  }

  private bad(detail: string): number {
    this.physDetail = detail;
    return PHYS_BAD;
  }

  /**
   * True when no checksum-valid physical record starts after `from`: the damage is a torn tail.
   * 1. Every later block start (where the writer always puts a header): cheap, and it finds
   *    intact data after a hole.
   * 2. Every byte position in the rest of the damaged record's own block, without limit: a real
   *    torn tail lies wholly in that block (a physical record never crosses one), and its payload
   *    (say a value filled with 0x02: type 2, length 514 at every byte) must never make it look
   *    like anything else. The type and length filters bound this for any block content to about
   *    a hundred MiB of CRC (measured worst patterns: 20-50 ms), and usually to nothing.
   * 3. Every other byte position of later blocks, checksumming at most SCAN_BUDGET bytes in
   *    vain: garbage over many blocks could otherwise cost a CRC per byte. Past the budget the
   *    answer is false, "not shown to be a torn tail", which only makes 'tolerate-tail' stricter.
   */
  private nothingValidAfter(from: number): boolean {
    const end = this.data.length;
    const firstLater = (Math.floor(from / BLOCK_SIZE) + 1) * BLOCK_SIZE;
    for (let b = firstLater; b + HEADER_SIZE <= end; b += BLOCK_SIZE) {
      if (this.validAt(b, end) > 0) return false;
    }
    if (this.scan(from + 1, Math.min(firstLater, end), Infinity) !== 0) return false;
    return this.scan(firstLater + 1, end, SCAN_BUDGET) === 0;
  }

  /**
   * Tries header positions in [from, to) (skipping block starts and trailers): 1 when a valid
   * record starts at one of them, -1 when more than `budget` bytes were checksummed in vain, else 0.
   */
  private scan(from: number, to: number, budget: number): number {
    const data = this.data;
    let c = from;
    while (c + HEADER_SIZE <= to) {
      const blockEnd = c - (c % BLOCK_SIZE) + BLOCK_SIZE;
      const last = Math.min(blockEnd, to) - HEADER_SIZE;
      for (; c <= last; c++) {
        if (!this.typeFits(data[c + 6]!)) continue; // the common case: no call
        const cost = this.validAt(c, to);
        if (cost > 0) return 1;
        budget += cost; // cost <= 0: minus the bytes checksummed in vain
        if (budget < 0) return -1;
      }
      c = blockEnd + 1; // the block start was tried already
    }
    return 0;
  }

  /**
   * Whether a checksum-valid physical record starts at c: 1 if so; otherwise minus the number of
   * bytes checksummed to find out (0 when the filters rejected it). REQUIRES: a header fits in c's block.
   */
  private validAt(c: number, end: number): number {
    const data = this.data;
    const type = data[c + 6]!;
    if (!this.typeFits(type)) return 0;
    const hs = this.headerSize;
    if (c + hs > end || hs > BLOCK_SIZE - (c % BLOCK_SIZE)) return 0;
    // A recyclable log's previous life costs no checksum: its records name another log.
    if (this.recyclable && getFixed32(data, c + HEADER_SIZE) !== this.logNumber) return 0;
    const length = data[c + 4]! | (data[c + 5]! << 8);
    if (hs + length > BLOCK_SIZE - (c % BLOCK_SIZE) || c + hs + length > end) return 0;
    const sum = this.recyclable
      ? recyclableChecksum(type, this.logNumber, data, c + hs, c + hs + length)
      : recordChecksum(type, data, c + hs, c + hs + length);
    if (sum === getFixed32(data, c)) return 1;
    return -(length + 1);
  }

  /** Whether a header of this type could start a record of this log (legacy types 1-4, or recyclable 5-8). */
  private typeFits(type: number): boolean {
    return this.recyclable ? isRecyclableType(type) : type !== RecordType.Zero && type <= RecordType.Last;
  }
}
