/**
 * One engine's benchmark process: `node dist/bench/child.js '<ChildConfig JSON>'`.
 * Each engine runs in its own process so that peak RSS (process.resourceUsage().maxRSS) and the
 * kernel's write_bytes (/proc/<pid>/io, read by the driver) belong to that engine alone.
 * It owns its directory: fresh workloads wipe it and reopen; a workload that needs a filled
 * database gets every key below num loaded first, untimed, in sequential batches.
 * Protocol with the driver (IPC, messages in result.ts): ready; then per workload: wait for 'go'
 * (the driver decides whose turn it is) -> set up (wipe, prefill) -> begin -> wait for 'go' (the
 * driver reads /proc io) -> progress* -> end; finally wait for 'go', close, done (or error).
 * Without an IPC channel (bench/profile.ts runs it that way) it prints each result as one JSON
 * line on stdout instead and never waits; with `profileDir` set it writes one .cpuprofile per
 * timed workload there.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { diskBytes, loadEngine, type BenchEngine } from './engine.js';
import type { ChildConfig, ChildMessage, WorkloadResult } from './result.js';
import { Histogram } from './histogram.js';
import { KeyFormat, ValuePool } from './workload-data.js';
import { BATCH_SIZE, parseWorkload, type WorkloadContext, type WorkloadSpec } from './workloads.js';

const hasIpc = typeof process.send === 'function';

function send(m: ChildMessage): void {
  if (hasIpc) process.send!(m);
  else if (m.type === 'end') process.stdout.write(JSON.stringify(m.result) + '\n');
  else if (m.type === 'error') process.stderr.write(`error: ${m.message}\n`);
}

// The driver's 'go' messages, counted as they arrive so none is lost between two waits.
let goes = 0;
let waiter: (() => void) | undefined;
if (hasIpc) {
  process.on('message', () => {
    goes++;
    const w = waiter;
    waiter = undefined;
    w?.();
  });
}

/** Resolves at the driver's next 'go' (at once without IPC). */
async function waitGo(): Promise<void> {
  if (!hasIpc) return;
  if (goes === 0) await new Promise<void>((resolve) => { waiter = resolve; });
  goes--;
}

type KeySet = 'none' | 'partial' | 'full';

/**
 * The V8 sampling profiler (what `node --cpu-prof` and DevTools use) on this thread, started and
 * stopped around one timed workload so that setup (wipe, prefill) stays out of the profile.
 */
async function startProfile(): Promise<{ stop(file: string): Promise<void> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      await writeFile(file, JSON.stringify(profile));
    },
  };
}

/**
 * The delay histogram in ms. A workload whose operations all settle in microtasks never lets the
 * timer run, and then the whole run counts as one delay: that is what other callbacks would see.
 */
export function loopDelayMs(h: { count: number; percentile(p: number): number; max: number }): NonNullable<WorkloadResult['eventLoopDelayMs']> {
  if (h.count === 0) return { p50: 0, p99: 0, max: 0 };
  const ms = (ns: number): number => Math.round(ns / 1e3) / 1e3;
  return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) };
}

class ChildRun {
  private isOpen = false;
  private keySet: KeySet = 'none';
  private readonly keys: KeyFormat;
  private readonly values: ValuePool;

  constructor(private readonly cfg: ChildConfig, private readonly engine: BenchEngine) {
    this.keys = new KeyFormat(cfg.keySize);
    this.values = new ValuePool(cfg.valueSize, cfg.seed);
  }

  private async ensureOpen(): Promise<void> {
    if (!this.isOpen) { await this.engine.open(this.cfg.dir); this.isOpen = true; }
  }

  private async wipe(): Promise<void> {
    await this.engine.close();
    this.isOpen = false;
    await rm(this.cfg.dir, { recursive: true, force: true });
    await mkdir(this.cfg.dir, { recursive: true });
    this.keySet = 'none';
  }

  /** Untimed: every key below num, in sequential batches (fillbatch's pattern, without timing). */
  private async prefill(): Promise<number> {
    const { num } = this.cfg;
    for (let from = 0; from < num; from += BATCH_SIZE) {
      const to = Math.min(num, from + BATCH_SIZE);
      const ks: Uint8Array[] = [];
      const vs: Uint8Array[] = [];
      for (let i = from; i < to; i++) { ks.push(this.keys.keyOf(i)); vs.push(this.values.next()); }
      await this.engine.batchPut(ks, vs, false);
    }
    this.keySet = 'full';
    return num;
  }

  async run(spec: WorkloadSpec): Promise<void> {
    const { def } = spec;
    await waitGo();
    if (def.fresh) await this.wipe();
    await this.ensureOpen();
    const prefilled = def.needsData && this.keySet !== 'full' ? await this.prefill() : undefined;
    await this.engine.prepareWrites?.(def.syncWrites === true);
    send({ type: 'begin', id: spec.id, total: this.cfg.num });
    await waitGo();
    const profiler = this.cfg.profileDir ? await startProfile() : undefined;
    const result = def.name === 'open' ? await this.open(spec) : await this.measure(spec);
    if (profiler) await profiler.stop(join(this.cfg.profileDir!, `${this.engine.name}-${spec.id.replace(':', 'x')}.cpuprofile`));
    if (prefilled !== undefined) result.prefilled = prefilled;
    if (def.leaves !== 'same') this.keySet = def.leaves;
    send({ type: 'end', result });
  }

  private async measure(spec: WorkloadSpec): Promise<WorkloadResult> {
    const before = this.engine.writeStats();
    const ctx: WorkloadContext = {
      engine: this.engine, keys: this.keys, values: this.values,
      num: this.cfg.num, reads: this.cfg.reads, seed: this.cfg.seed, dir: this.cfg.dir,
      ...(this.cfg.syncs !== undefined ? { syncs: this.cfg.syncs } : {}),
      progress: (done, total, rate) => {
        if (hasIpc) process.send!({ type: 'progress', id: spec.id, done, total, rate } satisfies ChildMessage);
      },
    };
    // 1 ms is the finest resolution the timer allows: the criteria are a few ms (p99 < 5, max < 20),
    // which the default 10 ms would round away, and a 1 ms timer costs a few µs of CPU per ms.
    // The monitor records a delay at each firing of its timer but the first (its baseline), so
    // one untimed turn of the loop before the run sets the baseline, and one after it records the
    // stretch since (all of the run, if every operation settled in a microtask).
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    await new Promise((resolve) => setTimeout(resolve, 2));
    const cpu0 = process.cpuUsage();
    const o = await spec.def.run!(ctx, spec.concurrency);
    const cpu = process.cpuUsage(cpu0);
    await new Promise((resolve) => setTimeout(resolve, 1));
    loop.disable();
    const after = this.engine.writeStats();
    const m = o.measured;
    // Samples count timed operations; report them as entries/s like opsPerSec (a batch is 1000).
    const perOp = m.ops > 0 ? o.entries / m.ops : 1;
    const series = perOp === 1 ? m.series : m.series.map(([t, v]): [number, number] => [t, Math.round(v * perOp)]);
    const r: WorkloadResult = {
      id: spec.id, workload: spec.def.name, concurrency: spec.concurrency, engine: this.engine.name,
      ops: m.ops, entries: o.entries, seconds: m.seconds,
      opsPerSec: m.seconds > 0 ? o.entries / m.seconds : 0,
      mbPerSec: m.seconds > 0 ? o.bytes / m.seconds / 1e6 : 0,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      opsPerCpuSec: cpu.user + cpu.system > 0 ? o.entries / ((cpu.user + cpu.system) / 1e6) : 0,
      latencyUs: m.hist.summary(),
      eventLoopDelayMs: loopDelayMs(loop),
      userBytesWritten: o.userBytesWritten,
      rssBytes: process.memoryUsage.rss(),
      series,
    };
    if (o.opUnit) r.opUnit = o.opUnit;
    if (o.found !== undefined) r.found = o.found;
    if (o.writerOps !== undefined) r.writerOps = o.writerOps;
    if (o.followUp) r.figures = await o.followUp();
    if (spec.def.writes && before && after) {
      const user = after.userBytes - before.userBytes;
      r.writeAmp = user > 0 ? (after.engineBytes - before.engineBytes) / user : 0;
      r.stallMs = after.stallMs - before.stallMs;
      r.flushes = after.flushes - before.flushes;
    }
    return r;
  }

  /** Close cleanly, measure the directory, then time three opens (close between); it stays open. */
  private async open(spec: WorkloadSpec): Promise<WorkloadResult> {
    await this.engine.close();
    this.isOpen = false;
    const disk = await diskBytes(this.cfg.dir);
    const hist = new Histogram();
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await this.engine.open(this.cfg.dir);
      const ms = performance.now() - t0;
      runs.push(Math.round(ms * 1000) / 1000);
      hist.record(ms * 1e6);
      if (i < 2) await this.engine.close();
    }
    this.isOpen = true;
    // The first open is the one that counts: it replays whatever the close left in the WAL (both
    // engines then write it out as a table, so the second and third opens find less to do).
    const first = runs[0]!;
    return {
      id: spec.id, workload: 'open', concurrency: 1, engine: this.engine.name,
      ops: 3, entries: 0, seconds: runs.reduce((a, b) => a + b, 0) / 1000,
      opsPerSec: 1000 / first, mbPerSec: 0, cpuSeconds: 0, opsPerCpuSec: 0, latencyUs: hist.summary(),
      userBytesWritten: 0, rssBytes: process.memoryUsage.rss(), series: [],
      openMs: first, openRunsMs: runs, diskBytes: disk,
    };
  }

  async finish(): Promise<void> {
    await this.engine.close();
    this.isOpen = false;
  }
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (!arg) throw new Error('usage: node dist/bench/child.js <ChildConfig JSON>');
  const cfg = JSON.parse(arg) as ChildConfig;
  const specs = cfg.workloads.map((w) => parseWorkload(w, cfg.concurrency));
  new KeyFormat(cfg.keySize).check(cfg.num);
  const engine = await loadEngine(cfg.engine, cfg.engineOptions);
  send({ type: 'ready', engine: engine.name, version: engine.version, appliedOptions: engine.appliedOptions });
  await mkdir(cfg.dir, { recursive: true });
  const run = new ChildRun(cfg, engine);
  try {
    for (const spec of specs) await run.run(spec);
    await waitGo();
  } finally {
    await run.finish();
  }
  // NB: maxRSS is in KiB on Linux; 'done' carries bytes (sent by sendLast below).
}

/** Sends the last message and closes the channel once it is written (a bare disconnect may drop it). */
function sendLast(m: ChildMessage): Promise<void> {
  if (!hasIpc) { send(m); return Promise.resolve(); }
  return new Promise((resolve) => {
    process.send!(m, undefined, {}, () => { process.disconnect(); resolve(); });
  });
}

main().then(
  () => sendLast({ type: 'done', peakRssBytes: process.resourceUsage().maxRSS * 1024 }),
  async (e: unknown) => {
    process.exitCode = 1;
    const err = e instanceof Error ? e : new Error(String(e));
    if (!hasIpc && err.stack) process.stderr.write(err.stack + '\n');
    await sendLast({ type: 'error', message: err.message, ...(err.stack ? { stack: err.stack } : {}) });
  },
);
