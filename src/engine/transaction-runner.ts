/**
 * db.transaction(): runs fn in a transaction and commits; on a conflict retries up to `retries` more
 * times after a jittered exponential back-off (0..2^attempt ms, capped at 100 ms) so racing retries
 * spread out. Anything else fn throws rolls back and is rethrown. Kept apart from engine.ts, which
 * only wires it (as transaction-host.ts).
 */
import type { Engine } from './engine.js';
import type { Jitter } from '../base/jitter.js';
import { TransactionConflictError } from '../errors.js';
import { Transaction, type TransactionOptions } from '../mvcc/transaction.js';

export async function runTransaction<T>(
  db: Engine, jitter: Jitter, fn: (tx: Transaction) => Promise<T> | T, options: TransactionOptions, retries: number,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    db.checkWritable();
    const tx = new Transaction(db.transactionHost(), options);
    try {
      const result = await fn(tx);
      await tx.commit();
      return result;
    } catch (e) {
      tx.rollback();
      if (!(e instanceof TransactionConflictError) || attempt >= retries) throw e;
      db.counters.txnRetries++;
      await new Promise((r) => setTimeout(r, jitter.next() * Math.min(100, 2 ** attempt)));
    }
  }
}
