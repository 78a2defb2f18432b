/**
 * The shapes a benchmark run produces: one WorkloadResult per (engine, workload), one EngineRun per
 * engine (its child process), and the BenchReport that `stratadb bench --json` prints. Plain JSON
 * data; the messages between the driver and its children are typed here too.
 * Units: seconds, bytes, microseconds for latency, milliseconds for open and stall times.
 */
import type { EngineName, EngineOptions } from './engine.js';
import type { LatencySummary } from './histogram.js';

/** A figure a workload measures besides its timed operations (deleterange, clear). */
export interface Figure { label: string; value: number; unit: 'µs' | 'ms' | 'MB' }

export interface WorkloadResult {
  /** The workload as asked for: NAME or NAME:C. */
  id: string;
  workload: string;
  concurrency: number;
  engine: EngineName;
  /** Timed operations (a batch, a seek, a get...). */
  ops: number;
  /** Entries written or read; ops/s is entries per second. */
  entries: number;
  opUnit?: string;
  seconds: number;
  opsPerSec: number;
  mbPerSec: number;
  /**
   * CPU time of the whole engine process during the workload (every thread: LevelDB's thread pool
   * and compaction thread, our flush), and entries per CPU second. On a shared, loaded machine
   * this is steadier than wall-clock ops/s, which also counts time spent waiting for a core.
   */
  cpuSeconds: number;
  opsPerCpuSec: number;
  /** Per timed operation. */
  latencyUs: LatencySummary;
  /**
   * The child's event-loop delay during the timed part (perf_hooks.monitorEventLoopDelay, 1 ms
   * resolution): how late a 1 ms timer fired. What every other callback of an application sharing
   * the thread would wait: flushes and compactions must not run here. Absent for open.
   */
  eventLoopDelayMs?: { p50: number; p99: number; max: number };
  found?: number;
  /** readwhilewriting: puts the background writer completed meanwhile. */
  writerOps?: number;
  /** Keys loaded, untimed, before the workload because it needs a filled database. */
  prefilled?: number;
  /** From the engine's own counters (StrataDB): (WAL + flush + compaction bytes) / user bytes. */
  writeAmp?: number;
  stallMs?: number;
  flushes?: number;
  /** /proc/<child>/io write_bytes during the workload, read by the driver from outside. */
  ioWriteBytes?: number;
  ioWriteAmp?: number;
  userBytesWritten: number;
  rssBytes: number;
  /** open: the first open after a clean close (then two more, all in openRunsMs), and the directory's size after the close. */
  openMs?: number;
  openRunsMs?: number[];
  diskBytes?: number;
  /** Measured after the timed operations, printed under the workload's table. */
  figures?: Figure[];
  /** [seconds since start, entries/s over the last interval], every 100 ms. */
  series: [number, number][];
}

export interface EngineRun {
  engine: EngineName;
  version: string;
  available: boolean;
  /** Why the engine did not run or stopped early. */
  error?: string;
  appliedOptions: Record<string, unknown>;
  peakRssBytes?: number;
  ioWriteBytesTotal?: number;
  results: WorkloadResult[];
}

export interface Comparison {
  id: string;
  /** The engine ours is compared with (one Comparison per peer, workload and metric). */
  peer: EngineName;
  ours: number;
  theirs: number;
  /** ours / theirs: ops/s and ops/cpu-s (higher is better); ms and bytes for open (lower is better). */
  ratio: number;
  metric: 'ops/s' | 'ops/cpu-s' | 'open ms' | 'disk bytes';
}

export interface BenchConfig {
  num: number;
  reads: number;
  /** fillsync's synced puts (default num/100). */
  syncs?: number;
  keySize: number;
  valueSize: number;
  concurrency: number;
  seed: number;
  workloads: string[];
  engines: EngineName[];
  engineOptions: EngineOptions;
  /** Root directory; each engine uses <db>/<engine>. Absent: a temporary directory. */
  db?: string;
  json: boolean;
  plot?: string;
  progress: boolean;
}

export interface BenchReport {
  tool: 'stratadb bench';
  date: string;
  machine: { cpus: number; cpuModel: string; node: string; platform: string; totalMemBytes: number };
  config: Omit<BenchConfig, 'json' | 'progress' | 'plot'>;
  engines: EngineRun[];
  comparisons: Comparison[];
}

/** What the driver hands one child (argv[2], JSON). */
export interface ChildConfig {
  engine: EngineName;
  dir: string;
  num: number;
  reads: number;
  syncs?: number;
  keySize: number;
  valueSize: number;
  concurrency: number;
  seed: number;
  workloads: string[];
  engineOptions: EngineOptions;
  /** bench/profile.ts: write a .cpuprofile of each timed workload here. */
  profileDir?: string;
}

export type ChildMessage =
  | { type: 'ready'; engine: EngineName; version: string; appliedOptions: Record<string, unknown> }
  | { type: 'begin'; id: string; total: number }
  | { type: 'progress'; id: string; done: number; total: number; rate: number }
  | { type: 'end'; result: WorkloadResult }
  | { type: 'done'; peakRssBytes: number }
  | { type: 'error'; message: string; stack?: string };
