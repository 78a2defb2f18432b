/**
 * The scale run's decisions before each step, as pure functions of plain numbers (scale.ts measures,
 * this decides): how many keys a step's user data means, whether the next step fits on the disk, and
 * whether classic-level's next step would end inside its time budget. Each refusal is a sentence the
 * run prints and the report keeps, so that "stopped at 10 GiB" always says why.
 */
import { GiB } from './scale-args.js';

/** Left free on the file system whatever the allowance says, so the rest of the machine keeps working. */
export const DISK_RESERVE = 1 * GiB;
/**
 * A step's predicted time is the previous step's time per byte times this: an LSM tree's load slows
 * as it grows (one more level to compact through, more tables per read), so a linear guess is short.
 */
export const GROWTH_MARGIN = 1.5;

/** Keys whose keys and values add up to (at most) `bytes`. */
export function keysFor(bytes: number, keySize: number, valueSize: number): number {
  return Math.floor(bytes / (keySize + valueSize));
}

export interface PlannedStep {
  index: number;
  /** Cumulative user bytes at the end of the step (the --steps figure). */
  targetBytes: number;
  /** Keys [firstKey, endKey) are written by this step; endKey keys exist after it. */
  firstKey: number;
  endKey: number;
}

export function planSteps(steps: readonly number[], keySize: number, valueSize: number): PlannedStep[] {
  let first = 0;
  return steps.map((targetBytes, index) => {
    const endKey = keysFor(targetBytes, keySize, valueSize);
    const s = { index, targetBytes, firstKey: first, endKey };
    first = endKey;
    return s;
  });
}

export interface DiskFit {
  fits: boolean;
  /** Bytes the step may still add to the file system: allowance x its end user bytes - the directory now. */
  needBytes: number;
  freeBytes: number;
}

/**
 * Whether a step ending at `targetBytes` of user data fits: the database may hold up to
 * `allowance` x its user bytes while compactions write their outputs before deleting their inputs
 * (2 covers an uncompressed tree with a level's worth of compaction in flight), and it already holds
 * `dirBytes`; DISK_RESERVE stays free.
 */
export function diskFit(targetBytes: number, dirBytes: number, freeBytes: number, allowance: number): DiskFit {
  const needBytes = Math.max(0, Math.ceil(targetBytes * allowance) - dirBytes);
  return { fits: needBytes + DISK_RESERVE <= freeBytes, needBytes, freeBytes };
}

/** The line printed (and kept in the report) when a step does not fit. */
export function diskStopLine(engine: string, targetBytes: number, fit: DiskFit, allowance: number): string {
  return `${engine}: stopped before the ${sizeText(targetBytes)} step: it may need ${sizeText(fit.needBytes)} more ` +
    `(${allowance} x ${sizeText(targetBytes)} of user data, less what the database holds now) plus ${sizeText(DISK_RESERVE)} kept free, ` +
    `and the disk has ${sizeText(fit.freeBytes)} free`;
}

/** What the previous step of an engine took: its new user bytes and its child process's wall time. */
export interface StepTime { stepBytes: number; seconds: number }

/**
 * Seconds the next step (adding `stepBytes`) is predicted to take from the previous one, or
 * undefined for the first step (nothing to predict from: it always runs).
 */
export function predictSeconds(prev: StepTime | undefined, stepBytes: number): number | undefined {
  if (!prev || prev.stepBytes <= 0) return undefined;
  return (prev.seconds / prev.stepBytes) * stepBytes * GROWTH_MARGIN;
}

export interface BudgetCheck { runs: boolean; predictedSeconds: number | undefined }

/** A step runs when nothing predicts it, or when the time used plus its prediction stays within the budget. */
export function budgetCheck(prev: StepTime | undefined, stepBytes: number, usedSeconds: number, budgetMin: number): BudgetCheck {
  const predictedSeconds = predictSeconds(prev, stepBytes);
  return { runs: predictedSeconds === undefined || usedSeconds + predictedSeconds <= budgetMin * 60, predictedSeconds };
}

export function budgetStopLine(engine: string, targetBytes: number, check: BudgetCheck, usedSeconds: number, budgetMin: number): string {
  return `${engine}: stopped before the ${sizeText(targetBytes)} step: predicted ${Math.round(check.predictedSeconds ?? 0)} s ` +
    `(the previous step's time per byte x ${GROWTH_MARGIN}) after ${Math.round(usedSeconds)} s used would pass the ${budgetMin} min budget (--budget-min)`;
}

/** 1 GiB, 200 MiB, 1.5 GiB: the unit that keeps the figure at or above 1. */
export function sizeText(bytes: number): string {
  const units: [number, string][] = [[GiB * 1024, 'TiB'], [GiB, 'GiB'], [1024 * 1024, 'MiB'], [1024, 'KiB']];
  for (const [u, name] of units) {
    if (bytes >= u) {
      const x = bytes / u;
      return `${Number.isInteger(x) ? x : x.toFixed(x >= 100 ? 0 : 1)} ${name}`;
    }
  }
  return `${bytes} B`;
}
