/**
 * A WritableFile wrapper that computes the CRC32C of everything appended, so a table's whole-file
 * checksum (recorded in the MANIFEST, compared by verify and backups) costs no second read.
 */
import { crc32c } from '../base/crc32c.js';
import type { WritableFile } from './file-system.js';

export class ChecksummedFile implements WritableFile {
  private crc = 0;
  constructor(private readonly inner: WritableFile) {}
  get path(): string { return this.inner.path; }
  get size(): number { return this.inner.size; }
  /** Unmasked CRC32C of all bytes appended so far. */
  get checksum(): number { return this.crc; }
  append(data: Uint8Array): void {
    this.inner.append(data);
    this.crc = crc32c(data, this.crc);
  }
  sync(): Promise<void> { return this.inner.sync(); }
  close(): Promise<void> { return this.inner.close(); }
}
