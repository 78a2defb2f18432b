/**
 * The engine's side of the TransactionHost interface (src/mvcc/transaction.ts): snapshots that also record
 * in-flight plain writes, reads at a sequence, iterator sources, and commits through the group commit
 * with a validate step, and the database's key lock table (pessimistic transactions). Kept apart so engine.ts only wires it (as compaction-host.ts).
 */
import type { Engine } from './engine.js';
import type { InternalIterator } from '../base/internal-iterator.js';
import { MAX_SEQUENCE } from '../base/internal-key.js';
import { DatabaseClosedError, TransactionConflictError } from '../errors.js';
import { StrataIterator, type IteratorMode } from '../iterator/strata-iterator.js';
import { buildIteratorSource } from './iterator-source.js';
import type { TransactionHost, TxIteratorOptions } from '../mvcc/transaction.js';
import { LockTable } from '../mvcc/lock-table.js';

export function makeTransactionHost(db: Engine): TransactionHost {
  return {
    takeSnapshot: () => {
      const snap = db.snapshot();
      db.writes.recordInFlight();
      return snap;
    },
    readAt: (key, seq) => db.get(key, seq),
    openSource: (readSeq, prefix) => {
      const version = db.versions.current();
      version.ref();
      const source = buildIteratorSource(db.memtables.forRead(), version, db.tables, readSeq, prefix);
      return { iter: source.build(), release: () => source.release() };
    },
    makeIterator: <T>(build: () => InternalIterator, release: () => void, o: TxIteratorOptions, mode: IteratorMode, signal?: AbortSignal): T => {
      const it = new StrataIterator<unknown>({ build, release }, { ...o, snapshotSeq: MAX_SEQUENCE }, mode,
        (x) => db.iterators.delete(x));
      db.iterators.add(it);
      return (signal ? it.abortOn(signal) : it) as T;
    },
    submitCommit: (ops, count, userBytes, sync, validate, conflictKeys) => {
      db.checkWritable();
      return db.writes.submit(ops, count, userBytes, sync, { validate, conflictKeys }).then(() => { db.counters.txnCommits++; }, (e: unknown) => {
        if (e instanceof TransactionConflictError) db.counters.txnConflicts++;
        throw e;
      });
    },
    tracker: db.writes.tracker,
    locks: new LockTable(),
    get maxKeySize() { return db.o.maxKeySize; },
    get maxValueSize() { return db.o.maxValueSize; },
    checkOpen: () => { if (db.isClosed) throw new DatabaseClosedError(); },
  };
}
