/**
 * Table library benchmark (issue #2): for each codec, write N entries (16-byte keys, 100-byte values
 * of which half is random and half repeats, so about 2:1 compressible) to a real file, then measure
 * point gets on a warm block cache (getAtOrAfter, which answers without waiting once the block is cached:
 * timed as a plain loop, and as a loop awaiting when needed; present and absent keys) and a full
 * scan of a freshly opened table (no cache: read, check, decompress, decode every block).
 * Run: npm run bench:sstable  (or: npx tsc -p tsconfig.json; node dist/bench/sstable.js [--num N] [--gets N])
 * Prints a markdown table; results and the machine: bench/RESULTS-sstable.md.
 * Temp files live in os.tmpdir() and are deleted.
 * Uses only the public entry points (src/index.ts, sstable/index.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeFileSystem } from '../src/index.js';
import { LruCache } from '../src/index.js';
import { TableReader, TableWriter, type CompressionName } from '../sstable/index.js';

const KEY_SIZE = 16;
const VALUE_SIZE = 100;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}

/** Key i: 16 ASCII digits, so numeric order is byte order. */
function writeKey(buf: Uint8Array, i: number): void {
  let x = i;
  for (let j = KEY_SIZE - 1; j >= 0; j--) { buf[j] = 0x30 + (x % 10); x = Math.floor(x / 10); }
}

function makeValue(buf: Uint8Array, state: { x: number }): void {
  let x = state.x;
  for (let j = 0; j < VALUE_SIZE / 2; j++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; buf[j] = x & 0xff; }
  buf.fill(0x61 + (x & 7), VALUE_SIZE / 2);
  state.x = x;
}

const nowMs = (): number => performance.now();

/** ns per op of a synchronous loop: wall clock, and CPU time of this process (on a shared machine the
 * CPU figure is the cost; the wall figure adds time spent waiting for a core). */
function timed(ops: number, fn: () => void): { wall: number; cpu: number } {
  const t = nowMs();
  const c = process.cpuUsage();
  fn();
  const d = process.cpuUsage(c);
  return { wall: ((nowMs() - t) * 1e6) / ops, cpu: ((d.user + d.system) * 1e3) / ops };
}

const ns = (x: { wall: number; cpu: number }): string => `${x.wall.toFixed(0)} (${x.cpu.toFixed(0)})`;

type Timing = { wall: number; cpu: number };

interface Row {
  codec: CompressionName; writeMBs: number; fileMB: number; getSyncNs: Timing; getNs: Timing; hotNs: Timing; missNs: Timing;
  scanMBs: number; blocks: number;
}

async function benchCodec(fs: NodeFileSystem, dir: string, codec: CompressionName, num: number, gets: number): Promise<Row> {
  const path = join(dir, `${codec}.sst`);
  const file = await fs.openWritable(path);
  const w = new TableWriter(file, { blockSize: 4096, blockRestartInterval: 16, compression: codec, bloomBitsPerKey: 10 });
  const key = new Uint8Array(KEY_SIZE);
  const value = new Uint8Array(VALUE_SIZE);
  const state = { x: 0x2545f491 };
  let t = nowMs();
  for (let i = 0; i < num; i++) {
    writeKey(key, i);
    makeValue(value, state);
    const p = w.add(key, value);
    if (p) await p;
  }
  const res = await w.finish();
  const writeMs = nowMs() - t;
  await file.sync();
  await file.close();
  const rawBytes = num * (KEY_SIZE + VALUE_SIZE);

  const cache = new LruCache(512 << 20);
  const reader = await TableReader.open(await fs.openReadable(path), { fileName: path, cache, syncReads: true });
  // Targets: a pool of random present keys and of absent keys (a digit replaced by ':').
  const pool = Math.min(num, 100_000);
  const present: Uint8Array[] = [];
  const absent: Uint8Array[] = [];
  let x = 0x1234567;
  for (let i = 0; i < pool; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    const k = new Uint8Array(KEY_SIZE);
    writeKey(k, (x >>> 0) % num);
    present.push(k);
    const a = k.slice();
    a[KEY_SIZE - 1] = 0x3a;
    absent.push(a);
  }
  // Warm the cache: every block once.
  const it = reader.newIterator();
  for (let p = it.seekToFirst(); ; p = it.next()) { if (p) await p; if (!it.valid()) break; }
  let sink = 0;
  // Warm: every block is cached, so getAtOrAfter answers at once; a Promise here would be a bug.
  const getWarm = (keys: Uint8Array[], n: number): void => {
    for (let i = 0; i < gets; i++) {
      const r = reader.getAtOrAfter(keys[i % n]!);
      if (r instanceof Promise || r === undefined) throw new Error('warm get waited or missed');
      sink += r.value.length;
    }
  };
  const getSyncNs = timed(gets, () => getWarm(present, pool));
  let t2 = nowMs();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < gets; i++) {
    let r = reader.getAtOrAfter(present[i % pool]!);
    if (r instanceof Promise) r = await r;
    sink += r!.value.length;
  }
  const cpu1 = process.cpuUsage(cpu0);
  const getNs = { wall: ((nowMs() - t2) * 1e6) / gets, cpu: ((cpu1.user + cpu1.system) * 1e3) / gets };
  // The same gets over 1,000 keys: the code's own cost, with the touched blocks in the CPU caches.
  const hotNs = timed(gets, () => getWarm(present, 1000));
  const missNs = timed(gets, () => {
    for (let i = 0; i < gets; i++) {
      const r = reader.getAtOrAfter(absent[i % pool]!);
      if (r instanceof Promise) throw new Error('warm get waited');
      if (r !== undefined) sink += r.key.length;
    }
  });
  await reader.close();

  // Full scan of a fresh reader without a cache.
  const cold = await TableReader.open(await fs.openReadable(path), { fileName: path, syncReads: true });
  t = nowMs();
  const scan = cold.newIterator();
  let n = 0;
  for (let p = scan.seekToFirst(); ; p = scan.next()) {
    if (p) await p;
    if (!scan.valid()) break;
    sink += scan.value().length;
    n++;
  }
  const scanMs = nowMs() - t;
  await cold.close();
  if (n !== num || sink === 0) throw new Error(`scan saw ${n} of ${num} entries`);
  return {
    codec, writeMBs: rawBytes / 1e6 / (writeMs / 1000), fileMB: res.fileSize / 1e6, getSyncNs, getNs, hotNs, missNs,
    scanMBs: rawBytes / 1e6 / (scanMs / 1000), blocks: res.properties.numDataBlocks,
  };
}

async function main(): Promise<void> {
  const num = arg('num', 1_000_000);
  const gets = arg('gets', 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-sst-'));
  const fs = new NodeFileSystem();
  const rows: Row[] = [];
  try {
    for (const codec of ['none', 'lz4', 'zstd'] as const) rows.push(await benchCodec(fs, dir, codec, num, gets));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const raw = (num * (KEY_SIZE + VALUE_SIZE)) / 1e6;
  console.log(`${num} entries, ${KEY_SIZE}-byte keys, ${VALUE_SIZE}-byte values (half random), ${raw.toFixed(1)} MB raw; 4 KiB blocks, restart 16, bloom 10 bits/key; ${gets} gets\nget columns: ns/op wall clock (CPU time of the process)\n`);
  console.log('| codec | write MB/s (raw) | file MB | data blocks | warm get, no wait | warm get, awaited if needed | warm get, 1,000 hot keys | absent key | cold full scan MB/s |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.codec} | ${r.writeMBs.toFixed(1)} | ${r.fileMB.toFixed(1)} | ${r.blocks} | ${ns(r.getSyncNs)} | ${ns(r.getNs)} | ${ns(r.hotNs)} | ${ns(r.missNs)} | ${r.scanMBs.toFixed(1)} |`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
