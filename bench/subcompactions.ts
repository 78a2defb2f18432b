/**
 * Subcompactions benchmark: one compaction of L0 into a wide L1, run whole (maxSubcompactions 1) and
 * split into pieces on the worker pool (--pieces, default 2), from the same starting state.
 * Setup: --l1-mb (default 64) MB of 16-byte keys and 1000-byte random values, written in key order
 * and compacted into L1 (tables of --target-mb, default 4 MB); then --l0-mb (default 16) MB of
 * overwrites of random keys across the whole range, flushed as L0 tables. That state is checkpointed
 * once per run; each run opens its copy (nothing compacts on its own: L0 trigger 100) and times
 * compactRange(), which is that one L0 -> L1 job. Runs alternate (1, N, 1, N, ...) --rounds times
 * (default 3) so load from other users of the machine falls on both; the report gives each run and the
 * median, with the CPU time the process (its worker threads included) spent in each.
 * Run: npx tsc -p tsconfig.json && node dist/bench/subcompactions.js [--l1-mb 64] [--l0-mb 16] [--pieces 2] [--rounds 3] [--dir D]
 * Prints a markdown table for bench/RESULTS.md. Writes under a fresh temp directory in --dir (default
 * os.tmpdir()) and deletes it. Uses only src/index.ts.
 */
import { randomFillSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DB, WriteBatch, type Options } from '../src/index.js';

const MB = 1024 * 1024;
const VALUE_BYTES = 1000;

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}

const l1Mb = Number(arg('l1-mb', '64'));
const l0Mb = Number(arg('l0-mb', '16'));
const pieces = Number(arg('pieces', '2'));
const rounds = Number(arg('rounds', '3'));
const targetMb = Number(arg('target-mb', '4'));
const root = mkdtempSync(join(arg('dir', tmpdir()), 'strata-bench-subcompactions-'));

const key = (i: number): string => `key${String(i).padStart(13, '0')}`;

const BASE: Options = {
  compactionExecutor: 'worker', targetFileSize: targetMb * MB, writeBufferSize: 32 * MB,
  level0CompactionTrigger: 100, level0SlowdownTrigger: 100, level0StopTrigger: 100,
  maxBytesForLevelBase: 1024 * MB, compression: 'none', idleCompactionDelayMs: 0,
};

async function setup(dir: string): Promise<number> {
  const db = await DB.open(dir, BASE);
  const n = Math.floor((l1Mb * MB) / VALUE_BYTES);
  const value = new Uint8Array(VALUE_BYTES);
  for (let i = 0; i < n; i += 100) {
    const b = new WriteBatch();
    for (let j = i; j < Math.min(n, i + 100); j++) b.put(key(j), randomFillSync(value));
    await db.write(b);
  }
  await db.compactRange();
  const m = Math.floor((l0Mb * MB) / VALUE_BYTES);
  for (let i = 0; i < m; i += 100) {
    const b = new WriteBatch();
    for (let j = 0; j < 100; j++) b.put(key(Math.floor(Math.random() * n)), randomFillSync(value));
    await db.write(b);
  }
  await db.flush();
  const levels = db.stats().levels;
  process.stderr.write(`setup: L0 ${levels[0]!.files} tables, L1 ${levels[1]!.files} tables ${(levels[1]!.bytes / MB).toFixed(1)} MB\n`);
  await db.close();
  return n;
}

interface Run { pieces: number; ms: number; cpuMs: number; mbRead: number; split: number }

async function timeOne(src: DB, k: number, maxSubcompactions: number): Promise<Run> {
  const dir = join(root, `run-${k}`);
  await src.checkpoint(dir);
  const db = await DB.open(dir, { ...BASE, maxSubcompactions });
  const t0 = performance.now();
  const c0 = process.cpuUsage(); // the whole process: the workers' threads included
  await db.compactRange();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const s = db.stats();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  return { pieces: maxSubcompactions, ms, cpuMs: (c.user + c.system) / 1000, mbRead: s.compactions.bytesRead / MB, split: s.subcompactions };
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };

try {
  const base = join(root, 'base');
  await setup(base);
  const src = await DB.open(base, BASE);
  const runs: Run[] = [];
  for (let r = 0; r < rounds; r++) {
    runs.push(await timeOne(src, 2 * r, 1));
    runs.push(await timeOne(src, 2 * r + 1, pieces));
  }
  await src.close();
  console.log(`| maxSubcompactions | pieces run | MB read | runs: wall s (CPU s) | median wall (s) | MB/s |`);
  console.log(`|---|---|---|---|---|---|`);
  for (const p of [1, pieces]) {
    const rs = runs.filter((x) => x.pieces === p);
    const med = median(rs.map((x) => x.ms)) / 1000;
    console.log(`| ${p} | ${rs[0]!.split || 1} | ${rs[0]!.mbRead.toFixed(1)} | ${rs.map((x) => `${(x.ms / 1000).toFixed(2)} (${(x.cpuMs / 1000).toFixed(2)})`).join(', ')} | ` +
      `${med.toFixed(2)} | ${(rs[0]!.mbRead / med).toFixed(1)} |`);
  }
  console.log(`\n${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}, Node ${process.version}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
