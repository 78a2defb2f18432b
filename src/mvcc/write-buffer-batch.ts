/**
 * A transaction's WriteLog (write-log.ts) turned into what commit submits: ONE encoded batch.
 * Format: the WriteBatch wire format (src/wal/FORMAT.md).
 * When every key was written once and there was no range delete, the batch is the log itself (a
 * view, no copy). Otherwise it is encoded once, sized exactly: the union of the transaction's deleted
 * ranges first (they take the batch's lowest sequence numbers, below every write that follows), then,
 * in the order written, the newest op of each key that none of its range deletes came after.
 * Not here: the conflict keys (key-set.ts keySetOfOps, made from the batch only when needed).
 * Main thread.
 */
import { ByteWriter } from '../base/coding.js';
import { MAX_SEQUENCE, ValueKind } from '../base/internal-key.js';
import { InternalError } from '../errors.js';
import { encodeSingleOp, encodedOpLength, walkOpRanges } from '../wal/write-batch.js';
import { RangeSet } from './range-set.js';
import type { WriteLog } from './write-log.js';

export interface EncodedWrites { ops: Uint8Array; userBytes: number; count: number }

/** The batch of `log` (see header). */
export function encodeWriteLog(log: WriteLog): EncodedWrites {
  if (log.rewrites === 0 && log.rangeDeletions === 0) {
    return { ops: log.view(), userBytes: log.userBytes, count: log.opCount };
  }
  const buf = log.buffer;
  const fragments = log.rangeDeletions > 0 ? log.rangeDelFragments() : undefined;
  const deleted = fragments && RangeSet.of(fragments.fragments().map((f) => [f.start, f.end] as const));
  // The ops kept, marked by offset in a first pass that also sizes the batch exactly.
  const kept = new Uint32Array(log.opCount);
  let n = 0, size = 0, userBytes = 0, next = 0;
  walkOpRanges(buf, 0, log.byteLength, log.opCount, (kind, ks, ke, vs, ve) => {
    const off = next; // each op starts where the previous one ended
    next = ve;
    if (log.findRange(buf, ks, ke) !== off) return; // a newer op of the key follows
    if (fragments && fragments.deletes(buf.subarray(ks, ke), log.seqAt(off), MAX_SEQUENCE)) return;
    kept[n++] = off;
    size += encodedOpLength(kind, ke - ks, ve - vs);
    userBytes += ke - ks + (kind === ValueKind.Put ? ve - vs : 0);
  }, fail);
  let count = 0;
  for (let i = 0; deleted && i < deleted.count; i++) {
    size += encodedOpLength(ValueKind.RangeDelete, deleted.start(i).length, deleted.end(i).length);
  }
  const w = new ByteWriter(Math.max(16, size));
  for (let i = 0; deleted && i < deleted.count; i++) {
    encodeSingleOp(w, ValueKind.RangeDelete, deleted.start(i), deleted.end(i));
    userBytes += deleted.start(i).length + deleted.end(i).length;
    count++;
  }
  const bounds = { start: 0, end: 0 };
  for (let i = 0; i < n; i++) {
    const off = kept[i]!;
    log.keyBoundsAt(off, bounds);
    const kind = log.kindAt(off);
    encodeSingleOp(w, kind, buf.subarray(bounds.start, bounds.end), log.valueAt(off));
    count++;
  }
  return { ops: w.view(), userBytes, count };
}

function fail(offset: number, detail: string): never {
  throw new InternalError(`a transaction's write log is malformed at ${offset}: ${detail}`);
}
