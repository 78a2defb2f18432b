/**
 * WalWriter: one write-ahead log file. Each write group is one record (wal-record.ts), appended with
 * a synchronous write by the group leader; sync() is the only asynchronous step (DESIGN.md).
 * Format: src/wal/FORMAT.md. Framing: src/record/record-writer.ts.
 * Contract:
 * - A new (empty) file gets the header record (magic, version, log number) just before its first
 *   group, so a WAL that holds any group also names its format and number, while a WAL that never
 *   got a write stays empty: a crash then leaves nothing torn, even for walRecoveryMode 'absolute'.
 *   An existing non-empty file is continued as is (its header was written with its first group).
 * - appendGroup() throws IOError when the append fails; from then on every appendGroup() throws
 *   (the file may end in a partial record). The engine turns that into ERR_READ_ONLY.
 * - The caller decides when to sync: after a group that asked for it, and always before the WAL
 *   is rolled over ("a WAL is fsynced when it rolls over": replay treats damage in any WAL but the
 *   newest as corruption, see FORMAT.md "Recovery modes"). close() does not sync.
 * Main thread only. Not here: encoding groups (wal-record.ts), group commit (the engine).
 */
import type { WritableFile } from '../fs/file-system.js';
import { RecordWriter } from '../record/record-writer.js';
import type { FileCipher } from '../encryption/file-cipher.js';
import { encodeWalHeader } from './wal-record.js';

export class WalWriter {
  private readonly records: RecordWriter;
  private needsHeader: boolean;
  /** The encryption key id this WAL is sealed with (undefined: plaintext). */
  readonly keyId: string | undefined;

  /**
   * `cipher`: an encrypted WAL (src/record/FORMAT.md §8): every record, the header record too, is sealed.
   * `recyclable`: frame records with the log number (src/record/FORMAT.md §2), as a WAL that is, or
   * may later become, a reused file must be; `file` may then be a reused one opened for overwrite.
   */
  constructor(file: WritableFile, readonly logNumber: number, cipher?: FileCipher, readonly recyclable = false) {
    this.records = new RecordWriter(file, cipher, recyclable ? { recyclableLogNumber: logNumber } : {});
    this.keyId = cipher?.keyId;
    this.needsHeader = file.size === 0;
  }

  /** Appends one encoded group record (synchronous write(2), no fsync). Throws IOError. */
  appendGroup(record: Uint8Array): void {
    if (this.needsHeader) this.writeHeader();
    this.records.addRecord(record);
  }

  /** Appends one group record given as parts (WalGroupEncoder.finishParts()). Throws IOError. */
  appendGroupParts(parts: readonly Uint8Array[]): void {
    if (this.needsHeader) this.writeHeader();
    this.records.addRecordParts(parts);
  }

  private writeHeader(): void {
    this.records.addRecord(encodeWalHeader(this.logNumber));
    this.needsHeader = false;
  }

  /** fdatasync: every group appended so far survives a power cut once this resolves. */
  sync(): Promise<void> {
    return this.records.sync();
  }

  /** Closes the file without syncing it. */
  close(): Promise<void> {
    return this.records.close();
  }

  /** Bytes in the file, header and framing included. */
  get size(): number {
    return this.records.size;
  }
}
