/**
 * The DB's side of the TransactionHost interface (src/mvcc/transaction.ts): snapshots that also record
 * in-flight plain writes, reads at a sequence, iterator sources, and commits through the group commit
 * with a validate step. Kept out of db.ts so the facade stays a facade (as compaction-host.ts).
 */
import type { DB } from '../db.js';
import type { InternalIterator } from '../base/internal-iterator.js';
import { MAX_SEQUENCE } from '../base/internal-key.js';
import { DatabaseClosedError, TransactionConflictError } from '../errors.js';
import { StrataIterator, type IteratorMode } from '../iterator/strata-iterator.js';
import { buildIteratorSource } from './iterator-source.js';
import type { TransactionHost, TxIteratorOptions } from '../mvcc/transaction.js';
import { conflictKeysOf } from '../db.js';

export function makeTransactionHost(db: DB): TransactionHost {
  return {
    takeSnapshot: () => {
      const snap = db.snapshot();
      // Writes accepted while no transaction was open and still in flight land above this snapshot.
      for (const r of db.unrecorded) db.tracker.record(db.lastSequence + 1, conflictKeysOf(r), true);
      db.unrecorded.length = 0;
      return snap;
    },
    readAt: (key, seq) => db.getInternal(key, seq),
    openSource: () => {
      const version = db.versions.current();
      version.ref();
      const source = buildIteratorSource(db.memtablesForRead(), version, db.tables);
      return { iter: source.build(), release: () => source.release() };
    },
    makeIterator: <T>(build: () => InternalIterator, release: () => void, o: TxIteratorOptions, mode: IteratorMode): T => {
      const it = new StrataIterator<unknown>({ build, release }, { ...o, snapshotSeq: MAX_SEQUENCE }, mode,
        (x) => db.iterators.delete(x));
      db.iterators.add(it);
      return it as T;
    },
    submitCommit: (ops, count, userBytes, sync, validate, conflictKeys) => {
      db.checkWritable();
      return new Promise<void>((resolve, reject) => {
        db.writer.submit({ ops, count, userBytes, sync, resolve, reject, validate, conflictKeys });
      }).then(() => { db.counters.txnCommits++; }, (e: unknown) => {
        if (e instanceof TransactionConflictError) db.counters.txnConflicts++;
        throw e;
      });
    },
    tracker: db.tracker,
    get maxKeySize() { return db.o.maxKeySize; },
    get maxValueSize() { return db.o.maxValueSize; },
    checkOpen: () => { if (db.isClosed) throw new DatabaseClosedError(); },
  };
}
