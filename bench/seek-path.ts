/**
 * `node dist/bench/seek-path.js [--num N] [--seeks N] [--rounds R] [--next K] [--l0 F] [--dir DIR]`:
 * the warm range-read path alone, seekrandom's operation (bench/workloads.ts) without the harness:
 * db.iterator({ gte: random key, limit: K }), K awaited next(), close(). Writes N keys (16 B,
 * values 100 B) with a block cache that holds everything, flushes and compacts to one sorted run
 * (then, with --l0 F, adds F small overlapping L0 tables so the merge has more children), walks
 * everything once to warm the caches, then times R rounds of `seeks` seeks, reporting µs per
 * seek + K next (wall, performance.now) and CPU µs (process.cpuUsage), medians over the rounds.
 * Run it under `node --cpu-prof` for where the time goes. The database lives in a temporary
 * directory that is deleted afterwards (unless --dir names one).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DB, WriteBatch } from '../src/index.js';
import { VALUE, keyOf, loadSortedRun, median, randomIndexes, timeLoop, type Timing } from './micro-loop.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      num: { type: 'string', default: '200000' },
      seeks: { type: 'string', default: '50000' },
      rounds: { type: 'string', default: '5' },
      next: { type: 'string', default: '10' },
      l0: { type: 'string', default: '0' },
      dir: { type: 'string' },
    },
  });
  const num = Number(values.num);
  const seeks = Number(values.seeks);
  const rounds = Number(values.rounds);
  const k = Number(values.next);
  const l0 = Number(values.l0);
  const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'strata-seek-path-'));
  // No idle compaction: the L0 tables asked for must stay L0 while the loop runs.
  const db = await DB.open(dir, { cacheSize: 256 * 1024 * 1024, idleCompactionDelayMs: 0 });
  try {
    await loadSortedRun(db, num);
    for (let f = 0; f < l0; f++) {
      // A sparse overwrite spread over the whole key range: each table overlaps every seek.
      const batch = new WriteBatch();
      for (let j = f; j < num; j += 97) batch.put(keyOf(j), VALUE);
      await db.write(batch);
      await db.flush();
    }
    const keys = Array.from({ length: num }, (_, i) => keyOf(i));
    let warm = 0;
    for await (const _ of db.iterator()) warm++;
    if (warm !== num) throw new Error(`warm walk saw ${warm} of ${num}`);

    const order = randomIndexes(num, seeks, 0x9e3779b9);
    const runs: Timing[] = [];
    let entries = 0;
    let expected = 0;
    for (let i = 0; i < seeks; i++) expected += Math.min(k, num - order[i]!);
    for (let r = 0; r < rounds; r++) {
      runs.push(await timeLoop(seeks, async () => {
        for (let i = 0; i < seeks; i++) {
          const it = db.iterator({ gte: keys[order[i]!]!, limit: k });
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
    }
    if (entries !== rounds * expected) throw new Error(`read ${entries} entries, expected ${rounds * expected}`);
    console.log(`keys ${num}, l0 tables ${l0}, ${seeks} seeks + ${k} next x ${rounds} rounds (medians)`);
    console.log(`  seek + ${k} next: wall ${median(runs.map((x) => x.wallUs)).toFixed(2)} µs, cpu ${median(runs.map((x) => x.cpuUs)).toFixed(2)} µs`);
  } finally {
    await db.close();
    if (values.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
