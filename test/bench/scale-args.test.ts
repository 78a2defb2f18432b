/**
 * The scale run's command line (bench/scale-args.ts): byte sizes with binary units, increasing steps,
 * every flag read, and each mistake refused with a message naming the flag. Also the keys the run
 * writes (bench/scale-keys.ts): distinct for distinct numbers, of the asked size.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_STEPS, GiB, KiB, MiB, parseBytes, parseScaleArgs, parseSteps, SCALE_ENGINES } from '../../bench/scale-args.js';
import { scaleKey } from '../../bench/scale-keys.js';
import { withSeed } from '../support/rng.js';

describe('parseBytes', () => {
  it.each([
    ['4096', 4096], ['64k', 64 * KiB], ['500m', 500 * MiB], ['1g', GiB], ['1G', GiB], ['10GiB', 10 * GiB], ['2gb', 2 * GiB],
    ['1.5g', 1.5 * GiB], ['1t', 1024 * GiB], [' 200m ', 200 * MiB],
  ])('reads %j as %d bytes', (text, bytes) => {
    expect(parseBytes('--x', text)).toBe(bytes);
  });

  it.each(['', 'g', '0', '-1g', '1x', '1 gig', '1e9', '0.0001'])('refuses %j, naming the flag', (text) => {
    expect(() => parseBytes('--memory-budget', text)).toThrow(/--memory-budget: expected a positive byte count/);
  });

  it('round-trips any whole count of any unit', () =>
    withSeed('scale parseBytes', (rng) => {
      for (let i = 0; i < 200; i++) {
        const n = 1 + rng.int(5000);
        const [unit, mult] = rng.pick([['', 1], ['k', KiB], ['m', MiB], ['g', GiB]] as const);
        expect(parseBytes('--x', `${n}${unit}`)).toBe(n * mult);
      }
    }));
});

describe('parseSteps', () => {
  it('reads a comma list of increasing sizes', () => {
    expect(parseSteps('100m,300m')).toEqual([100 * MiB, 300 * MiB]);
    expect(parseSteps('1g, 5g,10g,50g')).toEqual(DEFAULT_STEPS);
  });

  it.each([
    ['', /expected a comma list/],
    [',', /expected a comma list/],
    ['1g,500m', /sizes must increase \('500m' after '1g'\)/],
    ['1g,1g', /sizes must increase/],
    ['1g,lots', /--steps: expected a positive byte count like .* got 'lots'/],
  ])('refuses %j', (text, message) => {
    expect(() => parseSteps(text)).toThrow(message);
  });
});

describe('parseScaleArgs', () => {
  it('defaults to the issue run: 1, 5, 10, 50 GiB, 16 B keys, 100 B values, mixed load, both engines, 60 min budget', () => {
    const c = parseScaleArgs([]);
    expect(c).toMatchObject({
      steps: DEFAULT_STEPS, keySize: 16, valueSize: 100, load: 'mixed', batchSize: 1000, concurrency: 32,
      budgetMin: 60, memoryBudget: undefined, spaceAllowance: 2, out: 'bench', dir: undefined,
    });
    expect(c.engines).toEqual([...SCALE_ENGINES]);
  });

  it('reads every flag', () => {
    const c = parseScaleArgs(['--steps', '100m,300m', '--key-size', '24', '--value-size', '400', '--load', 'batch',
      '--batch-size', '500', '--concurrency', '8', '--reads', '1_000', '--seeks', '50', '--engines', 'classic-level',
      '--budget-min', '2.5', '--memory-budget', '256m', '--space-allowance', '1.5', '--seed', '9', '--dir', '/tmp/d',
      '--out', '-', '--label', 'quick check', '--from-json', 'bench/scale-results.json', '--strata-options', '{"partitionedMetadata":false}']);
    expect(c).toEqual({
      steps: [100 * MiB, 300 * MiB], keySize: 24, valueSize: 400, load: 'batch', batchSize: 500, concurrency: 8, reads: 1000,
      seeks: 50, engines: ['classic-level'], budgetMin: 2.5, memoryBudget: 256 * MiB, spaceAllowance: 1.5, seed: 9,
      dir: '/tmp/d', out: '-', label: 'quick check', fromJson: 'bench/scale-results.json', strataOptions: { partitionedMetadata: false },
    });
  });

  it.each([
    [['--step', '1g'], /unknown flag --step \(known: --steps/],
    [['--steps'], /--steps: missing value/],
    [['--steps', '--reads', '5'], /--steps: missing value/],
    [['1g'], /unexpected argument '1g'/],
    [['--load', 'fillseq'], /--load: expected mixed, batch, random, got 'fillseq'/],
    [['--engines', 'lmdb'], /--engines: unknown engine 'lmdb' \(known: stratadb, classic-level\)/],
    [['--reads', '0'], /--reads: expected a positive integer/],
    [['--budget-min', '-1'], /--budget-min: expected a positive number/],
    [['--key-size', '4'], /--key-size: at least 8 bytes/],
    [['--memory-budget', 'big'], /--memory-budget: expected a positive byte count/],
    [['--strata-options', '[1]'], /--strata-options: expected a JSON object/],
    [['--strata-options', '{nope'], /--strata-options: expected a JSON object/],
    [['--steps', '2t', '--key-size', '8', '--value-size', '1'], /would not fit the 32-bit key numbers/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseScaleArgs(argv)).toThrow(message);
  });
});

describe('scaleKey', () => {
  it('gives keySize bytes, distinct for distinct numbers, the same for the same number', () =>
    withSeed('scale keys', (rng) => {
      for (const size of [8, 12, 16, 24]) {
        const seen = new Set<string>();
        const base = rng.int(2 ** 31);
        for (let i = 0; i < 2000; i++) {
          const k = scaleKey(base + i, size);
          expect(k.length).toBe(size);
          seen.add(k.toString('hex'));
        }
        expect(seen.size).toBe(2000);
        expect(scaleKey(base, size).equals(scaleKey(base, size))).toBe(true);
      }
    }));

  it('writes the numbers in an order unlike key order (fillrandom, not fillseq)', () => {
    const keys = Array.from({ length: 100 }, (_, i) => scaleKey(i, 16));
    const sorted = [...keys].sort(Buffer.compare);
    expect(keys.filter((k, i) => k.equals(sorted[i]!)).length).toBeLessThan(20);
  });
});
