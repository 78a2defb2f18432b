/**
 * `node dist/bench/get-path.js [--num N] [--gets N] [--rounds R] [--dir DIR]`: the warm point-read
 * path alone. Writes N keys (16 B, values 100 B) into a database on the real disk with a block cache
 * that holds everything, flushes and compacts to one sorted run, reads every key once to warm the
 * caches, then times R rounds of `gets` random awaited db.get and of db.getSync, reporting µs per get
 * (wall, performance.now) and CPU µs per get (process.cpuUsage), median over the rounds. Run it under
 * `node --cpu-prof` for where the time goes. Nothing else runs meanwhile: it is a loop, not a workload.
 * The database lives in a temporary directory that is deleted afterwards (unless --dir names one).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DB } from '../src/index.js';
import { keyOf, loadSortedRun, median, randomIndexes, timeLoop, type Timing } from './micro-loop.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      num: { type: 'string', default: '200000' },
      gets: { type: 'string', default: '200000' },
      rounds: { type: 'string', default: '5' },
      dir: { type: 'string' },
    },
  });
  const num = Number(values.num);
  const gets = Number(values.gets);
  const rounds = Number(values.rounds);
  const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'strata-get-path-'));
  const db = await DB.open(dir, { cacheSize: 256 * 1024 * 1024 });
  try {
    await loadSortedRun(db, num);
    const keys = Array.from({ length: num }, (_, i) => keyOf(i));
    // Warm: every table open, every block in the cache.
    for (const k of keys) if (db.getSync(k) === undefined) throw new Error(`missing ${k.toString()}`);

    const order = randomIndexes(num, gets, 0x9e3779b9);
    const asyncRuns: Timing[] = [];
    const syncRuns: Timing[] = [];
    let found = 0;
    for (let r = 0; r < rounds; r++) {
      asyncRuns.push(await timeLoop(gets, async () => {
        for (let i = 0; i < gets; i++) if (await db.get(keys[order[i]!]!)) found++;
      }));
      syncRuns.push(await timeLoop(gets, () => {
        for (let i = 0; i < gets; i++) if (db.getSync(keys[order[i]!]!)) found++;
      }));
    }
    if (found !== 2 * rounds * gets) throw new Error(`found ${found} of ${2 * rounds * gets}`);
    const fmt = (xs: Timing[]): string =>
      `wall ${median(xs.map((x) => x.wallUs)).toFixed(2)} µs/get, cpu ${median(xs.map((x) => x.cpuUs)).toFixed(2)} µs/get`;
    console.log(`keys ${num}, gets ${gets} x ${rounds} rounds (medians)`);
    console.log(`  get (awaited): ${fmt(asyncRuns)}`);
    console.log(`  getSync:       ${fmt(syncRuns)}`);
  } finally {
    await db.close();
    if (values.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
