/**
 * SIGKILL while compactions run (issue #4 "Crash"): the crash-writer child runs with compaction-heavy
 * options (tiny write buffer, target file size and level base, level0CompactionTrigger 2, compactions
 * in worker threads on the real file system, split into subcompactions, with a compaction filter loaded
 * by the workers), and the parent kills it, in some rounds once the child
 * has finished a compaction and its LOG shows another in flight with an unfinished output on disk
 * (progress-based, so a loaded machine does not make the kill land before any compaction), in others
 * at a random moment. After each kill:
 * - every acknowledged write is present with its value, each writer's keys are a gap-free prefix and
 *   batches are atomic (as in process-crash.test.ts);
 * - no orphan files: right after open, every *.sst in the directory is in the current version
 *   (inspect.manifest) or is the output of the flush the open itself started, and no *.dbtmp remains;
 *   after close the directory holds exactly the version's tables.
 * The open that checks uses options under which nothing compacts, so what it sees is what open left.
 * The same rounds run in the tiered style (merges of sorted runs across levels, L0 outputs among L0
 * tables, middle-level inputs) and in FIFO with intra-L0 merges, each checked with an open of its own
 * style under which nothing compacts.
 * The child is the compiled dist/test/support/crash-writer.js (npm test builds first). The directory is
 * on tmpfs when available: a SIGKILL keeps the page cache, so nothing is lost by skipping real fsyncs.
 */
import { describe, expect, it } from 'vitest';
import { fork } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DB, inspect, type Options } from '../../src/index.js';
import { shmTempDir } from '../support/shm-tmpdir.js';
import { makeRng, testSeed } from '../support/rng.js';
import { valueFor } from '../support/crash-values.js';

const CHILD = fileURLToPath(new URL('../../dist/test/support/crash-writer.js', import.meta.url));
const WRITERS = 4;

const CHILD_OPTIONS: Options = {
  targetFileSize: 4 * 1024, maxBytesForLevelBase: 8 * 1024, levelMultiplier: 3, numLevels: 5,
  level0CompactionTrigger: 2, level0SlowdownTrigger: 8, level0StopTrigger: 16, compactionExecutor: 'worker',
  maxBackgroundJobs: 3,
  // Split compactions (pieces in parallel workers) and a filter the workers load; it changes only keys
  // starting with 'lvl', which the writers never use, so every acknowledged value must read back as written.
  maxSubcompactions: 2,
  compactionFilter: { module: fileURLToPath(new URL('../support/compaction-filters.mjs', import.meta.url)), export: 'tagLevel' },
};

/** The tiered style, compaction-heavy: runs merge constantly, and data reaches the last level. */
const TIERED_CHILD_OPTIONS: Options = {
  compactionStyle: 'tiered', targetFileSize: 4 * 1024, numLevels: 5, level0CompactionTrigger: 2,
  level0SlowdownTrigger: 8, level0StopTrigger: 16, compactionExecutor: 'worker', maxBackgroundJobs: 3,
  tieredMaxSizeAmplificationPercent: 50,
};

/** FIFO with intra-L0 merges (its only compactions); the size cap is far above what is written. */
const FIFO_CHILD_OPTIONS: Options = {
  compactionStyle: 'fifo', fifoAllowCompaction: true, targetFileSize: 64 * 1024, level0CompactionTrigger: 2,
  compactionExecutor: 'worker', maxBackgroundJobs: 3,
};

/** Options under which the checking open starts no compaction (only the recovery flush). */
const QUIET_OPTIONS: Options = {
  level0CompactionTrigger: 1000, level0SlowdownTrigger: 1000, level0StopTrigger: 1000,
  maxBytesForLevelBase: 2 ** 40, compactionExecutor: 'inline',
};

/** From the child's LOG (written synchronously): non-trivial compactions in flight, and finished. */
function compactionLog(dir: string): { inFlight: number; done: number } {
  let text: string;
  try { text = readFileSync(join(dir, 'LOG'), 'utf8'); } catch { return { inFlight: 0, done: 0 }; }
  let inFlight = 0;
  let done = 0;
  for (const line of text.split('\n')) {
    if (line.includes(' compaction start: ') && !line.includes('(trivial move)')) inFlight++;
    else if (line.includes(' compaction done: L')) { inFlight--; done++; }
    else if (line.includes(' compaction failed')) inFlight--;
  }
  return { inFlight, done };
}

async function runOnce(
  dir: string, seed: number, killAfterMs: number, watchCompaction: boolean, childOptions: Options,
): Promise<Map<number, number>> {
  const child = fork(CHILD, [dir, String(seed), String(WRITERS), 'mixed', String(8 * 1024), JSON.stringify(childOptions)],
    { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const acked = new Map<number, number>();
  let childError: string | undefined;
  await new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const started = Date.now();
    // Watching: poll until this child has finished a compaction (progress, whatever the machine's
    // load) and has another in flight with an output the version does not hold yet; then kill.
    // After 20 s, kill anyway (the assertions below then report the missing progress).
    const watch = (): void => {
      void (async () => {
        const log = compactionLog(dir);
        const ready = log.done > 0 && log.inFlight > 0 && (await unlistedTables(dir)).length > 0;
        if (ready || Date.now() - started > 20_000) child.kill('SIGKILL');
        else timer = setTimeout(watch, 2);
      })().catch(reject);
    };
    child.on('message', (m: { ready?: boolean; w?: number; i?: number; error?: string }) => {
      if (m.ready) {
        timer = setTimeout(watchCompaction ? watch : () => child.kill('SIGKILL'), killAfterMs);
      } else if (m.error) {
        childError = m.error;
      } else if (m.w !== undefined && m.i !== undefined) {
        const prev = acked.get(m.w) ?? -1;
        if (m.i > prev) acked.set(m.w, m.i);
      }
    });
    child.on('exit', () => { if (timer) clearTimeout(timer); resolve(); });
    child.on('error', reject);
  });
  if (childError) throw new Error(`child failed: ${childError}\n${stderr}`);
  return acked;
}

async function liveTables(dir: string): Promise<Set<string>> {
  const m = await inspect.manifest(dir);
  const out = new Set<string>();
  for (const l of m.levels) for (const f of l.files) out.add(`${String(f.fileNumber).padStart(6, '0')}.sst`);
  return out;
}

const tables = (dir: string): string[] => readdirSync(dir).filter((n) => n.endsWith('.sst'));

/** Tables in the directory that the current version does not hold (outputs in progress, or orphans). */
async function unlistedTables(dir: string): Promise<string[]> {
  const names = tables(dir);
  const live = await liveTables(dir).catch(() => new Set<string>(names));
  return names.filter((n) => !live.has(n));
}

async function checkData(db: DB, acked: Map<number, number>): Promise<number> {
  let total = 0;
  for (let w = 0; w < WRITERS; w++) {
    const keys: string[] = [];
    for await (const k of db.keys({ gte: `w${w}-`, lt: `w${w}.` })) keys.push(k.toString());
    keys.forEach((k, idx) => expect(k).toBe(`w${w}-${String(idx).padStart(8, '0')}`));
    expect(keys.length).toBeGreaterThanOrEqual((acked.get(w) ?? -1) + 1);
    for (let i = 0; i < keys.length; i++) {
      const v = await db.get(keys[i]!);
      expect(v).toBeDefined();
      expect(v!.equals(valueFor(w, i, v!.length))).toBe(true);
      const companion = await db.get(`c${w}-${String(i).padStart(8, '0')}`);
      if (companion) expect(companion.equals(valueFor(w, i, 7))).toBe(true);
    }
    total += keys.length;
  }
  return total;
}

/** `minDeepest`: the deepest level data must have reached (FIFO keeps everything in L0). */
async function crashRounds(childOptions: Options, quietOptions: Options, minDeepest = 1): Promise<void> {
  expect(existsSync(CHILD), `${CHILD} missing: run npm run build`).toBe(true);
  const seed = testSeed();
  const rng = makeRng(seed);
  const dir = await shmTempDir();
  let killedMidCompaction = 0;
  let deepest = 0;
  let leftBehind = 0;
  try {
    // Three rounds at least; more (up to 8) while no kill has yet landed mid-compaction with unfinished
    // outputs on disk: where a kill lands depends on the machine's timing, and the cleanup those
    // outputs exercise is the point of the test.
    for (let round = 0; round < 8 && (round < 3 || killedMidCompaction === 0 || leftBehind === 0); round++) {
      const watch = round % 2 === 0;
      const acked = await runOnce(dir, seed + round * 101, watch ? 300 + rng.int(300) : 500 + rng.int(1000), watch, childOptions);
      if (compactionLog(dir).inFlight > 0) killedMidCompaction++;
      leftBehind += (await unlistedTables(dir)).length;

      const db = await DB.open(dir, quietOptions);
      try {
        const afterOpen = tables(dir);
        expect(readdirSync(dir).filter((n) => n.endsWith('.dbtmp'))).toEqual([]);
        await db.flush(); // the recovery flush open started: its output is the only table allowed to be new
        const live = await liveTables(dir);
        const orphans = afterOpen.filter((n) => !live.has(n));
        expect(orphans, `round ${round}: tables left by the killed process`).toEqual([]);
        expect(await checkData(db, acked)).toBeGreaterThan(0);
      } finally {
        await db.close();
      }
      const live = await liveTables(dir);
      expect(tables(dir).sort()).toEqual([...live].sort());
      const m = await inspect.manifest(dir);
      for (const l of m.levels) if (l.files.length > 0) deepest = Math.max(deepest, l.level);
    }
    // The options must really have kept compactions busy: data moved below L0, kills
    // mid-compaction that left unfinished outputs for the open to clean up.
    expect(deepest).toBeGreaterThanOrEqual(minDeepest);
    expect(killedMidCompaction).toBeGreaterThanOrEqual(1);
    expect(leftBehind).toBeGreaterThanOrEqual(1);
  } catch (e) {
    (e as Error).message = `SEED=${seed}: ${(e as Error).message}`;
    throw e;
  }
}

describe('SIGKILL during compaction', () => {
  it('loses no acknowledged write and leaves no orphan file after open', async () => {
    await crashRounds(CHILD_OPTIONS, QUIET_OPTIONS);
  });
  it('tiered style: loses no acknowledged write and leaves no orphan file after open', async () => {
    await crashRounds(TIERED_CHILD_OPTIONS, { ...QUIET_OPTIONS, compactionStyle: 'tiered' });
  });
  it('FIFO style with intra-L0 merges: loses no acknowledged write and leaves no orphan file after open', async () => {
    await crashRounds(FIFO_CHILD_OPTIONS, { ...QUIET_OPTIONS, compactionStyle: 'fifo' }, 0);
  });
});
