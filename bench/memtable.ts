/**
 * Memtable micro-benchmark: N random keys (16 bytes) with 100-byte values, per design:
 * insert µs/op (and the worst single insert), get µs/op (hits, misses), full forward and backward
 * iteration ns/entry, random seeks, approximateMemoryUsage against raw bytes, and heap growth.
 * Designs: "hash" (src/memtable/memtable.ts: arena + hash of key groups + sorted runs) and
 * "skiplist" (bench/memtable-skiplist.ts, the LevelDB-style baseline). Keys: "random" (uniform
 * bytes) or "prefixed" ("user:" + 11 digits, so the first 8 bytes mostly tie).
 *
 * Run: npx tsc -p tsconfig.json; node --expose-gc dist/bench/memtable.js [--num 1000000]
 *      [--design hash,skiplist] [--keys random,prefixed]
 * Results: bench/RESULTS-memtable.md. NB: a deep import of src/memtable (a micro-benchmark of an
 * internal part has no public entry point to go through).
 */
import { makeInternalKey, KIND_FOR_SEEK } from '../src/base/internal-key.js';
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
    const prefix = new TextEncoder().encode('user:');
    for (let k = 0; k < n; k++) {
      out.set(prefix, k * KEY_SIZE);
      for (let d = prefix.length; d < KEY_SIZE; d++) out[k * KEY_SIZE + d] = 0x30 + (r() % 10);
    }
  }
  return out;
}

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

function heapBytes(): number {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function fmt(x: number, digits = 3): string {
  return x.toFixed(digits);
}

function run(design: string, keyKind: string, n: number): Record<string, string> {
  const keys = makeKeys(n, keyKind, 12345);
  const missKeys = makeKeys(n, keyKind, 67890);
  const key = new Uint8Array(KEY_SIZE);
  const value = new Uint8Array(VALUE_SIZE).fill(0x61);
  const before = heapBytes();
  const t: Table = design === 'hash' ? new MemTable() : new SkipListMemTable();

  let worst = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    load(key, keys, i);
    value[0] = i & 0xff;
    const s = (i & 1023) === 0 ? performance.now() : 0;
    t.add(i + 1, 1, key, value);
    if (s !== 0) worst = Math.max(worst, performance.now() - s);
  }
  const insertMs = performance.now() - t0;
  const heapGrowth = heapBytes() - before;
  // The worst single add: rerun with a timer around every add (timer overhead ~0.05 µs each).
  const t2: Table = design === 'hash' ? new MemTable() : new SkipListMemTable();
  for (let i = 0; i < n; i++) {
    load(key, keys, i);
    const s = performance.now();
    t2.add(i + 1, 1, key, value);
    const d = performance.now() - s;
    if (d > worst) worst = d;
  }

  const stride = 7919; // a prime: visits every index once, in scattered order
  let hits = 0;
  const g0 = performance.now();
  for (let i = 0, j = 0; i < n; i++, j = (j + stride) % n) {
    load(key, keys, j);
    if (t.get(key, n) >= 0 && t.lastValue().length === VALUE_SIZE) hits++;
  }
  const getMs = performance.now() - g0;
  let misses = 0;
  const m0 = performance.now();
  for (let i = 0; i < n; i++) {
    load(key, missKeys, i);
    if (t.get(key, n) < 0) misses++;
  }
  const missMs = performance.now() - m0;

  let seen = 0;
  let fwdNs = NaN, backNs = NaN, seekUs = NaN;
  const i0 = performance.now();
  if (t instanceof MemTable) {
    const it = t.newIterator();
    for (it.seekToFirst(); it.valid(); it.next()) { if (it.key().length + it.value().length > 0) seen++; }
    fwdNs = ((performance.now() - i0) * 1e6) / n;
    const b0 = performance.now();
    let back = 0;
    for (it.seekToLast(); it.valid(); it.prev()) { if (it.key().length > 0) back++; }
    backNs = ((performance.now() - b0) * 1e6) / n;
    if (back !== n) throw new Error(`reverse saw ${back} of ${n}`);
    const seeks = Math.min(n, 200_000);
    const s0 = performance.now();
    for (let i = 0; i < seeks; i++) {
      it.seek(makeInternalKey(keys.subarray(((i * stride) % n) * KEY_SIZE, ((i * stride) % n + 1) * KEY_SIZE), n, KIND_FOR_SEEK));
      if (!it.valid()) throw new Error('seek missed');
    }
    seekUs = ((performance.now() - s0) * 1e3) / seeks;
  } else {
    (t as SkipListMemTable).forEach((k, v) => { if (k.length + v.length > 0) seen++; });
    fwdNs = ((performance.now() - i0) * 1e6) / n;
  }
  if (seen !== n || hits !== n || misses < n * 0.99) throw new Error(`check failed: seen ${seen} hits ${hits} misses ${misses}`);
  const mem = t.approximateMemoryUsage();
  const raw = n * (KEY_SIZE + VALUE_SIZE);
  return {
    design, keys: keyKind, n: String(n),
    'insert µs/op': fmt((insertMs * 1e3) / n),
    'worst insert ms': fmt(worst, 1),
    'get hit µs/op': fmt((getMs * 1e3) / n),
    'get miss µs/op': fmt((missMs * 1e3) / n),
    'iterate ns/entry': fmt(fwdNs, 0),
    'reverse ns/entry': Number.isNaN(backNs) ? '-' : fmt(backNs, 0),
    'seek µs/op': Number.isNaN(seekUs) ? '-' : fmt(seekUs, 2),
    'memory / raw': fmt(mem / raw, 2),
    'heap growth / raw': fmt(heapGrowth / raw, 2),
  };
}

const n = Number(arg('num', '1000000'));
const rows: Record<string, string>[] = [];
for (const keyKind of arg('keys', 'random,prefixed').split(',')) {
  for (const design of arg('design', 'hash,skiplist').split(',')) {
    rows.push(run(design, keyKind, n));
    console.error(JSON.stringify(rows[rows.length - 1]));
  }
}
const cols = Object.keys(rows[0]!);
console.log(`| ${cols.join(' | ')} |`);
console.log(`|${cols.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${cols.map((c) => r[c]).join(' | ')} |`);
