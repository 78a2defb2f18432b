/**
 * Concurrent writers for point-in-time tests (backups and checkpoints taken while writes go on).
 * Each writer loops until stopped, committing puts, deletes and small batches over a SHARED key
 * space (so writers overwrite each other and only one commit order explains a given state), every
 * value unique. When a write's promise resolves, it is appended to the CommitLog: resolution order
 * is commit (sequence) order (test/support/db-check.ts "CommitLog"). Sequence numbers count
 * operations, so the state as of sequence S is the CommitLog prefix whose operations add up to S.
 * Waiting is by promise (waitFor), never by sleeping.
 */
import { Buffer } from 'node:buffer';
import { type DB, WriteBatch } from '../../src/index.js';
import { CommitLog, type LoggedOp, hex } from './db-check.js';
import type { Rng } from './rng.js';

export interface Writers {
  readonly log: CommitLog;
  /** Resolves once the log holds at least `n` writes (or rejects with a writer's error). */
  waitFor(n: number): Promise<void>;
  /** Stops the loops and waits for the writes in flight; rethrows a writer's error. */
  stop(): Promise<void>;
}

export function startWriters(db: DB, rng: Rng, options: { writers?: number; keys?: number; valueBytes?: number } = {}): Writers {
  const log = new CommitLog();
  const writers = options.writers ?? 3;
  const keys = options.keys ?? 200;
  const valueBytes = options.valueBytes ?? 100;
  let stopped = false;
  let failure: unknown;
  const waiters: { n: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  const wake = (): void => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      if (failure !== undefined) w.reject(failure);
      else if (log.length >= w.n) w.resolve();
      else continue;
      waiters.splice(i, 1);
    }
  };
  const key = (): Buffer => Buffer.from(`key${String(rng.int(keys)).padStart(5, '0')}`);
  const loops = Array.from({ length: writers }, async (_, w) => {
    try {
      for (let i = 0; !stopped; i++) {
        // Unique and recognisable: writer, counter, then filler.
        const value = Buffer.alloc(valueBytes, 0x61 + w);
        value.write(`w${w}#${i}#`);
        const kind = rng.int(10);
        let ops: LoggedOp[];
        if (kind < 6) {
          const k = key();
          await db.put(k, value);
          ops = [{ key: hex(k), value: hex(value) }];
        } else if (kind < 8) {
          const k = key();
          await db.delete(k);
          ops = [{ key: hex(k), value: undefined }];
        } else {
          const b = new WriteBatch();
          ops = [];
          for (let j = 0, n = 2 + rng.int(3); j < n; j++) {
            const k = key();
            if (rng.int(4) === 0) { b.delete(k); ops.push({ key: hex(k), value: undefined }); }
            else {
              const v = Buffer.concat([value, Buffer.from(`/${j}`)]);
              b.put(k, v);
              ops.push({ key: hex(k), value: hex(v) });
            }
          }
          await db.write(b);
        }
        log.commit({ ops, sync: false });
        wake();
      }
    } catch (e) {
      failure ??= e;
      wake();
    }
  });
  return {
    log,
    waitFor: (n) => new Promise<void>((resolve, reject) => {
      waiters.push({ n, resolve, reject });
      wake();
    }),
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
      if (failure !== undefined) throw failure;
    },
  };
}

/** The number of writes whose operations add up to exactly `sequence`, or -1 when none does. */
export function prefixAtSequence(log: CommitLog, sequence: number): number {
  let ops = 0;
  for (let i = 0; i <= log.writes.length; i++) {
    if (ops === sequence) return i;
    if (ops > sequence || i === log.writes.length) return -1;
    ops += log.writes[i]!.ops.length;
  }
  return -1;
}
