/**
 * Scaling and reporting for the torture runs (test/torture/*): the default suite runs a short seeded
 * slice, TORTURE=1 (npm run test:torture) a long one; SEED=n replays exactly one run with that seed.
 * Pinned seeds (ones that found a bug) run first in every mode but replay. Runs keep going past a
 * failure so one report lists every failing seed, each with its replay line.
 */
import { testSeed } from './rng.js';

export const TORTURE = process.env['TORTURE'] === '1';

/** How many runs: `short` by default, `long` (or TORTURE_RUNS) under TORTURE=1, 1 when replaying a SEED. */
export function runCount(short: number, long: number): number {
  if (process.env['SEED']) return 1;
  if (!TORTURE) return short;
  const n = Number(process.env['TORTURE_RUNS'] ?? '');
  return Number.isInteger(n) && n > 0 ? n : long;
}

/**
 * The seeds to run: SEED alone when replaying; else `pinned` (seeds that once found a bug, replayed
 * every time) and then n seeds spread from a fresh base.
 */
export function seedsFor(n: number, pinned: readonly number[] = []): number[] {
  if (process.env['SEED']) return [testSeed()];
  const base = testSeed();
  return [...pinned, ...Array.from({ length: n }, (_, i) => (base + i * 7919) >>> 0)];
}

export interface Totals {
  runs: number;
  kills: number;
  /** Acknowledged writes that had to survive, summed over every check. */
  checked: number;
  /** Acknowledged writes found missing (or checks that found a torn/foreign state). */
  lost: number;
  failures: string[];
}

export function newTotals(): Totals {
  return { runs: 0, kills: 0, checked: 0, lost: 0, failures: [] };
}

export function summary(name: string, t: Totals): string {
  return `[${name}] interleavings run: ${t.runs}, kills: ${t.kills}, acknowledged operations checked: ${t.checked}, ` +
    `lost: ${t.lost}, failing runs: ${t.failures.length}`;
}

/** The failure line for one seed, with the command that replays it. */
export function failureLine(file: string, seed: number, message: string): string {
  return `SEED=${seed}: ${message}\n  replay: SEED=${seed} npx vitest run ${file}`;
}
