/**
 * The torture workload, shared by the in-process runs (test/torture/latency-power-cut.test.ts) and
 * the SIGKILL child (torture-writer.ts): concurrent writer loops of puts, deletes, range deletes,
 * batches (some holding a range delete among their puts, some large: 40 puts of ~120 B, past half the
 * write buffer of every torture run, so they bypass the memtable as flushable batches) and small
 * transactions, and a maintenance loop calling flush(), compactRange(), rotateKey(), checkpoint()
 * and backup() beside them. Public API only.
 *
 * Contract:
 * - The content of the write with submit index i is a pure function of (seed, i) (writeFor), so a
 *   parent process can rebuild what a killed child submitted from the indexes alone. Only a
 *   transaction's sync flag comes from the writer (it is fixed when the transaction begins); the
 *   sink is told the spec actually submitted.
 * - Values are unique per write and operation (`v<index>.<op>|` then filler), transactions are
 *   put-only: what RecoveryOracle needs.
 * - The sink's submit() is called synchronously right before the write is submitted (the write
 *   queue is FIFO, so submit order is commit order) and gets the write's promise.
 * - Timing choices (which writer begins a transaction, maintenance order, pauses) come from the
 *   loop's own seeded Rng; with latency injected, completions still depend on timers.
 */
import { type DB, WriteBatch, type Transaction } from '../../src/index.js';
import { makeRng, type Rng } from './rng.js';
import type { OracleOp, WriteSpec } from './recovery-oracle.js';

export interface WorkloadShape {
  /** Key space (small: overwrites and transaction conflicts). */
  keys: number;
  /** Share (0..100) of writes asking for sync. */
  syncPercent: number;
  /**
   * Share (0..100) of writes that become a range delete (a put or delete replaced by one; a batch
   * gains one among its puts). Drawn from a stream of its own: at 0 the workload is the one that
   * existed before range deletes, which the pinned seeds of the torture runs replay.
   */
  rangeDeletePercent: number;
  /**
   * Share (0..100) of batches made large (LARGE_BATCH_OPS puts, ~4.9 KB: src/memtable/flushable-batch.ts),
   * drawn from a stream of its own like range deletes.
   */
  largeBatchPercent: number;
}

/** Puts in a large batch: with ~120 B values, past half of the 8 KiB write buffer the torture runs use. */
const LARGE_BATCH_OPS = 40;

export const DEFAULT_SHAPE: WorkloadShape = { keys: 48, syncPercent: 25, rangeDeletePercent: 10, largeBatchPercent: 12 };

/** The shape pinned seeds were found with (no range deletes, no large batches), so their interleavings replay. */
export const PINNED_SHAPE: WorkloadShape = { ...DEFAULT_SHAPE, rangeDeletePercent: 0, largeBatchPercent: 0 };

/** The write with submit index `index` under `seed`. */
export function writeFor(seed: number, index: number, shape: WorkloadShape = DEFAULT_SHAPE): WriteSpec {
  const rng = makeRng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const key = (): string => `k${String(rng.int(shape.keys)).padStart(3, '0')}`;
  let op = 0;
  const value = (): string => `v${index}.${op++}|${'abcdefghijklmnop'.slice(0, rng.int(16)).repeat(1 + rng.int(8))}`;
  const sync = rng.int(100) < shape.syncPercent;
  const r = rng.int(100);
  let spec: WriteSpec;
  if (r < 40) spec = { kind: 'put', ops: [{ key: key(), value: value() }], sync };
  else if (r < 55) spec = { kind: 'delete', ops: [{ key: key(), value: undefined }], sync };
  else if (r < 85) {
    const ops = Array.from({ length: 2 + rng.int(4) }, () => (rng.int(4) === 0 ? { key: key(), value: undefined } : { key: key(), value: value() }));
    spec = { kind: 'batch', ops, sync };
  } else spec = { kind: 'txn', ops: Array.from({ length: 1 + rng.int(3) }, () => ({ key: key(), value: value() })), sync };
  return withRangeDelete(seed, index, shape, largeBatch(seed, index, shape, spec));
}

/** Makes some batches large (see WorkloadShape.largeBatchPercent); values stay unique per write and op. */
function largeBatch(seed: number, index: number, shape: WorkloadShape, spec: WriteSpec): WriteSpec {
  if (shape.largeBatchPercent <= 0 || spec.kind !== 'batch') return spec;
  const rng = makeRng((seed ^ Math.imul(index + 1, 0xc2b2ae35) ^ 0x1a29e) >>> 0);
  if (rng.int(100) >= shape.largeBatchPercent) return spec;
  const ops = Array.from({ length: LARGE_BATCH_OPS }, (_, op) => ({
    key: `k${String(rng.int(shape.keys)).padStart(3, '0')}`, value: `v${index}.${op}|${'L'.repeat(110)}`,
  }));
  return { ...spec, ops };
}

/** Turns some writes into (or gives some batches) a range delete of one key, a few, or all of them. */
function withRangeDelete(seed: number, index: number, shape: WorkloadShape, spec: WriteSpec): WriteSpec {
  if (shape.rangeDeletePercent <= 0 || spec.kind === 'txn') return spec;
  const rng = makeRng((seed ^ Math.imul(index + 1, 0x85ebca77) ^ 0x7ade1) >>> 0);
  if (rng.int(100) >= shape.rangeDeletePercent) return spec;
  const at = (i: number): string => `k${String(i).padStart(3, '0')}`;
  const start = rng.int(shape.keys);
  const c = rng.int(10);
  const span = c < 4 ? 1 : c < 9 ? 2 + rng.int(9) : shape.keys;
  const op: OracleOp = c === 9 ? { key: 'k', value: undefined, end: 'k~' }
    : { key: at(start), value: undefined, end: start + span >= shape.keys ? 'k~' : at(start + span) };
  if (spec.kind !== 'batch') return { kind: 'deleteRange', ops: [op], sync: spec.sync };
  const ops = spec.ops.slice();
  ops.splice(rng.int(ops.length + 1), 0, op);
  return { ...spec, ops };
}

export interface WriteSink {
  /** The next submit index (the sink counts; called once per write, right before submit()). */
  nextIndex(): number;
  /** Called synchronously as the write is submitted, with its promise. */
  submit(index: number, spec: WriteSpec, p: Promise<void>): void;
}

/**
 * One writer: `count` writes (Infinity: until `stopped()`), awaiting each. A transaction conflict is
 * the sink's business (the promise rejects with ERR_TXN_CONFLICT); any other rejection ends the loop
 * with that error.
 */
export async function writerLoop(db: DB, seed: number, rng: Rng, sink: WriteSink, count: number,
  stopped: () => boolean = () => false, shape: WorkloadShape = DEFAULT_SHAPE): Promise<void> {
  for (let n = 0; n < count && !stopped(); n++) {
    // A transaction begun early (a read first) has a window in which others can make it conflict.
    let tx: Transaction | undefined;
    if (rng.int(3) === 0) {
      tx = db.beginTransaction({ sync: rng.int(100) < shape.syncPercent });
      await tx.get(`k${String(rng.int(shape.keys)).padStart(3, '0')}`);
    }
    const index = sink.nextIndex();
    const spec = writeFor(seed, index, shape);
    let p: Promise<void>;
    if (spec.kind === 'txn') {
      tx ??= db.beginTransaction({ sync: spec.sync });
      for (const o of spec.ops) tx.put(o.key, o.value!);
      spec.sync = tx.sync;
      p = tx.commit();
    } else {
      tx?.rollback();
      const o0 = spec.ops[0]!;
      if (spec.kind === 'put') p = db.put(o0.key, o0.value!, { sync: spec.sync });
      else if (spec.kind === 'delete') p = db.delete(o0.key, { sync: spec.sync });
      else if (spec.kind === 'deleteRange') p = db.deleteRange(o0.key, o0.end!, { sync: spec.sync });
      else {
        const b = new WriteBatch();
        for (const o of spec.ops) {
          if (o.end !== undefined) b.deleteRange(o.key, o.end);
          else if (o.value === undefined) b.delete(o.key);
          else b.put(o.key, o.value);
        }
        p = db.write(b, { sync: spec.sync });
      }
    }
    sink.submit(index, spec, p);
    try {
      await p;
    } catch (e) {
      if ((e as { code?: string }).code !== 'ERR_TXN_CONFLICT') throw e;
    }
  }
}

export type MaintenanceOp = 'flush' | 'compactRange' | 'rotateKey' | 'checkpoint' | 'backup';

export interface MaintenanceOptions {
  /** Encrypted databases: the provider's key ids to alternate between before each rotateKey(). */
  rotate?: { setCurrent(id: string): void; ids: readonly string[] };
  /** A fresh directory per checkpoint (undefined: no checkpoints). */
  checkpointDir?: (n: number) => string;
  /** Called just before checkpoint(dir) is called, and when it resolved. */
  onCheckpoint?: (dir: string, phase: 'start' | 'done') => void;
  maxCheckpoints?: number;
  /** Backups go here (undefined: no backups). */
  backupDir?: string;
  /** Called after each operation completes. */
  onDone?: (op: MaintenanceOp) => void;
}

/** Application-driven switches and copies beside the writers, until `stopped()`. */
export async function maintenanceLoop(db: DB, rng: Rng, stopped: () => boolean, o: MaintenanceOptions): Promise<void> {
  const ops: MaintenanceOp[] = ['flush', 'flush', 'compactRange'];
  if (o.rotate) ops.push('rotateKey', 'rotateKey');
  if (o.checkpointDir) ops.push('checkpoint');
  if (o.backupDir) ops.push('backup');
  let checkpoints = 0;
  let rotations = 0;
  while (!stopped()) {
    // A pause of a few event-loop turns, so maintenance lands at varied points of the write stream.
    for (let i = rng.int(6); i > 0; i--) await new Promise((r) => setImmediate(r));
    if (stopped()) break;
    const op = rng.pick(ops);
    switch (op) {
      case 'flush': await db.flush(); break;
      case 'compactRange': {
        const a = `k${String(rng.int(48)).padStart(3, '0')}`;
        await (rng.int(2) === 0 ? db.compactRange() : db.compactRange(a, `${a}~`));
        break;
      }
      case 'rotateKey':
        o.rotate!.setCurrent(o.rotate!.ids[++rotations % o.rotate!.ids.length]!);
        await db.rotateKey({ rewrite: rng.int(4) === 0 });
        break;
      case 'checkpoint': {
        if (checkpoints >= (o.maxCheckpoints ?? 2)) continue;
        const dir = o.checkpointDir!(checkpoints++);
        o.onCheckpoint?.(dir, 'start');
        await db.checkpoint(dir);
        o.onCheckpoint?.(dir, 'done');
        break;
      }
      case 'backup': await db.backup(o.backupDir!); break;
    }
    o.onDone?.(op);
  }
}
