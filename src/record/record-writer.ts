/**
 * RecordWriter: appends checksummed records to a log file (WAL or MANIFEST), fragmenting each
 * record over 32 KiB blocks. Format: src/record/FORMAT.md. Reading: record-reader.ts.
 * Contract:
 * - Continues at file.size (block offset = size % BLOCK_SIZE), so it can append to an existing
 *   log, provided that log ends on a record boundary (callers never append after a torn tail:
 *   the engine starts a new log instead).
 * - A record whose framed size (trailer padding, headers, fragments) is at most CHUNK_SIZE (1 MiB)
 *   is framed in a reusable buffer and handed to ONE synchronous file.append: the WAL leader's
 *   single write(2) (DESIGN.md). A larger record goes out in appends of about CHUNK_SIZE each,
 *   through the same buffer, so a 100 MiB value costs no fresh 100 MiB allocation (which also
 *   means touching 100 MiB of new pages); one write(2) of 100 MiB would not be atomic either.
 * - A record can be given in parts (addRecordParts): framed as their concatenation, without
 *   concatenating them first. The writer only reads the data during the call.
 * - With a log number (recyclable format, FORMAT.md §2), every fragment's header carries it, so the
 *   file may be a reused one, written over from offset 0: a reader stops at the first fragment that
 *   is not this life's.
 * - After an append fails, the file may hold a partial record; every later addRecord() throws an
 *   IOError (the first failure as cause) rather than write records after garbage.
 * Main thread only. Not here: what a record means (wal/, manifest/), when to sync (the caller).
 */
import { InternalError, IOError } from '../errors.js';
import type { FileCipher } from '../encryption/file-cipher.js';
import type { WritableFile } from '../fs/file-system.js';
import { putFixed32 } from '../base/coding.js';
import { crc32c, maskCrc } from '../base/crc32c.js';
import {
  BLOCK_SIZE, HEADER_SIZE, RECYCLABLE_HEADER_SIZE, RECYCLABLE_TYPE_OFFSET, RecordType, recyclableTypeCrc, typeCrc,
} from './format.js';

/** Records framed larger than this are appended in chunks of about this size. */
export const CHUNK_SIZE = 1 << 20;

export class RecordWriter {
  private blockOffset: number;
  private scratch = new Uint8Array(4096);
  private failure: unknown = undefined;
  /** Reused one-element parts list for addRecord (no array per call). */
  private readonly single: Uint8Array[] = [new Uint8Array(0)];
  // Read cursor over the parts of the record being framed.
  private parts: readonly Uint8Array[] = this.single;
  private partIndex = 0;
  private partOffset = 0;

  /** Encrypted logs: the ordinal of the next logical record (its nonce). */
  private ordinal = 0;
  private readonly sealedParts: Uint8Array[] = [];

  private readonly headerSize: number;
  /** Recyclable format: the log number written into every header; -1 for the legacy types. */
  private readonly logNumber: number;

  /**
   * With a cipher, every logical record is sealed at its ordinal (0, 1, 2...) and the first one is
   * prefixed by the file's encryption header (src/record/FORMAT.md §8). An encrypted log is always
   * a new file: an ordinal cannot be recovered from an existing one, so appending to it is refused.
   */
  constructor(private readonly file: WritableFile, private readonly cipher?: FileCipher, options: { recyclableLogNumber?: number } = {}) {
    this.blockOffset = file.size % BLOCK_SIZE;
    this.logNumber = options.recyclableLogNumber ?? -1;
    this.headerSize = this.logNumber >= 0 ? RECYCLABLE_HEADER_SIZE : HEADER_SIZE;
    if (cipher && file.size !== 0) throw new InternalError(`${file.path}: an encrypted log cannot be appended to (it has ${file.size} bytes)`);
  }

  /** Bytes in the file, including what it held when this writer was created. */
  get size(): number {
    return this.file.size;
  }

  /** Appends one record (any length, 0 included); see the header for how many appends. Throws IOError. */
  addRecord(data: Uint8Array): void {
    this.single[0] = data;
    try {
      this.addRecordParts(this.single);
    } finally {
      this.single[0] = EMPTY;
    }
  }

  /** Appends one record made of the concatenation of `parts`. Throws IOError. */
  addRecordParts(parts: readonly Uint8Array[]): void {
    if (this.cipher && this.failure === undefined) {
      const sealed = this.sealedParts;
      sealed.length = 0;
      if (this.ordinal === 0) sealed.push(this.cipher.headerBytes);
      const [body, tag] = this.cipher.sealParts(this.ordinal, parts);
      sealed.push(body, tag);
      this.ordinal++; // a failed append is sticky, so an ordinal is never sealed twice
      try {
        this.addFramed(sealed);
      } finally {
        sealed.length = 0;
      }
      return;
    }
    this.addFramed(parts);
  }

  private addFramed(parts: readonly Uint8Array[]): void {
    if (this.failure !== undefined) {
      throw new IOError(`${this.file.path}: an earlier append failed; the log cannot take more records`, {
        cause: this.failure, path: this.file.path,
      });
    }
    let length = 0;
    for (const p of parts) length += p.length;
    const hs = this.headerSize;
    const recyclable = this.logNumber >= 0;
    const framed = framedSize(this.blockOffset, length, hs);
    const want = Math.min(framed, CHUNK_SIZE);
    if (this.scratch.length < want) {
      let cap = this.scratch.length * 2;
      while (cap < want) cap *= 2;
      this.scratch = new Uint8Array(Math.min(cap, CHUNK_SIZE));
    }
    const buf = this.scratch;
    this.parts = parts;
    this.partIndex = 0;
    this.partOffset = 0;
    let out = 0;
    let blockOffset = this.blockOffset;
    let remaining = length;
    let isFirst = true;
    try {
      // An empty record still gets one FULL fragment, so `do`: the loop body runs at least once.
      do {
        const leftover = BLOCK_SIZE - blockOffset;
        if (leftover < hs) {
          // Too small for a header: zero-fill the trailer and start the next block.
          if (out + leftover > buf.length) out = this.flush(out);
          buf.fill(0, out, out + leftover);
          out += leftover;
          blockOffset = 0;
        }
        const fragment = Math.min(BLOCK_SIZE - blockOffset - hs, remaining);
        if (out + hs + fragment > buf.length) out = this.flush(out);
        remaining -= fragment;
        let type: number = isFirst
          ? (remaining === 0 ? RecordType.Full : RecordType.First)
          : (remaining === 0 ? RecordType.Last : RecordType.Middle);
        if (recyclable) {
          type += RECYCLABLE_TYPE_OFFSET;
          putFixed32(buf, out + HEADER_SIZE, this.logNumber >>> 0);
        }
        const crc = this.copyPayload(buf, out + hs, fragment, recyclable ? recyclableTypeCrc(type, this.logNumber) : typeCrc(type));
        putFixed32(buf, out, maskCrc(crc));
        buf[out + 4] = fragment & 0xff;
        buf[out + 5] = fragment >>> 8;
        buf[out + 6] = type;
        out += hs + fragment;
        blockOffset += hs + fragment;
        isFirst = false;
      } while (remaining > 0);
      this.flush(out);
    } finally {
      this.parts = this.single;
    }
    this.blockOffset = blockOffset;
  }

  /** fdatasync: the records appended so far survive a power cut once this resolves. */
  sync(): Promise<void> {
    return this.file.sync();
  }

  /** Closes the file without syncing it (sync first when durability matters). */
  close(): Promise<void> {
    return this.file.close();
  }

  /** Appends scratch[0, n); returns 0 (the new fill level). Makes the writer sticky on failure. */
  private flush(n: number): number {
    try {
      this.file.append(this.scratch.subarray(0, n));
    } catch (e) {
      this.failure = e;
      throw e;
    }
    return 0;
  }

  /** Copies the next n bytes of the parts to buf[at..] and returns their CRC32C continued from crc. */
  private copyPayload(buf: Uint8Array, at: number, n: number, crc: number): number {
    while (n > 0) {
      const part = this.parts[this.partIndex]!;
      const take = Math.min(n, part.length - this.partOffset);
      if (take === 0) { this.partIndex++; this.partOffset = 0; continue; }
      const piece = part.subarray(this.partOffset, this.partOffset + take);
      crc = crc32c(piece, crc);
      buf.set(piece, at);
      at += take;
      n -= take;
      this.partOffset += take;
    }
    return crc;
  }
}

const EMPTY = new Uint8Array(0);

/** Bytes one record of `length` occupies when written at `blockOffset`: trailer padding, headers, payload. */
export function framedSize(blockOffset: number, length: number, headerSize = HEADER_SIZE): number {
  let total = 0;
  let remaining = length;
  let off = blockOffset;
  for (;;) {
    const leftover = BLOCK_SIZE - off;
    if (leftover < headerSize) {
      total += leftover;
      off = 0;
    }
    const fragment = Math.min(BLOCK_SIZE - off - headerSize, remaining);
    total += headerSize + fragment;
    off += headerSize + fragment;
    remaining -= fragment;
    if (remaining === 0) return total;
  }
}
