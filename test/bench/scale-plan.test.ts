/**
 * The scale run's decisions (bench/scale-plan.ts): keys per step, the disk check (allowance x the
 * step's user data, less what the database holds, plus the reserve), classic-level's time budget
 * (the previous step's time per byte, with the margin), and the sentences printed when a step is not run.
 */
import { describe, expect, it } from 'vitest';
import { GiB, MiB } from '../../bench/scale-args.js';
import {
  budgetCheck, budgetStopLine, DISK_RESERVE, diskFit, diskStopLine, GROWTH_MARGIN, keysFor, planSteps, predictSeconds, sizeText,
} from '../../bench/scale-plan.js';

describe('planSteps', () => {
  it('gives each step the keys past the previous one, so steps add up to the total', () => {
    const steps = planSteps([1 * GiB, 5 * GiB, 10 * GiB], 16, 100);
    expect(steps.map((s) => [s.firstKey, s.endKey])).toEqual([
      [0, keysFor(GiB, 16, 100)], [keysFor(GiB, 16, 100), keysFor(5 * GiB, 16, 100)], [keysFor(5 * GiB, 16, 100), keysFor(10 * GiB, 16, 100)],
    ]);
    expect(keysFor(GiB, 16, 100)).toBe(Math.floor(GiB / 116));
    expect(steps[2]!.targetBytes).toBe(10 * GiB);
  });
});

describe('diskFit', () => {
  it('needs allowance x the step\'s user data, less the directory, plus the reserve', () => {
    const need = 2 * GiB - 300 * MiB;
    expect(diskFit(GiB, 300 * MiB, need + DISK_RESERVE, 2)).toEqual({ fits: true, needBytes: need, freeBytes: need + DISK_RESERVE });
    expect(diskFit(GiB, 300 * MiB, need + DISK_RESERVE - 1, 2).fits).toBe(false);
  });

  it('needs nothing more than the reserve when the directory already holds the allowance', () => {
    expect(diskFit(GiB, 3 * GiB, DISK_RESERVE, 2)).toEqual({ fits: true, needBytes: 0, freeBytes: DISK_RESERVE });
  });

  it('the 50 GiB step on a disk with 78 GiB free does not fit at allowance 2; the line says why', () => {
    const fit = diskFit(50 * GiB, 9 * GiB, 78 * GiB, 2);
    expect(fit).toMatchObject({ fits: false, needBytes: 91 * GiB });
    expect(diskStopLine('stratadb', 50 * GiB, fit, 2)).toBe(
      'stratadb: stopped before the 50 GiB step: it may need 91 GiB more (2 x 50 GiB of user data, less what the database holds now) ' +
      'plus 1 GiB kept free, and the disk has 78 GiB free');
  });
});

describe('budget', () => {
  it('the first step always runs (nothing to predict from)', () => {
    expect(predictSeconds(undefined, GiB)).toBeUndefined();
    expect(budgetCheck(undefined, GiB, 10_000, 1)).toEqual({ runs: true, predictedSeconds: undefined });
  });

  it('predicts the previous time per byte x the margin', () => {
    expect(predictSeconds({ stepBytes: GiB, seconds: 100 }, 4 * GiB)).toBe(400 * GROWTH_MARGIN);
  });

  it('runs a step only when used + predicted stays within the budget', () => {
    const prev = { stepBytes: GiB, seconds: 100 };
    const predicted = 400 * GROWTH_MARGIN;
    expect(budgetCheck(prev, 4 * GiB, 60 * 60 - predicted, 60).runs).toBe(true);
    const late = budgetCheck(prev, 4 * GiB, 60 * 60 - predicted + 1, 60);
    expect(late.runs).toBe(false);
    expect(budgetStopLine('classic-level', 5 * GiB, late, 3001, 60)).toBe(
      `classic-level: stopped before the 5 GiB step: predicted ${400 * GROWTH_MARGIN} s (the previous step's time per byte x ${GROWTH_MARGIN}) ` +
      'after 3001 s used would pass the 60 min budget (--budget-min)');
  });
});

describe('sizeText', () => {
  it.each([[512, '512 B'], [200 * MiB, '200 MiB'], [GiB, '1 GiB'], [1.5 * GiB, '1.5 GiB'], [50 * GiB, '50 GiB'], [2048 * GiB, '2 TiB']])(
    '%d -> %s', (bytes, text) => { expect(sizeText(bytes)).toBe(text); });
});
