/**
 * Readers beside a live writer PROCESS (README "Readers beside a writer"): the live-writer child
 * writes continuously with a tiny write buffer and tiny tables, so flushes and compactions replace
 * tables (and delete WALs) all the time, while this process repeatedly:
 * - opens read-only (maxOpenFiles 16, fewer than the tables: the view must not rest on the table
 *   cache), waits until the writer has deleted at least one table of the view, then reads the view
 *   whole: every writer's keys form a gap-free prefix covering every write acknowledged before the
 *   open, and every value is the one the writer wrote;
 * - keeps an iterator open across tryCatchUpWithPrimary(), which must then show every write
 *   acknowledged before it, while the old iterator finishes on its old view;
 * - runs `stratadb check` (the CLI): healthy (exit 0) or "try again" (75), never DAMAGED.
 * ERR_BUSY (retryable) is allowed on open and catch-up and counted; ERR_CORRUPTION or ERR_IO never.
 * Bounded by time and rounds. The child is dist/test/support/live-writer.js (npm run build first).
 */
import { fork } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DB, isStrataError, type Options } from '../../src/index.js';
import { shmTempDir } from '../support/shm-tmpdir.js';
import { makeRng, testSeed } from '../support/rng.js';
import { valueFor } from '../support/crash-values.js';
import { runCli } from '../tools/cli-helpers.js';

const CHILD = fileURLToPath(new URL('../../dist/test/support/live-writer.js', import.meta.url));
const CHILD_OPTIONS: Options = {
  targetFileSize: 8 * 1024, maxBytesForLevelBase: 32 * 1024, levelMultiplier: 4, numLevels: 5,
  level0CompactionTrigger: 2, compactionExecutor: 'worker', maxBackgroundJobs: 3,
};
/** Rounds run at least MIN_LOOP_MS and until the goals below are met, never past MAX_LOOP_MS. */
const MIN_LOOP_MS = 4_000;
const MAX_LOOP_MS = 11_000;
const MAX_ROUNDS = 25;

const tables = (dir: string): string[] => readdirSync(dir).filter((n) => n.endsWith('.sst'));
const pad = (i: number): string => String(i).padStart(8, '0');

/** Reads the whole view: gap-free prefixes per writer, at least `acked`, every value the writer's. */
async function checkView(db: DB, acked: ReadonlyMap<number, number>): Promise<number> {
  const counts = new Map<number, number>();
  let n = 0;
  for await (const [k, v] of db.iterator()) {
    const m = /^([wc])(\d+)-(\d{8})$/.exec(k.toString());
    if (!m) throw new Error(`unexpected key ${k.toString()}`);
    const w = Number(m[2]), i = Number(m[3]);
    // Plain checks, not expect(), per entry: the scan is the hot loop of this test.
    if (m[1] === 'w') {
      if (i !== (counts.get(w) ?? 0)) throw new Error(`gap before ${k.toString()}: expected index ${counts.get(w) ?? 0}`);
      counts.set(w, i + 1);
      if (!v.equals(valueFor(w, i, v.length))) throw new Error(`wrong value for ${k.toString()}`);
    } else if (!v.equals(valueFor(w, i, 7))) {
      throw new Error(`wrong value for ${k.toString()}`);
    }
    n++;
  }
  for (const [w, i] of acked) {
    expect(counts.get(w) ?? 0, `writer ${w}: acknowledged up to ${i}`).toBeGreaterThan(i);
    const last = await db.get(`w${w}-${pad(i)}`);
    expect(last?.equals(valueFor(w, i, last.length))).toBe(true);
  }
  return n;
}

/** Waits (polling the directory) until one of `held` is gone, or `ms` pass. */
async function untilOneDeleted(dir: string, held: readonly string[], ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    const now = new Set(tables(dir));
    if (held.some((n) => !now.has(n))) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
}

function busy(e: unknown): boolean {
  return isStrataError(e, 'ERR_BUSY');
}

describe('readers beside a live writer process', () => {
  it('read-only opens, reads, catch-ups and stratadb check never fail for a race', async () => {
    expect(existsSync(CHILD), `${CHILD} missing: run npm run build`).toBe(true);
    const seed = testSeed();
    const rng = makeRng(seed);
    const dir = await shmTempDir();
    const child = fork(CHILD, [dir, String(seed), String(16 * 1024), JSON.stringify(CHILD_OPTIONS)],
      { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const acked = new Map<number, number>();
    let childError: string | undefined;
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const ready = new Promise<void>((resolve, reject) => {
      child.on('message', (m: { ready?: boolean; w?: number; i?: number; error?: string }) => {
        if (m.ready) resolve();
        else if (m.error) childError = m.error;
        else if (m.w !== undefined && m.i !== undefined && m.i > (acked.get(m.w) ?? -1)) acked.set(m.w, m.i);
      });
      child.on('error', reject);
      void exited.then(() => reject(new Error(`writer exited early: ${childError ?? ''}\n${stderr}`)));
    });
    const stats = { opens: 0, openBusy: 0, heldDeleted: 0, catchUps: 0, catchUpBusy: 0, checks: [] as number[] };
    try {
      await ready;
      // Some tables first, so the first views already have something to lose.
      while (tables(dir).length < 4 && !childError) await new Promise((r) => setTimeout(r, 10));

      const checks = (async () => {
        for (let i = 0; i < 2; i++) {
          const r = await runCli(['check', dir]);
          stats.checks.push(r.code);
          expect(r.stdout, `check run ${i}: ${r.stdout}${r.stderr}`).not.toContain('DAMAGED');
          expect([0, 75], `check run ${i} exit ${r.code}: ${r.stdout}${r.stderr}`).toContain(r.code);
        }
      })();

      const start = Date.now();
      const goalsMet = (): boolean => stats.opens >= 3 && stats.heldDeleted >= 2 && stats.catchUps >= 1;
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const elapsed = Date.now() - start;
        if (elapsed > MAX_LOOP_MS || (elapsed > MIN_LOOP_MS && goalsMet())) break;
        const before = new Map(acked);
        let db: DB;
        try {
          db = await DB.open(dir, { readOnly: true, maxOpenFiles: 16, cacheSize: 64 * 1024 });
        } catch (e) {
          if (busy(e)) { stats.openBusy++; continue; }
          throw e;
        }
        stats.opens++;
        try {
          const held = tables(dir);
          if (await untilOneDeleted(dir, held, 1_500)) stats.heldDeleted++;
          await checkView(db, before);
          // An iterator across a catch-up keeps the view it was opened on.
          const it = db.iterator({ gte: 'w0-', lt: 'w0.' });
          const firstPart = 1 + rng.int(20);
          let seen = 0;
          const check = (e: [Buffer, Buffer]): void => {
            expect(e[0].toString()).toBe(`w0-${pad(seen)}`);
            expect(e[1].equals(valueFor(0, seen, e[1].length))).toBe(true);
            seen++;
          };
          for (let j = 0; j < firstPart; j++) {
            const r = await it.next();
            if (!r.done) check(r.value);
          }
          const beforeCatchUp = new Map(acked);
          try {
            await db.tryCatchUpWithPrimary();
            stats.catchUps++;
            for (const [w, i] of beforeCatchUp) {
              const v = await db.get(`w${w}-${pad(i)}`);
              expect(v?.equals(valueFor(w, i, v.length)), `after catch-up: w${w}-${pad(i)}`).toBe(true);
            }
          } catch (e) {
            if (!busy(e)) throw e;
            stats.catchUpBusy++;
          }
          for (let r = await it.next(); !r.done; r = await it.next()) check(r.value);
          await it.close();
          expect(seen).toBeGreaterThan(before.get(0) ?? -1);
        } finally {
          await db.close();
        }
      }
      await checks;
      const log = readFileSync(join(dir, 'LOG'), 'utf8');
      const compactions = log.split('\n').filter((l) => l.includes(' compaction done: L')).length;
      // Not vacuous: reads succeeded, on views the writer really pulled tables out from under.
      expect(stats.opens, JSON.stringify(stats)).toBeGreaterThanOrEqual(3);
      expect(stats.heldDeleted, JSON.stringify(stats)).toBeGreaterThanOrEqual(2);
      expect(stats.catchUps, JSON.stringify(stats)).toBeGreaterThanOrEqual(1);
      expect(compactions).toBeGreaterThan(0);
      expect(childError).toBeUndefined();
    } catch (e) {
      (e as Error).message = `[readers beside a writer] SEED=${seed} ${JSON.stringify(stats)}: ${(e as Error).message}`;
      throw e;
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  }, 20_000);
});
