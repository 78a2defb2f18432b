/**
 * The three-style benchmark's pure parts (bench/styles-report.ts): the command line it accepts and
 * refuses, the options each named run opens the database with, the flatness and throughput
 * figures, and that the markdown tables it prints have as many cells in every row as in the header.
 */
import { describe, expect, it } from 'vitest';
import {
  compactionMBps, formatCompactionTable, formatTable, halfRatio, MiB, parseStylesArgs, RUN_LABELS, runOf, runOptions,
  type StyleResult,
} from '../../bench/styles-report.js';
import { withSeed } from '../support/rng.js';

const cells = (line: string): number => line.split('|').length - 2;

function result(label: string, over: Partial<StyleResult> = {}): StyleResult {
  return {
    label, num: 1000, distinctKeys: 632, fillSeconds: 2, perSecond: [400, 600], settleSeconds: 3,
    ioWriteBytes: 232_000, userBytes: 116_000, statsWriteAmp: 1.9, diskBytesEnd: 146_624, diskBytesMax: 300_000, tableBytesMax: 200_000,
    compactedBytes: 73_312, stallMs: 0, loopP99Ms: 1.5, loopMaxMs: 9, reads: 100, found: 100, readSeconds: 0.5,
    readP99Us: 80, levels: 'L0:1 L1:2', sortedRuns: 2, fifoDrops: { count: 0, files: 0, bytes: 0 },
    compactions: { count: 3, bytesRead: 4 * MiB, bytesWritten: 3 * MiB, ms: 2000 }, flushBytes: 2 * MiB, subcompactions: 0,
    ...over,
  };
}

describe('parseStylesArgs', () => {
  it('defaults to the issue workload: 5M puts, 32 in flight, 256 MiB FIFO cap, the four runs', () => {
    const c = parseStylesArgs([]);
    expect(c).toMatchObject({ num: 5_000_000, reads: 100_000, concurrency: 32, fifoCapBytes: 256 * MiB, logDir: undefined });
    expect(c.runs.map((r) => r.label)).toEqual([...RUN_LABELS]);
  });

  it('reads every flag', () => {
    const c = parseStylesArgs(['--num', '2000000', '--reads', '5', '--concurrency', '8', '--seed', '7', '--fifo-cap-mib', '96', '--shrink', '8',
      '--runs', 'tiered,fifo', '--log-dir', '/tmp/l', '--dir', '/tmp/d']);
    expect(c).toMatchObject({ num: 2_000_000, reads: 5, concurrency: 8, seed: 7, fifoCapBytes: 96 * MiB, shrink: 8, logDir: '/tmp/l', dir: '/tmp/d' });
    expect(c.runs.map((r) => r.label)).toEqual(['tiered', 'fifo']);
  });

  it.each([
    [['--num', '0'], /--num: expected a positive integer/],
    [['--num', '1.5'], /--num: expected a positive integer/],
    [['--reads', 'x'], /--reads: expected a positive integer/],
    [['--shrink', '0'], /--shrink: expected a positive integer/],
    [['--runs', 'universal'], /unknown run 'universal'/],
    [['--runs', ','], /no run named/],
    [['--nmu', '5'], /unknown flag --nmu/],
    [['--num'], /--num: missing value/],
    [['5'], /unexpected argument '5'/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseStylesArgs(argv)).toThrow(message);
  });
});

describe('runOptions', () => {
  it('gives each run its style, the FIFO cap only to FIFO, subcompactions only to the -sub2 run', () => {
    expect(runOptions(runOf('leveled'), 5)).toEqual({ compactionStyle: 'leveled' });
    expect(runOptions(runOf('tiered'), 5)).toEqual({ compactionStyle: 'tiered' });
    expect(runOptions(runOf('fifo'), 5)).toEqual({ compactionStyle: 'fifo', fifoMaxTableFilesSize: 5 });
    expect(runOptions(runOf('leveled-sub2'), 5)).toEqual({ compactionStyle: 'leveled', maxSubcompactions: 2 });
  });

  it('--shrink divides the write buffer, table size and level base alike', () => {
    expect(runOptions(runOf('tiered'), 5, 8)).toEqual({
      compactionStyle: 'tiered', writeBufferSize: 8 * MiB, targetFileSize: 8 * MiB, maxBytesForLevelBase: 32 * MiB,
    });
    expect(runOptions(runOf('tiered'), 5, 1)).toEqual({ compactionStyle: 'tiered' });
  });
});

describe('figures', () => {
  it('halfRatio: 1 for a flat series, the halves\' median ratio otherwise, 0 when too short', () =>
    withSeed('styles halfRatio', (rng) => {
      const flat = Array.from({ length: 10 + rng.int(50) }, () => 1000);
      expect(halfRatio(flat)).toBe(1);
      expect(halfRatio([100, 100, 50, 50])).toBe(0.5);
      expect(halfRatio([100])).toBe(0);
    }));

  it('compactionMBps: MiB read per second of compaction time, 0 without compactions', () => {
    expect(compactionMBps(result('a'))).toBe(2);
    expect(compactionMBps(result('a', { compactions: { count: 0, bytesRead: 0, bytesWritten: 0, ms: 0 } }))).toBe(0);
  });
});

describe('formatTable / formatCompactionTable', () => {
  it('print one row per run, every row as wide as its header, with the figures derived as documented', () => {
    const rs = [result('leveled'), result('fifo', { compactedBytes: undefined, fifoDrops: { count: 2, files: 3, bytes: 10 * MiB }, found: 40 })];
    for (const table of [formatTable(rs), formatCompactionTable(rs)]) {
      const lines = table.split('\n');
      expect(lines).toHaveLength(2 + rs.length);
      for (const l of lines) expect(cells(l)).toBe(cells(lines[0]!));
    }
    const [, , leveled, fifo] = formatTable(rs).split('\n');
    // 500 puts/s; WA 2.00 (io) and 1.90 (stats); 146,624 / (632 x 116) = 2.00; 146,624 / 73,312 = 2.00.
    expect(leveled).toContain('| leveled | 500 | 400 / 600 / 600 | 1.50 | 2.00 | 1.90 | 2.00 | 2.00 |');
    expect(fifo).toContain('| 0.400 |');
    expect(fifo).toContain('| 2 (3, 10) |');
    expect(fifo).toMatch(/\| 2\.00 \| - \|/);
    // tree WA (2 + 3) / 2 = 2.50
    expect(formatCompactionTable(rs)).toContain('| leveled | 3 | 4 / 3 | 2 | 2.50 | 2.0 | 2.0 | 0 | 2.0 |');
  });
});
