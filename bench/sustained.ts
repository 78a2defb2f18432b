/**
 * Sustained fillrandom (issue #4): N entries of 16-byte random keys and 100-byte values (half
 * compressible), awaited one at a time or in batches of 1000, with default options, for StrataDB and
 * classic-level, each engine in its own child process so that /proc/<pid>/io write_bytes (bytes the
 * process made the kernel write) measures write amplification from the outside. Reports throughput per
 * second, final write amplification (ours from stats() too), space amplification (disk bytes / live
 * bytes), stall time, the event loop's delay (perf_hooks.monitorEventLoopDelay: compaction must not run
 * on the main thread), and readrandom after the fill (levels populated, cache smaller than the data).
 *
 * node dist/bench/sustained.js [--num N] [--mode awaited|batch] [--engines strata,classic-level] [--reads N]
 * Uses only the public API (src/index.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DB, WriteBatch } from '../src/index.js';
import { halfRandomValue, spreadKey } from './workload-data.js';
import { dirBytes, PerSecond, procWriteBytes, runJsonChild } from './sustained-probes.js';

interface ChildResult {
  engine: string; mode: string; num: number; seconds: number; opsPerSec: number;
  perSecond: number[]; writeBytes: number; userBytes: number; diskBytes: number;
  strataWriteAmp?: number; stallMs?: number; loopP99Ms: number; loopMaxMs: number;
  readOpsPerSec: number; reads: number; found: number; levels?: string;
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

const key = spreadKey;
const value = halfRandomValue;

interface Engine { put(k: Buffer, v: Buffer): Promise<void>; batch(ops: [Buffer, Buffer][]): Promise<void>; get(k: Buffer): Promise<unknown>; close(): Promise<void>; stats?(): { writeAmplification: number; stalls: { slowdownMs: number; stopMs: number }; levels: { level: number; files: number }[] } }

async function openEngine(name: string, dir: string): Promise<Engine> {
  if (name === 'strata') {
    const db = await DB.open(dir);
    return {
      put: (k, v) => db.put(k, v), get: (k) => db.get(k), close: () => db.close(), stats: () => db.stats(),
      batch: (ops) => { const b = new WriteBatch(); for (const [k, v] of ops) b.put(k, v); return db.write(b); },
    };
  }
  const { ClassicLevel } = await import('classic-level');
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  return {
    put: (k, v) => db.put(k, v), get: (k) => db.get(k), close: () => db.close(),
    batch: (ops) => db.batch(ops.map(([k, v]) => ({ type: 'put' as const, key: k, value: v }))),
  };
}

async function child(engineName: string, mode: string, num: number, reads: number, dir: string): Promise<ChildResult> {
  const db = await openEngine(engineName, dir);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const io0 = procWriteBytes();
  const t0 = performance.now();
  const persec = new PerSecond();
  const perSecond = persec.series;
  const k = Buffer.alloc(16);
  const tick = (n: number): void => persec.tick(n);
  if (mode === 'batch') {
    for (let i = 0; i < num; i += 1000) {
      const ops: [Buffer, Buffer][] = [];
      for (let j = i; j < Math.min(num, i + 1000); j++) ops.push([Buffer.from(key(j, k)), value(j)]);
      await db.batch(ops);
      tick(ops.length);
    }
  } else {
    for (let i = 0; i < num; i++) { await db.put(key(i, k), value(i)); tick(1); }
  }
  const seconds = (performance.now() - t0) / 1000;
  const s = db.stats?.();
  // readrandom on the populated levels
  const r0 = performance.now();
  let found = 0;
  let x = 12345;
  for (let i = 0; i < reads; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    if ((await db.get(key(x % num, k))) !== undefined) found++;
  }
  const readSeconds = (performance.now() - r0) / 1000;
  loop.disable();
  const s2 = db.stats?.();
  await db.close();
  const writeBytes = procWriteBytes() - io0;
  const userBytes = num * 116;
  return {
    engine: engineName, mode, num, seconds, opsPerSec: num / seconds, perSecond, writeBytes, userBytes,
    diskBytes: dirBytes(dir), loopP99Ms: loop.percentile(99) / 1e6, loopMaxMs: loop.max / 1e6,
    readOpsPerSec: reads / readSeconds, reads, found,
    ...(s ? { strataWriteAmp: s.writeAmplification, stallMs: s.stalls.slowdownMs + s.stalls.stopMs } : {}),
    ...(s2 ? { levels: s2.levels.filter((l) => l.files > 0).map((l) => `L${l.level}:${l.files}`).join(' ') } : {}),
  };
}

async function runChild(engine: string, mode: string, num: number, reads: number): Promise<ChildResult> {
  const dir = mkdtempSync(join(tmpdir(), `sustained-${engine}-`));
  try {
    const script = fileURLToPath(import.meta.url);
    return await runJsonChild<ChildResult>(script, ['--child', engine, '--mode', mode, '--num', String(num), '--reads', String(reads), '--dir', dir], engine);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const ci = process.argv.indexOf('--child');
  if (ci >= 0) {
    const r = await child(process.argv[ci + 1]!, arg('mode', 'awaited'), Number(arg('num', '1000000')), Number(arg('reads', '100000')), arg('dir', ''));
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  const num = Number(arg('num', '1000000'));
  const mode = arg('mode', 'awaited');
  const reads = Number(arg('reads', '100000'));
  const engines = arg('engines', 'strata,classic-level').split(',');
  const results: ChildResult[] = [];
  for (const e of engines) {
    process.stderr.write(`${e}: ${mode} fillrandom of ${num} entries...\n`);
    results.push(await runChild(e, mode, num, reads));
  }
  const med = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] ?? 0; };
  console.log(`\n## Sustained fillrandom, ${num} entries (16 B keys, 100 B values), ${mode}; then ${reads} random reads\n`);
  console.log('| engine | fill ops/s | per-second min / median / max | WA (/proc io) | WA (stats) | space amp | stall ms | loop p99 / max ms | readrandom ops/s | found | levels |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const ps = r.perSecond.length ? `${Math.min(...r.perSecond)} / ${med(r.perSecond)} / ${Math.max(...r.perSecond)}` : '-';
    console.log(`| ${r.engine} | ${Math.round(r.opsPerSec)} | ${ps} | ${(r.writeBytes / r.userBytes).toFixed(2)} | ${r.strataWriteAmp?.toFixed(2) ?? '-'} | ${(r.diskBytes / r.userBytes).toFixed(2)} | ${r.stallMs?.toFixed(0) ?? '-'} | ${r.loopP99Ms.toFixed(1)} / ${r.loopMaxMs.toFixed(1)} | ${Math.round(r.readOpsPerSec)} | ${r.found}/${r.reads} | ${r.levels ?? '-'} |`);
  }
  if (results.length === 2) {
    const [a, b] = results as [ChildResult, ChildResult];
    console.log(`\nratios ${a.engine}/${b.engine}: fill ${(a.opsPerSec / b.opsPerSec).toFixed(2)}x, readrandom ${(a.readOpsPerSec / b.readOpsPerSec).toFixed(2)}x, disk ${(a.diskBytes / b.diskBytes).toFixed(2)}x, WA ${((a.writeBytes / a.userBytes) / (b.writeBytes / b.userBytes)).toFixed(2)}x`);
  }
}

main().catch((e: unknown) => { console.error(e); process.exit(1); });
