/**
 * The first read over a large write whose keys came out of key order: a 1,000,000-put WriteBatch
 * (held as a flushable batch, sorted on its first read) and a 1,000,000-put transaction (its write
 * log sorted for its first iterator). Both sort with base/key-sort.ts; the time is the main thread's,
 * blocked, so it is also the event loop's stall. Random 16-byte keys, 8-byte values, MemFileSystem.
 * Run: npx tsc -p tsconfig.json; node dist/bench/sorted-view.js [--ops 1000000] [--runs 3]
 * Prints medians of --runs. Results: bench/RESULTS-txn.md. Imports only src/index.ts.
 */
import { DB, MemFileSystem, WriteBatch } from '../src/index.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const OPS = arg('ops', 1_000_000);
const RUNS = arg('runs', 3);

/** OPS random 16-byte keys, written into one reused array per call of `each`. */
function forEachKey(seed: number, each: (k: Uint8Array) => void): Uint8Array {
  const k = new Uint8Array(16);
  let x = seed;
  for (let i = 0; i < OPS; i++) {
    for (let j = 0; j < 16; j++) { x = (Math.imul(x, 1103515245) + 12345) | 0; k[j] = x >>> 24; }
    each(k);
  }
  return k;
}

async function once(seed: number): Promise<{ batchGet: number; txIterator: number }> {
  const db = await DB.open('/db', { fs: new MemFileSystem(), compactionExecutor: 'inline' });
  const v = new Uint8Array(8);
  const b = new WriteBatch();
  const last = forEachKey(seed, (k) => b.put(k, v));
  await db.write(b);
  let t = performance.now();
  await db.get(last);
  const batchGet = performance.now() - t;
  const tx = db.beginTransaction();
  forEachKey(seed + 1, (k) => tx.put(k, v));
  t = performance.now();
  const it = tx.iterator({ limit: 1 });
  await it.next();
  const txIterator = performance.now() - t;
  await it.close();
  tx.rollback();
  await db.close();
  return { batchGet, txIterator };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const rows: { batchGet: number; txIterator: number }[] = [];
for (let r = 0; r < RUNS; r++) rows.push(await once(r + 1));
console.log(`${OPS.toLocaleString('en')} puts, random 16-byte keys; medians of ${RUNS} runs`);
console.log(`first get after the batch: ${median(rows.map((r) => r.batchGet)).toFixed(0)} ms`);
console.log(`first iterator step over the transaction: ${median(rows.map((r) => r.txIterator)).toFixed(0)} ms`);
