/**
 * The fragments of one table as entries of its range-deletion block (sstable/FORMAT.md "Range-deletion
 * block"): per fragment and per seq, newest first, key = internal key (start, seq, RangeDelete) and
 * value = the fragment's exclusive end user key (RocksDB's layout). Internal-key order then is fragment
 * order, seqs descending, so a block is written in one pass and read back into a FragmentSet.
 * Contract: decode treats the entries as untrusted: a short key, a wrong kind, an empty range,
 * fragments out of order or overlapping, or two entries of one start with different ends are
 * CorruptionError naming the file and the block's offset. Safe in a worker.
 */
import { compareBytes, copyBytes } from '../base/bytes.js';
import { kindOf, makeInternalKey, seqOf, TRAILER_SIZE, userKeyOf, ValueKind } from '../base/internal-key.js';
import { CorruptionError } from '../errors.js';
import type { Fragment } from './fragmenter.js';
import { FragmentSet } from './fragment-set.js';

/** Calls add(key, value) for every entry of the set's range-deletion block, in block order. */
export function encodeFragments(set: FragmentSet, add: (key: Uint8Array, value: Uint8Array) => void): void {
  for (const f of set.fragments()) {
    for (const seq of f.seqs) add(makeInternalKey(f.start, seq, ValueKind.RangeDelete), f.end);
  }
}

/** The cursor decodeFragments reads (a BlockIterator over the range-deletion block). */
export interface RangeDelEntries {
  seekToFirst(): unknown;
  valid(): boolean;
  keyCopy(): Uint8Array;
  value(): Uint8Array;
  next(): unknown;
}

/** Reads a range-deletion block back into fragments; `fileName`/`offset` name the block in errors. */
export function decodeFragments(it: RangeDelEntries, fileName: string, offset: number): FragmentSet {
  const bad = (detail: string): never => {
    throw new CorruptionError(fileName, offset, `range-deletion block: ${detail}`);
  };
  const out: Fragment[] = [];
  let cur: { start: Uint8Array; end: Uint8Array; seqs: number[] } | undefined;
  let n = 0;
  for (it.seekToFirst(); it.valid(); it.next(), n++) {
    const key = it.keyCopy();
    if (key.length < TRAILER_SIZE) bad(`entry ${n}: key of ${key.length} bytes has no trailer`);
    if (kindOf(key) !== ValueKind.RangeDelete) bad(`entry ${n}: kind ${kindOf(key)} is not RangeDelete`);
    const start = copyBytes(userKeyOf(key));
    const seq = seqOf(key);
    const end = copyBytes(it.value());
    if (seq < 1) bad(`entry ${n}: sequence number 0`);
    if (compareBytes(start, end) >= 0) bad(`entry ${n}: empty range`);
    if (cur && compareBytes(cur.start, start) === 0) {
      if (compareBytes(cur.end, end) !== 0) bad(`entry ${n}: two ends for one fragment start`);
      if (seq >= cur.seqs[cur.seqs.length - 1]!) bad(`entry ${n}: seqs of a fragment not descending`);
      cur.seqs.push(seq);
      continue;
    }
    if (cur && compareBytes(cur.end, start) > 0) bad(`entry ${n}: fragment overlaps the one before`);
    cur = { start, end, seqs: [seq] };
    out.push(cur);
  }
  return FragmentSet.fromFragments(out);
}
