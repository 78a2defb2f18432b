/**
 * Memtable micro-benchmark: N keys (16 bytes) with 100-byte values, per design:
 * insert µs/op (cold and warm memory) and the worst pause, insert with an iterator seek after every
 * 64 adds, get µs/op (hits, misses), full forward and backward iteration ns/entry, random seeks,
 * approximateMemoryUsage against raw bytes, and heap growth (JS heap + ArrayBuffers) against raw.
 * Designs: "hash" (src/memtable/memtable.ts: arena + hash of key groups + sorted runs) and
 * "skiplist" (bench/memtable-skiplist.ts, the LevelDB-style baseline). Keys: "random" (uniform
 * bytes) or "prefixed" ("user:" + 11 decimal digits: few bits per byte, a shared 5-byte stem).
 * Each case runs in a fresh child process (no garbage or JIT state carried over), `--repeat` times;
 * the table shows the median of each figure. Rates are CPU time (user + system of this process,
 * page faults included) because the machine is shared: wall time mostly measures the neighbours.
 * Only "insert cold wall" is wall-clock.
 *
 * Run: npx tsc -p tsconfig.json; node --expose-gc dist/bench/memtable.js [--num 1000000]
 *      [--design hash,skiplist] [--keys random,prefixed] [--repeat 3]
 * Results: bench/RESULTS-memtable.md. NB: a deep import of src/memtable (a micro-benchmark of an
 * internal part has no public entry point to go through).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { KIND_FOR_SEEK, makeInternalKey } from '../src/base/internal-key.js';
import { MemTable } from '../src/memtable/memtable.js';
import { SkipListMemTable } from './memtable-skiplist.js';

const KEY_SIZE = 16;
const VALUE_SIZE = 100;

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}

function xorshift(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return x >>> 0;
  };
}

/** n keys packed in one array (no object per key). */
function makeKeys(n: number, kind: string, seed: number): Uint8Array {
  const out = new Uint8Array(n * KEY_SIZE);
  const r = xorshift(seed);
  if (kind === 'random') {
    for (let i = 0; i < out.length; i++) out[i] = r() & 0xff;
  } else {
    const stem = new TextEncoder().encode('user:');
    for (let k = 0; k < n; k++) {
      out.set(stem, k * KEY_SIZE);
      for (let d = stem.length; d < KEY_SIZE; d++) out[k * KEY_SIZE + d] = 0x30 + (r() % 10);
    }
  }
  return out;
}

/** Copies key i into the caller's reused buffer, as an engine's caller would hand it over. */
function load(dst: Uint8Array, all: Uint8Array, i: number): void {
  const base = i * KEY_SIZE;
  for (let j = 0; j < KEY_SIZE; j++) dst[j] = all[base + j]!;
}

interface Table {
  add(seq: number, kind: number, k: Uint8Array, v: Uint8Array): void;
  get(k: Uint8Array, snap: number): number;
  lastValue(): Uint8Array;
  approximateMemoryUsage(): number;
}

async function heapBytes(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  // ArrayBuffer memory is released after the collection that frees its owner: collect twice.
  for (let i = 0; i < 2; i++) {
    gc?.();
    await new Promise((r) => setImmediate(r));
  }
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** CPU time of this process in ms (user + system). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const newTable = (design: string): Table => (design === 'hash' ? new MemTable() : new SkipListMemTable());

/** One case, in this process: returns figure name -> number. */
async function runCase(design: string, keyKind: string, n: number): Promise<Record<string, number>> {
  const keys = makeKeys(n, keyKind, 12345);
  const missKeys = makeKeys(n, keyKind, 67890);
  const key = new Uint8Array(KEY_SIZE);
  const value = new Uint8Array(VALUE_SIZE).fill(0x61);
  const out: Record<string, number> = {};
  const before = await heapBytes();

  /** Adds every key; returns the CPU ms taken and the worst CPU ms of a block of 1024 adds. */
  const fill = (t: Table, seekEvery: number): [number, number] => {
    const it = seekEvery > 0 ? (t as MemTable).newIterator() : undefined;
    let worstBlock = 0;
    const t0 = cpuMs();
    let b0 = t0;
    for (let i = 0; i < n; i++) {
      load(key, keys, i);
      value[0] = i & 0xff;
      t.add(i + 1, 1, key, value);
      if (it && i % seekEvery === seekEvery - 1) it.seek(makeInternalKey(key, i + 1, KIND_FOR_SEEK));
      if ((i & 1023) === 1023) {
        const b1 = cpuMs();
        if (b1 - b0 > worstBlock) worstBlock = b1 - b0;
        b0 = b1;
      }
    }
    return [cpuMs() - t0, worstBlock];
  };

  // Cold: the first table of the process touches fresh memory (page faults cost ~10-30 µs per
  // 4 KiB page on this VM). Warm: later tables reuse what the allocator got back from the first,
  // as a long-running engine's successive memtables do.
  {
    const w0 = performance.now();
    const cold = newTable(design);
    const [ms] = fill(cold, 0);
    out['insert cold µs/op'] = (ms * 1e3) / n;
    out['insert cold wall µs/op'] = ((performance.now() - w0) * 1e3) / n;
    out['heap growth / raw'] = ((await heapBytes()) - before) / (n * (KEY_SIZE + VALUE_SIZE));
  }
  await heapBytes();
  if (design === 'hash') {
    // Iterators positioned while writes go on force the pending keys to be sorted early.
    const [ms] = fill(new MemTable(), 64);
    out['insert+seek/64 µs/op'] = (ms * 1e3) / n;
    await heapBytes();
  }
  const t = newTable(design);
  const [warmMs, worstBlock] = fill(t, 0);
  out['insert µs/op'] = (warmMs * 1e3) / n;
  out['worst 1024 adds cpu ms'] = worstBlock;
  out['memory / raw'] = t.approximateMemoryUsage() / (n * (KEY_SIZE + VALUE_SIZE));

  const stride = 7919; // a prime: visits every index once, in scattered order
  let hits = 0;
  const g0 = cpuMs();
  for (let i = 0, j = 0; i < n; i++, j = (j + stride) % n) {
    load(key, keys, j);
    if (t.get(key, n) >= 0 && t.lastValue().length === VALUE_SIZE) hits++;
  }
  out['get hit µs/op'] = ((cpuMs() - g0) * 1e3) / n;
  let misses = 0;
  const m0 = cpuMs();
  for (let i = 0; i < n; i++) {
    load(key, missKeys, i);
    if (t.get(key, n) < 0) misses++;
  }
  out['get miss µs/op'] = ((cpuMs() - m0) * 1e3) / n;

  let seen = 0;
  const i0 = cpuMs();
  if (t instanceof MemTable) {
    const it = t.newIterator();
    for (it.seekToFirst(); it.valid(); it.next()) if (it.key().length + it.value().length > 0) seen++;
    out['iterate ns/entry'] = ((cpuMs() - i0) * 1e6) / n;
    const b0 = cpuMs();
    let back = 0;
    for (it.seekToLast(); it.valid(); it.prev()) if (it.key().length > 0) back++;
    out['reverse ns/entry'] = ((cpuMs() - b0) * 1e6) / n;
    if (back !== n) throw new Error(`reverse saw ${back} of ${n}`);
    const seeks = Math.min(n, 200_000);
    const s0 = cpuMs();
    for (let i = 0; i < seeks; i++) {
      const j = (i * stride) % n;
      it.seek(makeInternalKey(keys.subarray(j * KEY_SIZE, (j + 1) * KEY_SIZE), n, KIND_FOR_SEEK));
      if (!it.valid()) throw new Error('seek missed');
    }
    out['seek µs/op'] = ((cpuMs() - s0) * 1e3) / seeks;
  } else {
    (t as SkipListMemTable).forEach((k, v) => { if (k.length + v.length > 0) seen++; });
    out['iterate ns/entry'] = ((cpuMs() - i0) * 1e6) / n;
  }
  if (seen !== n || hits !== n || misses < n * 0.99) throw new Error(`check failed: seen ${seen} hits ${hits} misses ${misses}`);
  return out;
}

const DIGITS: Record<string, number> = {
  'iterate ns/entry': 0, 'reverse ns/entry': 0, 'worst 1024 adds cpu ms': 1, 'memory / raw': 2, 'heap growth / raw': 2,
};

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[(s.length - 1) >> 1]!;
}

async function main(): Promise<void> {
  const n = Number(arg('num', '1000000'));
  const one = arg('case', '');
  if (one) {
    const [design, keyKind] = one.split(':') as [string, string];
    process.stdout.write(JSON.stringify(await runCase(design, keyKind, n)));
    return;
  }
  const repeat = Number(arg('repeat', '3'));
  const self = fileURLToPath(import.meta.url);
  const rows: Record<string, string>[] = [];
  const cols = new Set<string>(['design', 'keys']);
  for (const keyKind of arg('keys', 'random,prefixed').split(',')) {
    for (const design of arg('design', 'hash,skiplist').split(',')) {
      const runs: Record<string, number>[] = [];
      for (let r = 0; r < repeat; r++) {
        const json = execFileSync(process.execPath, ['--expose-gc', self, '--case', `${design}:${keyKind}`, '--num', String(n)], {
          encoding: 'utf8', maxBuffer: 1 << 20,
        });
        runs.push(JSON.parse(json) as Record<string, number>);
        console.error(`${design} ${keyKind} #${r + 1}: ${json}`);
      }
      const row: Record<string, string> = { design, keys: keyKind };
      for (const name of Object.keys(runs[0]!)) {
        cols.add(name);
        row[name] = median(runs.map((x) => x[name]!)).toFixed(DIGITS[name] ?? 3);
      }
      rows.push(row);
    }
  }
  const header = [...cols];
  console.log(`n = ${n}, median of ${repeat} runs, node ${process.version}`);
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${header.map((c) => r[c] ?? '-').join(' | ')} |`);
}

await main();
