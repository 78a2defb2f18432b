/**
 * The scale run's report (bench/scale-report.ts) and curves (bench/scale-plot.ts): derived figures
 * (write amplification over the run so far, space amplification, load rate), markdown tables with as
 * many cells in every row as in the header, the splice that keeps hand-written text around the
 * generated block, and SVG with one line per engine per panel at the step positions.
 */
import { describe, expect, it } from 'vitest';
import { GiB, MiB } from '../../bench/scale-args.js';
import { scaleFigures, renderCurves, xScale } from '../../bench/scale-plot.js';
import {
  BEGIN_MARK, cumulativeWriteAmp, END_MARK, formatEngineTable, formatReadPathTable, formatScaleBlock, loadMBps, loadOpsPerSec,
  spaceAmp, spliceBlock, stepWriteAmp, type StepResult,
} from '../../bench/scale-report.js';

const cells = (line: string): number => line.split('|').length - 2;

function row(engine: string, step: number, over: Partial<StepResult> = {}): StepResult {
  const keys = (step + 1) * 1000;
  return {
    engine, step, targetBytes: (step + 1) * GiB, userBytes: keys * 116, stepUserBytes: 1000 * 116, keys, stepKeys: 1000,
    memoryBudget: 'not asked', openBeforeMs: 5, load: { batchKeys: 500, batchSeconds: 1, randomKeys: 500, randomSeconds: 4 },
    readrandom: { ops: 100, seconds: 0.5, p50Us: 10, p99Us: 90, maxUs: 400, found: 100 },
    seekrandom: { ops: 10, seconds: 0.1, p50Us: 20, p99Us: 150, maxUs: 500 },
    closeMs: 3, openMs: 12, dirBytes: keys * 58, ioWriteBytes: 1000 * 116 * 3, baselineRssBytes: 60 * MiB, peakRssBytes: 300 * MiB,
    rssAfterCloseBytes: 90 * MiB, levels: 'L0:1 L1:3', childSeconds: 7, ...over,
  };
}

describe('figures', () => {
  it('load rate over both phases, amplification from the step and from the whole run so far', () => {
    const rows = [row('stratadb', 0), row('stratadb', 1, { ioWriteBytes: 1000 * 116 * 5 })];
    expect(loadOpsPerSec(rows[0]!)).toBe(200);
    expect(loadMBps(rows[0]!)).toBeCloseTo((1000 * 116) / MiB / 5, 9);
    expect(stepWriteAmp(rows[1]!)).toBe(5);
    expect(cumulativeWriteAmp(rows, 0)).toBe(3);
    expect(cumulativeWriteAmp(rows, 1)).toBe((3 + 5) / 2);
    expect(spaceAmp(rows[1]!)).toBe(0.5);
  });
});

describe('tables', () => {
  it('every row of the engine table has the header\'s cells', () => {
    const lines = formatEngineTable([row('stratadb', 0), row('stratadb', 1, { levels: '' })]).split('\n');
    expect(lines).toHaveLength(4);
    for (const l of lines) expect(cells(l)).toBe(cells(lines[0]!));
    expect(lines[2]).toContain('| 1 GiB | 1,000 | 200 |');
    expect(lines[3]).toMatch(/\| - \|$/);
  });

  it('read path: a dash where nothing was looked up, one column per memory part any row names', () => {
    const rows = [
      row('stratadb', 0, { reads: { cacheLookups: 0, cacheHitRate: 0, filterUsefulRate: 0, filterChecksPerGet: 0, tablesSearchedPerGet: 0 }, memory: { memtables: 64 * MiB } }),
      row('stratadb', 1, { reads: { cacheLookups: 9, cacheHitRate: 0.5, filterUsefulRate: 0.25, filterChecksPerGet: 2, tablesSearchedPerGet: 1.5 }, memory: { memtables: 32 * MiB, cache: 8 * MiB } }),
    ];
    const lines = formatReadPathTable(rows).split('\n');
    for (const l of lines) expect(cells(l)).toBe(cells(lines[0]!));
    expect(lines[0]).toContain('memory.memtables MiB after the load | memory.cache MiB after the load |');
    expect(lines[2]).toBe('| 1 GiB | - | - | 0.00 | 0.00 | not asked | 64 | - |');
    expect(lines[3]).toBe('| 2 GiB | 0.500 | 0.250 | 2.00 | 1.50 | not asked | 32 | 8 |');
    expect(formatReadPathTable([row('classic-level', 0)])).toBe('');
  });

  it('the block names the run, its stops, each engine and the images, between the markers', () => {
    const block = formatScaleBlock({
      label: 'small check run', command: 'npm run bench:scale -- --steps 200m,1g', date: 'd', machine: 'm', workload: 'w',
      stops: ['classic-level: stopped before the 2 GiB step: x'], svgFiles: ['scale-throughput.svg'],
    }, [row('stratadb', 0), row('classic-level', 0)]);
    expect(block.startsWith(BEGIN_MARK)).toBe(true);
    expect(block.endsWith(END_MARK)).toBe(true);
    for (const s of ['### Run: small check run', '`npm run bench:scale -- --steps 200m,1g`', '- classic-level: stopped before', '#### stratadb', '#### classic-level', '![scale-throughput.svg](scale-throughput.svg)']) {
      expect(block).toContain(s);
    }
  });
});

describe('spliceBlock', () => {
  const block = `${BEGIN_MARK}\nnew\n${END_MARK}`;

  it('replaces only the text between the markers', () => {
    const file = `# Title\n\nwritten by hand\n\n${BEGIN_MARK}\nold\n${END_MARK}\n\n## Why the curves look so\n`;
    expect(spliceBlock(file, block)).toBe(`# Title\n\nwritten by hand\n\n${BEGIN_MARK}\nnew\n${END_MARK}\n\n## Why the curves look so\n`);
  });

  it('appends to a file without markers and starts a missing or empty one', () => {
    expect(spliceBlock('# Mine\n', block)).toBe(`# Mine\n\n${block}\n`);
    expect(spliceBlock(undefined, block)).toMatch(/^# Scale run: .*\n\n<!-- scale-run:begin/);
    expect(spliceBlock('', block)).toContain(block);
  });
});

describe('curves', () => {
  it('x is logarithmic across 8x or more, linear from 0 below', () => {
    const log = xScale([GiB, 10 * GiB, 100 * GiB]);
    expect(log(GiB)).toBe(0);
    expect(log(10 * GiB)).toBeCloseTo(0.5, 9);
    expect(log(100 * GiB)).toBe(1);
    const lin = xScale([200 * MiB, 1000 * MiB]);
    expect(lin(500 * MiB)).toBe(0.5);
  });

  it('one polyline per engine per panel, a point per step, a tick per step, text escaped', () => {
    const svg = renderCurves('a < b', [
      { title: 'p1', series: [{ engine: 'stratadb', points: [[GiB, 5], [5 * GiB, 7]] }, { engine: 'classic-level', points: [[GiB, 3]] }] },
      { title: 'p2', series: [{ engine: 'stratadb', points: [[GiB, 1], [5 * GiB, 2]] }] },
    ]);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('a &lt; b');
    expect(svg.match(/<polyline/g)).toHaveLength(3);
    expect(svg.match(/<circle/g)).toHaveLength(5);
    expect(svg.match(/>5 GiB</g)).toHaveLength(2);
    expect(svg).not.toContain('NaN');
  });

  it('the report draws four figures from the step rows, with no NaN even for one step', () => {
    const figs = scaleFigures([row('stratadb', 0), row('stratadb', 1), row('classic-level', 0)]);
    expect(Object.keys(figs)).toEqual(['scale-throughput.svg', 'scale-latency.svg', 'scale-memory.svg', 'scale-amplification.svg']);
    for (const svg of Object.values(figs)) expect(svg).not.toContain('NaN');
    const one = scaleFigures([row('stratadb', 0)]);
    for (const svg of Object.values(one)) expect(svg).not.toContain('NaN');
  });
});
