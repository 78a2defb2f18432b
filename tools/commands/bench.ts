/**
 * `stratadb bench [WORKLOAD...]`: the db_bench-style benchmark, optionally side by side with
 * classic-level (LevelDB) and lmdb (LMDB) in the same run. This file is the command-line face only: it parses and
 * checks the options, then runs the benchmark program (dist/bench/driver.js) as a child process,
 * which runs each engine in a process of its own (so peak RSS and disk writes are per engine).
 * NB: tools/ imports only the public entry points, so bench/ is started by path, never imported.
 * The driver reports a user mistake over IPC ('user-error': rethrown here as ERR_INVALID_ARGUMENT,
 * printed by tools/cli.ts) and its temporary directory ('tempdir': removed here if the driver dies
 * without removing it). Exit code: 0, or 1 when StrataDB failed during the run.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { InvalidArgumentError, NotSupportedError } from '../../src/index.js';
import { setExitCode } from '../output.js';

const COMPARABLE = ['classic-level', 'lmdb'];
const COMPRESSIONS = ['none', 'lz4', 'zstd'];

/** An integer, optionally with a binary suffix: 4096, 64k, 64KiB, 8m, 1g. */
export function parseSize(name: string, text: string): number {
  const m = /^(\d+)\s*([kmg]?)(i?b)?$/i.exec(text.trim());
  const n = m ? Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase()) : NaN;
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`${name} must be a byte count like 4096, 64k or 8MiB (got "${text}")`);
  return n;
}

/**
 * One --compare value: an engine or a comma list, added to the engines of earlier --compare flags
 * (the option repeats). Unknown names are ERR_INVALID_ARGUMENT; a name given twice counts once.
 */
export function parseCompare(text: string, previous: string[] = []): string[] {
  const out = [...previous];
  for (const raw of text.split(',')) {
    const name = raw.trim();
    if (!COMPARABLE.includes(name)) {
      throw new InvalidArgumentError(`--compare takes ${COMPARABLE.join(', ')} or a comma list of them (got "${text}")`);
    }
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

function parseCount(name: string, text: string): number {
  const n = Number(text.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer (got "${text}")`);
  return n;
}

interface BenchFlags {
  num?: number; reads?: number; syncs?: number; valueSize?: number; keySize?: number; concurrency?: number; seed?: number;
  db?: string; compare?: string[]; plot?: string; json?: boolean;
  writeBufferSize?: number; cacheSize?: number; compression?: string; bloomBitsPerKey?: number; blockSize?: number;
}

export function register(program: Command): void {
  program
    .command('bench')
    .description('db_bench-style workloads on a temporary database, optionally beside classic-level (LevelDB) and lmdb')
    .argument('[WORKLOAD...]', 'workloads in order; NAME:C runs C operations in flight (default: the standard set)')
    .option('--num <N>', 'keys written by each fill (default 50000)', (v) => parseCount('--num', v))
    .option('--reads <N>', 'operations of each read workload (default: --num)', (v) => parseCount('--reads', v))
    .option('--syncs <N>', 'synced puts of fillsync, whatever its :C (default: --num / 100)', (v) => parseCount('--syncs', v))
    .option('--value-size <B>', 'value size in bytes, half compressible (default 100)', (v) => parseSize('--value-size', v))
    .option('--key-size <B>', 'key size in bytes (default 16)', (v) => parseSize('--key-size', v))
    .option('--concurrency <C>', 'operations in flight for workloads named without :C (default 1)', (v) => parseCount('--concurrency', v))
    .option('--seed <N>', 'seed of the random key choices (default 1)', (v) => parseCount('--seed', v))
    .option('--db <DIR>', 'run in DIR (kept afterwards) instead of a temporary directory')
    .option('--compare <ENGINES>', `run the same workloads on these engines too: ${COMPARABLE.join(', ')}, or a comma list; repeatable`, (v, prev?: string[]) => parseCompare(v, prev))
    .option('--plot <FILE.svg>', 'draw throughput over time per workload into an SVG file')
    .option('--json', 'print the results as JSON')
    .option('--write-buffer-size <B>', 'memtable size (also passed to classic-level; lmdb has none)', (v) => parseSize('--write-buffer-size', v))
    .option('--cache-size <B>', 'block cache size (also passed to classic-level; lmdb uses the OS page cache)', (v) => parseSize('--cache-size', v))
    .option('--compression <CODEC>', 'none, lz4 or zstd (classic-level: none turns Snappy off)')
    .option('--bloom-bits-per-key <N>', 'filter bits per key, 0 for none (classic-level: fixed at 10)', (v) => parseSize('--bloom-bits-per-key', v))
    .option('--block-size <B>', 'data block size (also passed to classic-level; lmdb ignores it)', (v) => parseSize('--block-size', v))
    .addHelpText('after', `
Workloads (LevelDB db_bench names): fillseq fillrandom overwrite fillbatch fillsync readrandom readseq
readreverse seekrandom deleterandom readwhilewriting open (close, then time the reopen; disk size);
deleterange (num/200 deletes of 100-key ranges, then gets and seeks in deleted ranges vs elsewhere)
and clear (one delete of all num keys, seeks into the cleared range vs elsewhere, disk size before
and after compaction). Figures other than ops/s are printed under each workload's table.
Default set: fillseq fillrandom fillrandom:32 overwrite fillsync fillsync:64 fillbatch open readrandom
readrandom:64 readseq readreverse seekrandom readwhilewriting deleterandom.
Each row also gives the event-loop delay (p99 and max, ms) of the engine's process during the run;
a small --write-buffer-size makes the fills compaction-heavy, to see what flushes cost the loop.
lmdb takes none of the engine options (no memtable, block cache, blocks or compression): it runs
with its defaults, durable commits for fillsync and noSync for the other writes.
Examples:
  $ stratadb bench --compare classic-level,lmdb
  $ stratadb bench --num 1000000 --syncs 20000 fillsync:64 --compare lmdb
  $ stratadb bench --num 300000 --write-buffer-size 256k fillrandom:32 fillbatch --compare classic-level
  $ stratadb bench --num 1000000 fillrandom fillbatch readrandom readrandom:64 --plot bench.svg
  $ stratadb bench --num 2000 --json fillseq readrandom | jq '.engines[0].results[].opsPerSec'`)
    .action(async (workloads: string[], flags: BenchFlags) => {
      await runBenchCommand(workloads, flags);
    });
}

async function runBenchCommand(workloads: string[], f: BenchFlags): Promise<void> {
  if (f.compression !== undefined && !COMPRESSIONS.includes(f.compression)) {
    throw new InvalidArgumentError(`--compression must be one of: ${COMPRESSIONS.join(', ')} (got "${f.compression}")`);
  }
  const engineOptions: Record<string, unknown> = {};
  for (const k of ['writeBufferSize', 'cacheSize', 'compression', 'bloomBitsPerKey', 'blockSize'] as const) {
    if (f[k] !== undefined) engineOptions[k] = f[k];
  }
  const config = {
    ...(f.num !== undefined ? { num: f.num } : {}),
    ...(f.reads !== undefined ? { reads: f.reads } : {}),
    ...(f.syncs !== undefined ? { syncs: f.syncs } : {}),
    ...(f.valueSize !== undefined ? { valueSize: f.valueSize } : {}),
    ...(f.keySize !== undefined ? { keySize: f.keySize } : {}),
    ...(f.concurrency !== undefined ? { concurrency: f.concurrency } : {}),
    ...(f.seed !== undefined ? { seed: f.seed } : {}),
    ...(f.db !== undefined ? { db: f.db } : {}),
    ...(f.plot !== undefined ? { plot: f.plot } : {}),
    workloads,
    engines: ['stratadb', ...(f.compare ?? [])],
    engineOptions,
    json: f.json === true,
    progress: process.stdout.isTTY === true,
  };
  const driver = fileURLToPath(new URL('../../bench/driver.js', import.meta.url));
  if (!existsSync(driver)) throw new NotSupportedError(`the benchmark is not part of this build (${driver} is missing)`);

  let userError: string | undefined;
  let tempDir: string | undefined;
  // Ctrl-C reaches the driver too (same process group): it stops its children and cleans up; this
  // process waits for it instead of dying first.
  const ignore = (): void => {};
  process.on('SIGINT', ignore);
  try {
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      const child = fork(driver, [JSON.stringify(config)], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
      child.on('message', (m: { type?: string; message?: string; path?: string }) => {
        if (m.type === 'user-error') userError = m.message;
        else if (m.type === 'tempdir') tempDir = m.path;
      });
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve({ code, signal }));
    });
    if (userError !== undefined) throw new InvalidArgumentError(userError);
    if (exit.code !== 0) {
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
      if (exit.code === 1) setExitCode(1);
      else if (exit.signal !== null || (exit.code ?? 0) >= 128) {
        process.stderr.write('bench interrupted\n');
        setExitCode(exit.code ?? 130);
      } else throw new Error(`the benchmark driver stopped (${exit.signal ?? `exit code ${exit.code}`})`);
    }
  } finally {
    process.off('SIGINT', ignore);
  }
}
