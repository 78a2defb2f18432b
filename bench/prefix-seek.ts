/**
 * `node dist/bench/prefix-seek.js [--num N] [--seeks N] [--rounds R] [--next K] [--cache-size B] [--dir DIR]`:
 * seekrandom over prefixes, with and without prefix bloom filters (option prefixLength). Two databases
 * get the same N keys (16 B: an 8-byte prefix `u` + 7-digit even id, then an 8-digit suffix; 10 keys per
 * prefix; values 100 B, stored uncompressed) written in a seeded random order through a 4 MiB memtable, so the data ends up
 * spread over L0 and several levels as a loaded LSM is; one has `prefixLength: 8`, the other none.
 * Once compaction has settled, each round times `seeks` operations of iterator({ prefix, limit: K }) +
 * up to K next() on each database, alternating which goes first; half the prefixes exist (even ids),
 * half do not (odd ids, inside every table's key range, so only a filter can rule a table out).
 * Prints µs per operation (wall and CPU, medians over the rounds), the tables skipped per operation
 * (stats().filter.prefixNegatives) and block cache misses per operation.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DB, WriteBatch } from '../src/index.js';
import { VALUE, median, randomIndexes, timeLoop, type Timing } from './micro-loop.js';

const PER_PREFIX = 10;
const prefixOf = (id: number): Buffer => Buffer.from(`u${id.toString().padStart(7, '0')}`);
const keyOf = (i: number): Buffer =>
  Buffer.concat([prefixOf(2 * Math.floor(i / PER_PREFIX)), Buffer.from(((i % PER_PREFIX) * 7919).toString().padStart(8, '0'))]);

/** Resolves once no compaction is pending (polling: a benchmark, not a test). */
async function settle(db: DB): Promise<void> {
  for (;;) {
    const pending = Number(db.getProperty('stratadb.estimate-pending-compaction-bytes') ?? '0');
    const l0 = Number(db.getProperty('stratadb.num-files-at-level0') ?? '0');
    if (pending === 0 && l0 < 4) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function load(db: DB, num: number): Promise<void> {
  // A seeded permutation of 0..num-1 (Fisher-Yates over xorshift draws).
  const order = Uint32Array.from({ length: num }, (_, i) => i);
  const draws = randomIndexes(0x7fffffff, num, 0x2545f491);
  for (let i = num - 1; i > 0; i--) {
    const j = draws[i]! % (i + 1);
    const t = order[i]!; order[i] = order[j]!; order[j] = t;
  }
  for (let i = 0; i < num; i += 1000) {
    const batch = new WriteBatch();
    for (let j = i; j < Math.min(num, i + 1000); j++) batch.put(keyOf(order[j]!), VALUE);
    await db.write(batch);
  }
  await db.flush();
  await settle(db);
}

function shape(db: DB): string {
  return db.stats().levels.filter((l) => l.files > 0).map((l) => `L${l.level}:${l.files}`).join(' ');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      num: { type: 'string', default: '1000000' },
      seeks: { type: 'string', default: '50000' },
      rounds: { type: 'string', default: '5' },
      next: { type: 'string', default: '10' },
      'cache-size': { type: 'string', default: String(8 * 1024 * 1024) },
      dir: { type: 'string' },
    },
  });
  const num = Number(values.num);
  const seeks = Number(values.seeks);
  const rounds = Number(values.rounds);
  const k = Number(values.next);
  const root = values.dir ?? mkdtempSync(join(tmpdir(), 'strata-prefix-seek-'));
  const common = {
    writeBufferSize: 4 * 1024 * 1024, targetFileSize: 4 * 1024 * 1024, maxBytesForLevelBase: 16 * 1024 * 1024,
    cacheSize: Number(values['cache-size']), idleCompactionDelayMs: 0,
    // The values would compress to almost nothing and leave one level; stored as they are, 1M keys
    // take ~120 MB over L1 and L2, as a loaded database does.
    compression: 'none' as const,
  };
  const dbs: Array<{ name: string; db: DB; runs: Timing[]; skipped: number; misses: number }> = [];
  try {
    for (const [name, prefixLength] of [['prefixLength 8', 8], ['no prefix filter', 0]] as const) {
      const db = await DB.open(join(root, String(prefixLength)), { ...common, prefixLength });
      const t0 = performance.now();
      await load(db, num);
      console.log(`${name}: loaded ${num} keys in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${shape(db)}`);
      dbs.push({ name, db, runs: [], skipped: 0, misses: 0 });
    }
    const ids = randomIndexes(2 * Math.ceil(num / PER_PREFIX), seeks, 0x9e3779b9);
    const prefixes = Array.from(ids, (id) => prefixOf(id));
    const expected = new Map<DB, number>();
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? dbs : [...dbs].reverse();
      for (const d of order) {
        const s0 = d.db.stats();
        let entries = 0;
        d.runs.push(await timeLoop(seeks, async () => {
          for (const prefix of prefixes) {
            const it = d.db.iterator({ prefix, limit: k });
            try {
              for (let j = 0; j < k; j++) {
                const e = await it.next();
                if (e.done) break;
                entries++;
              }
            } finally {
              await it.close();
            }
          }
        }));
        const s1 = d.db.stats();
        d.skipped += s1.filter.prefixNegatives - s0.filter.prefixNegatives;
        d.misses += s1.cache.misses - s0.cache.misses;
        if (expected.has(d.db) && expected.get(d.db) !== entries) throw new Error('rounds read different entry counts');
        expected.set(d.db, entries);
      }
    }
    const counts = new Set(expected.values());
    if (counts.size !== 1) throw new Error(`the two databases answered differently: ${[...counts].join(' vs ')} entries`);
    console.log(`${seeks} seeks (half on absent prefixes) + up to ${k} next x ${rounds} rounds, alternated; medians; cache ${values['cache-size']} B`);
    for (const d of dbs) {
      const per = (x: number): string => (x / (seeks * rounds)).toFixed(2);
      console.log(`  ${d.name.padEnd(17)} wall ${median(d.runs.map((x) => x.wallUs)).toFixed(2)} µs  cpu ${median(d.runs.map((x) => x.cpuUs)).toFixed(2)} µs  ` +
        `tables skipped/op ${per(d.skipped)}  cache misses/op ${per(d.misses)}  (rounds: ${d.runs.map((x) => x.wallUs.toFixed(1)).join(' ')})`);
    }
  } finally {
    for (const d of dbs) await d.db.close();
    if (values.dir === undefined) rmSync(root, { recursive: true, force: true });
  }
}

await main();
