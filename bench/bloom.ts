/**
 * Bloom filter micro-benchmark: ns per key to build, ns per probe (hits and misses), the measured
 * false-positive rate and the size, for the table filter (sstable/bloom.ts) against the two layouts
 * it was chosen over (bench/bloom-variants.ts) and the `bloom-filters` package's BloomFilter at the
 * same target rate. Keys: distinct random 16-byte keys,
 * each its own Uint8Array (as keys arrive from a table writer); absent probes differ in byte 0, so no
 * absent key is present.
 * Run: npx tsc -p tsconfig.json; node dist/bench/bloom.js [--num 1000000] [--bits 10]
 *      [--peer-num 100000] [--runs 5]
 * Prints a markdown table (medians over --runs; bloom-filters runs once on --peer-num keys, since it
 * costs microseconds per operation). Results: bench/RESULTS-bloom.md.
 * The filter is part of the sstable library's public entry point (sstable/index.ts).
 */
import { createRequire } from 'node:module';
import { BloomFilterBuilder, BloomFilterReader, bloomHash, bloomProbeCount } from '../sstable/index.js';
import { blockedVariant, levelDbVariant, type Variant, type VariantFilter } from './bloom-variants.js';

const KEY_SIZE = 16;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}

/** n distinct keys: byte 0 = tag, bytes 1..4 = index, the rest from a fixed xorshift stream. */
function makeKeys(n: number, tag: number, seed: number): Uint8Array[] {
  let x = seed | 0 || 1;
  const out = new Array<Uint8Array>(n);
  for (let i = 0; i < n; i++) {
    const k = new Uint8Array(KEY_SIZE);
    for (let j = 5; j < KEY_SIZE; j++) {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      k[j] = x & 0xff;
    }
    k[0] = tag; k[1] = i & 0xff; k[2] = (i >>> 8) & 0xff; k[3] = (i >>> 16) & 0xff; k[4] = (i >>> 24) & 0xff;
    out[i] = k;
  }
  return out;
}

/**
 * CPU nanoseconds (user + system) per operation. CPU time, not wall time: this machine's two cores are
 * shared with other jobs, and wall time would count the time this process waits to be scheduled.
 */
function nsPer(ops: number, fn: () => void): number {
  const t0 = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t0);
  return ((d.user + d.system) * 1000) / ops;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

interface Row { name: string; keys: number; hashNs: number; buildNs: number; hitNs: number; missNs: number; fpr: number; bytes: number }

function benchOurs(present: Uint8Array[], absent: Uint8Array[], bits: number, runs: number): Row[] {
  const n = present.length;
  const hotKeys = present.slice(0, 64);
  const hash: number[] = [], build: number[] = [], hit: number[] = [], miss: number[] = [];
  const hitPre: number[] = [], missPre: number[] = [];
  let filter: Uint8Array = new Uint8Array(0);
  let fp = 0;
  let sink = 0;
  const presentHashes = new Uint32Array(n), absentHashes = new Uint32Array(n);
  for (let r = 0; r < runs; r++) {
    hash.push(nsPer(n, () => { for (let i = 0; i < n; i++) sink ^= bloomHash(hotKeys[i & 63]!); }));
    build.push(nsPer(n, () => {
      const b = new BloomFilterBuilder(bits);
      for (let i = 0; i < n; i++) b.addKey(present[i]!);
      filter = b.finish();
    }));
    const reader = new BloomFilterReader(filter, 'bench.sst', 0);
    let found = 0;
    hit.push(nsPer(n, () => { for (let i = 0; i < n; i++) if (reader.mayContain(present[i]!)) found++; }));
    if (found !== n) throw new Error(`false negatives: ${n - found}`);
    fp = 0;
    miss.push(nsPer(n, () => { for (let i = 0; i < n; i++) if (reader.mayContain(absent[i]!)) fp++; }));
    for (let i = 0; i < n; i++) { presentHashes[i] = bloomHash(present[i]!); absentHashes[i] = bloomHash(absent[i]!); }
    hitPre.push(nsPer(n, () => { for (let i = 0; i < n; i++) if (reader.mayContainHash(presentHashes[i]!)) sink++; }));
    missPre.push(nsPer(n, () => { for (let i = 0; i < n; i++) if (reader.mayContainHash(absentHashes[i]!)) sink++; }));
  }
  if (sink === 0.5) console.log(sink); // keeps the hash loop observable
  const fpr = fp / n;
  return [
    { name: `strata.bloom.v1 (${bits} bits/key, k=${bloomProbeCount(bits)})`, keys: n, hashNs: median(hash), buildNs: median(build),
      hitNs: median(hit), missNs: median(miss), fpr, bytes: filter.length },
    { name: '  same, probe by precomputed hash (mayContainHash)', keys: n, hashNs: NaN, buildNs: NaN,
      hitNs: median(hitPre), missNs: median(missPre), fpr, bytes: filter.length },
  ];
}

/** A rejected layout (bench/bloom-variants.ts), timed the same way as ours. */
function benchVariant(v: Variant, present: Uint8Array[], absent: Uint8Array[], bits: number, runs: number): Row {
  const n = present.length;
  const build: number[] = [], hit: number[] = [], miss: number[] = [];
  let fp = 0;
  for (let r = 0; r < runs; r++) {
    let f: VariantFilter | undefined;
    build.push(nsPer(n, () => { f = v.build(present, bits); }));
    const filter = f!;
    let found = 0;
    hit.push(nsPer(n, () => { for (let i = 0; i < n; i++) if (filter.mayContain(present[i]!)) found++; }));
    if (found !== n) throw new Error(`${v.name}: false negatives: ${n - found}`);
    fp = 0;
    miss.push(nsPer(n, () => { for (let i = 0; i < n; i++) if (filter.mayContain(absent[i]!)) fp++; }));
    if (r === runs - 1) return { name: `  rejected: ${v.name}`, keys: n, hashNs: NaN, buildNs: median(build), hitNs: median(hit),
      missNs: median(miss), fpr: fp / n, bytes: filter.bytes };
  }
  throw new Error('runs must be at least 1');
}

interface PeerFilter { add(x: Buffer): void; has(x: Buffer): boolean; readonly size: number }
interface PeerModule { BloomFilter: { create(n: number, errorRate: number): PeerFilter } }

function benchPeer(present: Uint8Array[], absent: Uint8Array[], errorRate: number): Row {
  const { BloomFilter } = createRequire(import.meta.url)('bloom-filters') as PeerModule;
  const n = present.length;
  // It hashes strings, ArrayBuffers or Buffers; Buffer views over our keys are made outside the timing.
  const p = present.map((k) => Buffer.from(k.buffer, k.byteOffset, k.byteLength));
  const a = absent.map((k) => Buffer.from(k.buffer, k.byteOffset, k.byteLength));
  let f: PeerFilter | undefined;
  const buildNs = nsPer(n, () => { f = BloomFilter.create(n, errorRate); for (const k of p) f.add(k); });
  const filter = f!;
  let found = 0;
  const hitNs = nsPer(n, () => { for (const k of p) if (filter.has(k)) found++; });
  if (found !== n) throw new Error(`bloom-filters: false negatives: ${n - found}`);
  let fp = 0;
  const missNs = nsPer(n, () => { for (const k of a) if (filter.has(k)) fp++; });
  return { name: `bloom-filters 3.x BloomFilter.create(n, ${errorRate.toFixed(4)})`, keys: n, hashNs: NaN, buildNs, hitNs, missNs,
    fpr: fp / n, bytes: Math.ceil(filter.size / 8) };
}

function fmt(x: number, digits = 0): string {
  return Number.isNaN(x) ? '–' : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function main(): void {
  const num = arg('num', 1_000_000);
  const bits = arg('bits', 10);
  const peerNum = Math.min(num, arg('peer-num', 100_000));
  const runs = arg('runs', 5);
  const present = makeKeys(num, 1, 0x1234567);
  const absent = makeKeys(num, 2, 0x7654321);
  const k = bloomProbeCount(bits);
  const theory = Math.pow(1 - Math.exp(-k / bits), k);

  const rows = benchOurs(present, absent, bits, runs);
  for (const v of [blockedVariant, levelDbVariant]) rows.push(benchVariant(v, present, absent, bits, runs));
  rows.push(benchPeer(present.slice(0, peerNum), absent.slice(0, peerNum), theory));

  console.log(`Node ${process.version}, ${KEY_SIZE}-byte keys, CPU ns per operation, medians of ${runs} runs (bloom-filters: 1 run).`);
  console.log(`Theoretical FPR (1 - e^(-k/b))^k at b=${bits}, k=${k}: ${(theory * 100).toFixed(3)}%\n`);
  console.log('| filter | keys | hash ns (hot 16 B) | build ns/key | probe hit ns | probe miss ns | FPR | FPR / theory | bytes/key |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.name} | ${fmt(r.keys)} | ${fmt(r.hashNs, 1)} | ${fmt(r.buildNs, 1)} | ${fmt(r.hitNs, 1)} | ${fmt(r.missNs, 1)} | ` +
      `${(r.fpr * 100).toFixed(3)}% | ${(r.fpr / theory).toFixed(2)} | ${fmt(r.bytes / r.keys, 2)} |`);
  }
}

main();
