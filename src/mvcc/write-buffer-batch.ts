/**
 * A transaction's write buffer (a MemTable with private sequence numbers, transaction.ts) turned into
 * what commit submits: ONE encoded batch and the packed, sorted KeySet of its keys (key-set.ts).
 * Format: the batch is the WriteBatch wire format (src/wal/FORMAT.md). Main thread or worker.
 */
import { ByteWriter } from '../base/coding.js';
import { MAX_SEQUENCE, ValueKind, userKeyOf, kindOf, seqOf } from '../base/internal-key.js';
import type { MemTable } from '../memtable/memtable.js';
import { encodeSingleOp } from '../wal/write-batch.js';
import { KeySetBuilder, type KeySet } from './key-set.js';
import { RangeSet } from './range-set.js';

export interface EncodedWrites { ops: Uint8Array; keys: KeySet; userBytes: number; count: number }

const EMPTY = new Uint8Array(0);

/**
 * The write buffer as one encoded batch (the union of its deleted ranges, then its newest version
 * of each key that none of its range deletes came after) and the packed set of its keys, in one
 * pass: the buffer yields user keys sorted, newest version first, and the key set keeps the first of
 * each (comparing in its own arena, no slice per key).
 */
export function encodeWriteBuffer(buffer: MemTable, encodedBound: number, keyBound: number): EncodedWrites {
  // Sized from the bounds: no doubling copies (a 1,000,000-put batch used to end in a 32 MiB buffer
  // for 19 MB, after copying 31 MiB on the way); exact unless keys were overwritten.
  const w = new ByteWriter(Math.max(16, encodedBound));
  const keySet = new KeySetBuilder(buffer.entries, keyBound);
  let userBytes = 0;
  let count = 0;
  let deleted: RangeSet | undefined;
  const fragments = buffer.rangeDeletions > 0 ? buffer.rangeDelFragments() : undefined;
  if (fragments) {
    // Ranges first: they take the batch's lowest sequence numbers, below every write that follows.
    deleted = RangeSet.of(fragments.fragments().map((f) => [f.start, f.end] as const));
    for (let i = 0; i < deleted.count; i++) {
      encodeSingleOp(w, ValueKind.RangeDelete, deleted.start(i), deleted.end(i));
      userBytes += deleted.start(i).length + deleted.end(i).length;
      count++;
    }
  }
  const it = buffer.newIterator();
  // A MemTable iterator is synchronous.
  it.seekToFirst();
  while (it.valid()) {
    const ik = it.key();
    const uk = userKeyOf(ik);
    // The newest version of a key, unless one of the transaction's range deletes came after it.
    if ((!fragments || !fragments.deletes(uk, seqOf(ik), MAX_SEQUENCE)) && keySet.append(uk)) {
      const kind = kindOf(ik);
      const value = kind === ValueKind.Put ? it.value() : EMPTY;
      encodeSingleOp(w, kind, uk, value);
      userBytes += uk.length + value.length;
      count++;
    }
    it.next();
  }
  // Overwrites left the buffer oversized: copy down (the WAL and the write queue hold it until the group is applied).
  const ops = w.buf.length - w.length > (w.length >>> 3) ? w.toBytes() : w.view();
  return { ops, keys: keySet.finish(deleted), userBytes, count };
}
