/**
 * `stratadb bench` in CI, so the benchmark cannot rot: a tiny run (--num 2000, two workloads, all three
 * engines, the peers named by two --compare flags) through the compiled CLI as a child process, its --json report checked for shape and
 * sense, its --plot SVG for lines, and its temporary directory for removal; then the user mistakes
 * (unknown workload, a --db that is not the benchmark's) for exit code 2 and no stack trace.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmpdir.js';
import { hasStackTrace, runCli } from './cli-helpers.js';

// A private TMPDIR: benchmarks run by others on the same machine make their own stratadb-bench-* dirs.
const benchTempDirs = (tmp: string): string[] => readdirSync(tmp).filter((n) => n.startsWith('stratadb-bench-'));

describe('stratadb bench', () => {
  it('runs a tiny comparison and reports it as JSON and SVG', async () => {
    const out = await tempDir('strata-bench-');
    const plot = path.join(out, 'throughput.svg');
    const tmp = await tempDir('strata-bench-tmp-');
    const r = await runCli(['bench', '--num', '2000', '--json', '--compare', 'classic-level', '--compare', 'lmdb', '--plot', plot, 'fillrandom', 'readrandom:4'], { TMPDIR: tmp });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      tool: 'stratadb bench',
      config: { num: 2000, reads: 2000, keySize: 16, valueSize: 100, workloads: ['fillrandom', 'readrandom:4'] },
      machine: { cpus: expect.any(Number), node: process.version },
    });
    expect(report.engines.map((e: { engine: string }) => e.engine)).toEqual(['stratadb', 'classic-level', 'lmdb']);
    for (const e of report.engines) {
      expect(e).toMatchObject({ available: true, version: expect.any(String) });
      expect(e.error).toBeUndefined();
      expect(e.peakRssBytes).toBeGreaterThan(10e6);
      expect(e.results.map((x: { id: string }) => x.id)).toEqual(['fillrandom', 'readrandom:4']);
      const [fill, read] = e.results;
      expect(fill).toMatchObject({ workload: 'fillrandom', concurrency: 1, ops: 2000, entries: 2000, userBytesWritten: 2000 * 116 });
      expect(read).toMatchObject({ workload: 'readrandom', concurrency: 4, ops: 2000, found: 2000, prefilled: 2000 });
      for (const x of e.results) {
        expect(x.opsPerSec).toBeGreaterThan(0);
        expect(x.opsPerCpuSec).toBeGreaterThan(0);
        expect(x.cpuSeconds).toBeGreaterThan(0);
        expect(x.mbPerSec).toBeGreaterThan(0);
        const l = x.latencyUs;
        expect(l.count).toBe(x.ops);
        expect(0 < l.p50 && l.p50 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max).toBe(true);
        expect(x.series.length).toBeGreaterThan(0);
        const d = x.eventLoopDelayMs;
        expect(0 <= d.p50 && d.p50 <= d.p99 && d.p99 <= d.max).toBe(true);
      }
    }
    // The engine's own write counters are StrataDB's only; /proc io is read for both.
    const [oursFill] = report.engines[0].results;
    expect(oursFill.writeAmp).toBeGreaterThanOrEqual(1);
    expect(oursFill.stallMs).toBeGreaterThanOrEqual(0);
    if (existsSync('/proc/self/io')) expect(oursFill.ioWriteBytes).toBeGreaterThan(0);
    expect(report.comparisons).toEqual(['classic-level', 'lmdb'].flatMap((peer, i) => [
      { id: 'fillrandom', peer, metric: 'ops/s', ours: oursFill.opsPerSec, theirs: report.engines[i + 1].results[0].opsPerSec, ratio: expect.any(Number) },
      expect.objectContaining({ id: 'fillrandom', peer, metric: 'ops/cpu-s' }),
      expect.objectContaining({ id: 'readrandom:4', peer, metric: 'ops/s' }),
      expect.objectContaining({ id: 'readrandom:4', peer, metric: 'ops/cpu-s' }),
    ]));
    for (const c of report.comparisons) expect(c.ratio).toBeCloseTo(c.ours / c.theirs, 6);

    const svg = await readFile(plot, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline /g)?.length).toBe(6);
    expect(svg).toContain('readrandom:4');
    expect(benchTempDirs(tmp)).toEqual([]);
  });

  it('refuses an unknown workload and a --db directory it did not make, without a stack trace', async () => {
    const foreign = await tempDir('strata-bench-db-');
    await mkdir(foreign, { recursive: true });
    await writeFile(path.join(foreign, 'precious.txt'), 'keep me');
    const [unknown, notOurs, badSize] = await Promise.all([
      runCli(['bench', '--num', '100', 'fillrandom', 'readrandomly']),
      runCli(['bench', '--num', '100', '--db', foreign, 'fillseq']),
      runCli(['bench', '--value-size', 'big']),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error ERR_INVALID_ARGUMENT: unknown workload "readrandomly"/);
    expect(notOurs.code).toBe(2);
    expect(notOurs.stderr).toContain('is not empty and was not made by stratadb bench');
    expect(await readFile(path.join(foreign, 'precious.txt'), 'utf8')).toBe('keep me');
    expect(badSize.code).toBe(2);
    expect(badSize.stderr).toMatch(/^error ERR_INVALID_ARGUMENT: --value-size must be a byte count/);
    for (const x of [unknown, notOurs, badSize]) {
      expect(x.stdout).toBe('');
      expect(hasStackTrace(x.stderr)).toBe(false);
    }
  });
});
