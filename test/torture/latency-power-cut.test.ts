/**
 * Lost-write torture under slow I/O, in process: concurrent writers (puts, sync puts, deletes,
 * batches, small transactions) beside application-driven flush(), compactRange(), rotateKey() (on
 * encrypted databases), checkpoint() and backup(), over a MemFileSystem wrapped in a FaultFileSystem
 * with seeded latency (completions late and out of order; a sync durable only when it completes) and
 * a tiny writeBufferSize, so memtable switches overlap slow write groups. Half the runs reuse obsolete
 * WAL files (recycleLogFileNum): a crash then leaves a WAL whose tail is its previous use's records.
 *
 * Large batches (past half the write buffer: flushable batches, held apart from the memtable until
 * flushed) are part of the write mix too; the slice checks that some run took that path.
 * Range deletes (alone, and inside batches among puts) are part of the write mix, and a quarter of the
 * runs each use the tiered and the FIFO compaction style, except for the pinned seeds, which replay
 * the workload they were found with.
 * Per seeded interleaving: at a few seeded fs operations a crash clone is taken (a power cut keeping 0,
 * 50, 100 % or a random share of unsynced bytes, or a process crash keeping everything the kernel
 * had) together with the oracle's crash mark; the workload then runs to its end and the database is
 * closed cleanly (in a third of the runs close() is called under load, writers and maintenance still
 * going: ERR_CLOSED then ends them). Checked with RecoveryOracle, each reopened without latency: the clean close (every
 * acknowledged write), the crash clone (per its kind) and each checkpoint (every write acknowledged
 * before checkpoint() was called).
 * Default suite: a short slice. TORTURE=1 (npm run test:torture): thousands. SEED=n replays one.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DB, MemFileSystem, staticKeyProvider, type Options } from '../../src/index.js';
import { FaultFileSystem, seededLatency } from '../../src/fs/fault-fs.js';
import { makeRng } from '../support/rng.js';
import { RecoveryOracle, readState, type CrashMark, type StopKind } from '../support/recovery-oracle.js';
import { DEFAULT_SHAPE, PINNED_SHAPE, maintenanceLoop, writerLoop, type WriteSink } from '../support/torture-workload.js';

import { TORTURE, failureLine, newTotals, runCount, seedsFor, summary, type Totals } from '../support/torture-runs.js';

const FILE = 'test/torture/latency-power-cut.test.ts';
const DIR = '/db';
const KEYS = { k1: 'a'.repeat(64), k2: 'b'.repeat(64) };
const CRASHES_PER_RUN = 4;
const WAL_REMOVE_CLONES = 10;
/**
 * Seeds that found lost writes (with turnsPerMs the completion order replays): a sync group's
 * fdatasync outlasting a memtable switch started by rotateKey()/flush(), its entries applied to the
 * new memtable while its record sits in the old WAL, which is deleted after the old memtable's flush.
 * 1693835456: the same race seen as EBADF (the old WAL closed under the group's pending fdatasync).
 */
const PINNED = [1693534534, 1693835456];

type CrashMode = 0 | 50 | 100 | 'random' | 'process';

/** Large batches that bypassed the memtable, over every run (from each run's LOG). */
let flushableBatches = 0;

interface Crash { fs: MemFileSystem; mark: CrashMark; mode: CrashMode; where: string }

function cloneFor(mem: MemFileSystem, mode: CrashMode, rng: () => number): MemFileSystem {
  if (mode === 'process') return mem.crashClone({ keepUnsyncedPercent: 100, keepUnsyncedEntries: true });
  if (mode === 'random') return mem.crashClone({ keepUnsyncedPercent: 100, rng });
  return mem.crashClone({ keepUnsyncedPercent: mode });
}

/** Opens `dir` on `fs` without latency, checks it with the oracle; returns a failure message or undefined. */
async function verify(what: string, fs: MemFileSystem, dir: string, options: Options, oracle: RecoveryOracle,
  mark: CrashMark, stop: StopKind, totals: Totals): Promise<string | undefined> {
  let db: DB;
  try {
    db = await DB.open(dir, { ...options, fs });
  } catch (e) {
    totals.lost++;
    return `${what}: open failed: ${(e as Error).message}`;
  }
  try {
    const v = oracle.check(await readState(db), mark, stop);
    totals.checked += v.mustSurvive;
    totals.lost += v.lost;
    return v.ok ? undefined : `${what}: ${v.message}`;
  } finally {
    await db.close();
  }
}

/** One seeded interleaving; returns the failures found (empty when all checks pass). */
async function interleaving(seed: number, totals: Totals): Promise<string[]> {
  const rng = makeRng(seed);
  const mem = new MemFileSystem();
  const provider = rng.int(3) === 0 ? staticKeyProvider(KEYS, 'k1') : undefined;
  // Half the runs reuse obsolete WALs (a stream of its own, so the pinned seeds replay as found).
  const recycle = makeRng(seed ^ 0x5ec1).int(2) === 0 ? { recycleLogFileNum: 1 + makeRng(seed ^ 0x5ec2).int(3) } : {};
  // Compaction style (a stream of its own; the pinned seeds keep the leveled style they were found in):
  // leveled half the time, tiered and FIFO (intra-L0 merges on, its 1 GiB cap never reached, so nothing
  // is dropped and every acknowledged write must survive) a quarter each.
  const styleDraw = PINNED.includes(seed) ? 0 : makeRng(seed ^ 0x57e1).int(4);
  const style: Options = styleDraw === 2 ? { compactionStyle: 'tiered' }
    : styleDraw === 3 ? { compactionStyle: 'fifo', fifoAllowCompaction: true } : {};
  const options: Options = {
    writeBufferSize: 4096, blockSize: 512, level0CompactionTrigger: 2, compression: 'none',
    ...(provider ? { encryption: { keyProvider: provider } } : {}),
    ...recycle,
    ...style,
  };
  const oracle = new RecoveryOracle();
  const shape = PINNED.includes(seed) ? PINNED_SHAPE : DEFAULT_SHAPE;
  // Crash points: fs operation counts, each a clone of its own kind (one workload, several crashes).
  const crashAt = Array.from({ length: CRASHES_PER_RUN }, () => 10 + rng.int(500)).sort((a, b) => a - b);
  let armed = false;
  let ops = 0;
  const crashes: Crash[] = [];
  let next = 0;
  let afterWalRemove = 0;
  let walRemoveClones = 0;
  const fs = new FaultFileSystem(mem, {
    injector: (op) => {
      if (!armed) return undefined;
      ops++;
      const take = (why: string): void => {
        const mode = rng.pick<CrashMode>([0, 50, 100, 'random', 'process']);
        crashes.push({ fs: cloneFor(mem, mode, () => rng.next()), mark: oracle.mark(), mode, where: `${why}before ${op.kind} ${op.path}` });
      };
      while (next < crashAt.length && ops >= crashAt[next]!) { next++; take(''); }
      // The moments right after a WAL is deleted are where a write group that lives only in memory
      // is lost: a few ops later (a delayed remove has landed by then), clone again.
      if (afterWalRemove > 0 && --afterWalRemove === 0) take('after a WAL removal, ');
      if (op.kind === 'remove' && op.path.endsWith('.log') && afterWalRemove === 0 &&
        walRemoveClones < WAL_REMOVE_CLONES && rng.int(2) === 0) {
        walRemoveClones++;
        afterWalRemove = 2 + rng.int(6);
      }
      return undefined;
    },
    // Long tails often (1 in 8): a write group's sync outlasting a whole memtable switch is the race.
    latency: seededLatency(seed ^ 0x1a7e, { probability: 0.6, maxMs: 15, tailEvery: 8 }),
    // Virtual time: the same seed replays the same completion order (as far as the engine's own
    // timers allow), and a run does not wait for real milliseconds.
    turnsPerMs: 2,
  });
  const db = await DB.open(DIR, { ...options, fs });
  armed = true;
  const sink: WriteSink = {
    nextIndex: () => oracle.writes.length,
    submit: (index, spec, p) => {
      const got = oracle.record(spec);
      if (got !== index) throw new Error(`submit index ${got}, expected ${index}`);
      void oracle.track(index, p).then(() => {
        // close() under load: called while writers and maintenance are still going.
        if (closeAtAcks !== undefined && closing === undefined && oracle.acked >= closeAtAcks) closing = db.close();
      });
    },
  };
  const checkpoints: { dir: string; mark: CrashMark }[] = [];
  const started = new Map<string, number>();
  let stopped = false;
  const writers = 3;
  const perWriter = 20 + rng.int(30);
  const closeAtAcks = rng.int(3) === 0 ? 5 + rng.int(writers * perWriter) : undefined;
  let closing: Promise<void> | undefined;
  /** After close() under load, ERR_CLOSED is the expected end of a loop. */
  const closedEnd = (e: unknown): void => {
    if (closing === undefined || (e as { code?: string }).code !== 'ERR_CLOSED') throw e;
  };
  const writing = Promise.all(Array.from({ length: writers }, (_, w) =>
    writerLoop(db, seed, makeRng(seed + 1 + w), sink, perWriter, () => false, shape).catch(closedEnd)));
  const maintenance = maintenanceLoop(db, makeRng(seed + 100), () => stopped, {
    ...(provider ? { rotate: { setCurrent: (id: string) => provider.setCurrent(id), ids: ['k1', 'k2'] } } : {}),
    checkpointDir: (n) => `/cp-${n}`,
    // Every write acknowledged before checkpoint() was called must be in it; writes submitted before
    // it resolved may be.
    onCheckpoint: (dir, phase) => {
      if (phase === 'start') started.set(dir, oracle.mark().acked);
      else checkpoints.push({ dir, mark: { acked: started.get(dir)!, submitted: oracle.mark().submitted } });
    },
    maxCheckpoints: 1,
    backupDir: rng.int(2) === 0 ? '/bk' : undefined,
  }).catch(closedEnd);
  const failures: string[] = [];
  try {
    await writing;
  } catch (e) {
    failures.push(`a writer failed: ${(e as Error).message}`);
  }
  stopped = true;
  // The writers are done: a process crash now must keep every acknowledged write, wherever it lives.
  if (closing === undefined) crashes.push({ fs: cloneFor(mem, 'process', () => 0), mark: oracle.mark(), mode: 'process', where: 'when the writers were done, ' });
  try {
    await maintenance;
  } catch (e) {
    failures.push(`maintenance failed: ${(e as Error).message}`);
  }
  armed = false;
  try {
    await (closing ?? db.close());
  } catch (e) {
    failures.push(`close failed: ${(e as Error).message}`);
  }
  await fs.whenUndelayed();
  const info = await mem.readFile(`${DIR}/LOG`).catch(() => new Uint8Array(0));
  flushableBatches += Buffer.from(info).toString().split('\n').filter((l) => l.includes('flushable batch of')).length;
  for (const w of oracle.failures()) if (closing === undefined || (w.error as { code?: string })?.code !== 'ERR_CLOSED') failures.push(`write ${w.index} rejected: ${(w.error as Error)?.message}`);
  const tag = `${provider ? 'encrypted, ' : ''}${closeAtAcks !== undefined ? `close() under load after ${closeAtAcks} acks, ` : ''}${oracle.writes.length} writes`;
  const check = async (what: string, f: MemFileSystem, dir: string, mark: CrashMark, stop: StopKind): Promise<void> => {
    const m = await verify(`${what} (${tag})`, f, dir, options, oracle, mark, stop, totals);
    if (m) failures.push(m);
  };
  await check('clean close', mem, DIR, oracle.mark(), 'clean');
  for (const crash of crashes) {
    totals.kills++;
    const kind = crash.mode === 'process' ? 'process crash' : `power cut keeping ${crash.mode}${crash.mode === 'random' ? '' : '%'} of unsynced bytes`;
    await check(`${kind} ${crash.where}`, crash.fs, DIR, crash.mark, crash.mode === 'process' ? 'process' : 'power');
  }
  for (const c of checkpoints) await check(`checkpoint ${c.dir}`, mem, c.dir, c.mark, 'process');
  totals.runs++;
  return failures;
}

describe('lost-write torture under seeded latency (in process: power cuts, process crashes, clean closes)', () => {
  const totals = newTotals();
  afterAll(() => { console.log(summary('latency-power-cut', totals)); });

  const runs = runCount(12, 2000);
  it(`${runs} seeded interleavings${process.env['SEED'] ? '' : ` and ${PINNED.length} pinned`}: every write that must survive does, as a prefix of commit order`, async () => {
    for (const seed of seedsFor(runs, PINNED)) {
      let found: string[];
      try {
        found = await interleaving(seed, totals);
      } catch (e) {
        found = [`threw: ${(e as Error).stack ?? e}`];
      }
      if (found.length > 0) totals.failures.push(failureLine(FILE, seed, found.join('\n  ')));
    }
    expect(totals.failures, `${totals.failures.length} of ${runs} interleavings failed:\n${totals.failures.join('\n')}`).toEqual([]);
    // The workload reaches the flushable-batch path (one seed alone may draw no large batch).
    if (runs >= 12) expect(flushableBatches).toBeGreaterThan(0);
  }, TORTURE ? 6 * 3600_000 : 120_000);
});
