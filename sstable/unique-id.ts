/**
 * Table unique ids: TABLE_UNIQUE_ID_SIZE bytes from the OS's cryptographic generator, stored in the
 * table's `unique_id` property and beside the table's entry in the MANIFEST (sstable/FORMAT.md
 * "Properties block", src/manifest/FORMAT.md "FILE_UNIQUE_ID").
 * Why random rather than RocksDB's derivation (database id + session id + file number): this engine
 * has no persistent database id, and a derived id needs one to tell apart two databases that both
 * have a table 000012; 128 random bits need no state, no coordination between compaction workers,
 * and collide with probability about n^2 / 2^129 over n tables, i.e. never.
 * Safe in a worker.
 */
import { randomBytes } from 'node:crypto';
import { TABLE_UNIQUE_ID_SIZE } from './format.js';

/** A fresh id (a new array the caller owns). */
export function newTableUniqueId(): Uint8Array {
  return new Uint8Array(randomBytes(TABLE_UNIQUE_ID_SIZE));
}

/** Lowercase hex, as tools and error messages show an id. */
export function formatUniqueId(id: Uint8Array): string {
  let s = '';
  for (const b of id) s += b.toString(16).padStart(2, '0');
  return s;
}
