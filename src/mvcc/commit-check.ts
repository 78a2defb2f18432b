/**
 * The commit-time conflict check of a transaction, run by the write-queue leader in commit order,
 * right before sequence numbers are assigned (transaction.ts says which isolation refuses what).
 * Plain data in, the refusal (or undefined) out: the transaction hands over what it wrote, read and
 * locked, the conflict tracker answers what was committed since.
 *
 * Points, per mode:
 * - optimistic: every written key and every getForUpdate key against the snapshot;
 * - pessimistic: every locked key (written or read for update) against its own validation point
 *   (transaction-locks.ts); only a plain write can fail this, since other transactions wait for the lock.
 * Range deletes committed by others are checked from `trackerSeq`, the transaction's first snapshot
 * (conservative when a pessimistic snapshot moved: it can only add a retry). Serializable reads and
 * ranges are checked against `readSeq`, the snapshot every plain read used.
 * The written keys are asked for only when something is remembered after the snapshot (or a range
 * delete after `trackerSeq`, or to name a key in a refusal): a large commit that nothing overlapped
 * never builds its KeySet here.
 * Main thread only.
 */
import { printableKey } from '../base/bytes.js';
import { TransactionConflictError } from '../errors.js';
import type { ConflictTracker, KeyRange } from './conflict-tracker.js';
import type { KeySet } from './key-set.js';
import type { KeyLog } from './key-log.js';
import type { TransactionLocks } from './transaction-locks.js';

export interface CommitCheck {
  tracker: ConflictTracker;
  /** The written keys, made on the first call (a commit nothing was committed after never needs them). */
  keys: () => KeySet;
  trackerSeq: number;
  readSeq: number;
  /** Pessimistic: the locks and their validation points (then `keys` is not checked by hash). */
  locks: TransactionLocks | undefined;
  /** Optimistic getForUpdate keys: checked as writes. */
  forUpdate: KeyLog | undefined;
  /** Serializable only: the plain reads and iterated ranges. */
  reads: KeyLog | undefined;
  ranges: readonly KeyRange[] | undefined;
}

export function checkCommit(c: CommitCheck): TransactionConflictError | undefined {
  const { tracker, keys, trackerSeq, readSeq, locks } = c;
  // Nothing remembered after the snapshot: no key (written, read or ranged) can have been written since.
  const isWrittenSince = tracker.anyCommitAfter(readSeq);
  if (locks) {
    for (let i = 0, n = locks.count; i < n; i++) {
      if (tracker.writtenAfter(locks.hash(i), locks.seq(i))) {
        return conflict(`${nameOfHash(keys(), locks.hash(i))}, locked by this transaction, was written by a plain write after it was locked`);
      }
    }
  } else if (isWrittenSince) {
    const written = keys();
    const hashes = written.hashes;
    for (let i = 0, n = written.count; i < n; i++) {
      if (tracker.writtenAfter(hashes[i]!, readSeq)) return conflict(`key ${printableKey(written.key(i))} was written by a commit after this transaction's snapshot`);
    }
  }
  const rangeDeletedSince = tracker.rangeDeletedAfter(trackerSeq);
  if (rangeDeletedSince) {
    const k = tracker.keysDeletedAfter(keys(), trackerSeq);
    if (k) return conflict(`key ${printableKey(k)} was deleted by a range delete committed after this transaction's snapshot`);
  }
  const own = isWrittenSince ? keys().ranges : undefined;
  for (let i = 0; own && i < own.count; i++) {
    const k = tracker.rangeWrittenAfter({ lo: own.start(i), loInclusive: true, hi: own.end(i), hiInclusive: false }, readSeq);
    if (k) return conflict(`key ${printableKey(k)}, in a range this transaction deletes, was written after its snapshot`);
  }
  const forUpdate = c.forUpdate;
  for (let i = 0, n = forUpdate?.count ?? 0; i < n; i++) {
    if (tracker.writtenAfter(forUpdate!.hash(i), readSeq) || (rangeDeletedSince && tracker.keyDeletedAfter(forUpdate!.key(i), readSeq))) {
      return conflict(`key ${printableKey(forUpdate!.key(i))}, read for update by this transaction, was written by a commit after its snapshot`);
    }
  }
  const reads = c.reads;
  for (let i = 0, n = reads?.count ?? 0; i < n; i++) {
    if (tracker.writtenAfter(reads!.hash(i), readSeq) || (rangeDeletedSince && tracker.keyDeletedAfter(reads!.key(i), readSeq))) {
      return conflict(`key ${printableKey(reads!.key(i))}, read by this transaction, was written by a commit after its snapshot`);
    }
  }
  for (const r of c.ranges ?? []) {
    const k = tracker.rangeWrittenAfter(r, readSeq);
    if (k) return conflict(`key ${printableKey(k)}, in a range this transaction iterated, was written after its snapshot (phantom)`);
  }
  return undefined;
}

/** The key a hash stands for, when the transaction wrote it (a getForUpdate-only key is named by its hash). */
function nameOfHash(keys: KeySet, hash: number): string {
  const hashes = keys.hashes;
  for (let i = 0; i < keys.count; i++) if (hashes[i] === hash) return `key ${printableKey(keys.key(i))}`;
  return `a key read for update (hash ${hash})`;
}

export function conflict(message: string): TransactionConflictError {
  return new TransactionConflictError(`transaction conflict: ${message}`);
}
