/**
 * WAL recycling (recycleLogFileNum) measured: synced puts from C writers in flight (fillsync:C's
 * shape: 16-byte random keys, 100-byte values) on a real directory, with and without recycling,
 * alternated in one sitting, median of the rounds. A small writeBufferSize makes WALs roll over
 * (and become obsolete, hence reusable) within the run; with the default 64 MiB a fresh database
 * writes its first WAL by appending whatever the option says.
 * --wal-only: the WAL alone (no engine, no flushes): ops groups of one put, each appended and
 * fdatasynced, into a fresh file vs into a reused full-size one (what a recycled WAL is).
 * Usage: node dist/bench/wal-recycle.js [--ops N] [--concurrency C] [--rounds R] [--write-buffer-size B] [--recycle N] [--wal-only]
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DB, NodeFileSystem } from '../src/index.js';
import { WalWriter } from '../src/wal/wal-writer.js';
import { WalGroupEncoder } from '../src/wal/wal-record.js';
import { WriteBatch } from '../src/wal/write-batch.js';

const { values } = parseArgs({
  options: {
    ops: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '3' },
    'write-buffer-size': { type: 'string', default: String(1 << 20) },
    recycle: { type: 'string', default: '4' },
    'wal-only': { type: 'boolean', default: false },
  },
});
const OPS = Number(values.ops);
const C = Number(values.concurrency);
const ROUNDS = Number(values.rounds);
const WBS = Number(values['write-buffer-size']);
const RECYCLE = Number(values.recycle);

async function run(recycleLogFileNum: number, seed: number): Promise<{ opsPerSec: number; reused: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'stratadb-walrec-'));
  try {
    const db = await DB.open(dir, { writeBufferSize: WBS, recycleLogFileNum });
    let x = seed >>> 0 || 1; // xorshift32: the same keys for the same round in both runs
    const value = Buffer.alloc(100, 'v');
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: C }, async () => {
      while (next < OPS) {
        next++;
        x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
        const key = x.toString(16).padStart(16, '0');
        await db.put(key, value, { sync: true });
      }
    }));
    const ms = performance.now() - t0;
    await db.close();
    const log = await readFile(join(dir, 'LOG'), 'utf8').catch(() => '');
    const reused = log.split('\n').filter((l) => l.includes('reuses the file of WAL')).length;
    return { opsPerSec: (OPS / ms) * 1000, reused };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Microseconds per synced group: appended to a new file, or written over a reused one. */
async function walOnly(reuse: boolean): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'stratadb-walrec-'));
  try {
    const fs = new NodeFileSystem();
    const e = new WalGroupEncoder();
    const value = Buffer.alloc(100, 'v');
    const fill = async (w: WalWriter, n: number, timed: boolean): Promise<number> => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        const b = new WriteBatch();
        b.put(i.toString(16).padStart(16, '0'), value);
        e.begin(i + 1, 0, 1);
        e.addBatch(b);
        w.appendGroup(e.finish());
        if (timed) await w.sync();
      }
      return performance.now() - t0;
    };
    if (reuse) {
      const old = new WalWriter(await fs.openWritable(join(dir, '000001.log')), 1, undefined, true);
      await fill(old, OPS * 2, false);
      await old.sync();
      await old.close();
      await fs.rename(join(dir, '000001.log'), join(dir, '000002.log'));
      await fs.syncDir(dir);
    }
    const file = reuse
      ? await fs.openWritable(join(dir, '000002.log'), { overwrite: true })
      : await fs.openWritable(join(dir, '000002.log'), { exclusive: true });
    const w = new WalWriter(file, 2, undefined, true);
    const ms = await fill(w, OPS, true);
    await w.close();
    return (ms * 1000) / OPS;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (values['wal-only']) {
  const fresh: number[] = [];
  const reused: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    fresh.push(await walOnly(false));
    reused.push(await walOnly(true));
    console.log(`round ${r + 1}: append ${fresh[r]!.toFixed(0)} µs/synced group; overwrite ${reused[r]!.toFixed(0)} µs/synced group`);
  }
  console.log(`median: append ${median(fresh).toFixed(0)} µs, overwrite ${median(reused).toFixed(0)} µs, ratio ${(median(fresh) / median(reused)).toFixed(2)}x (${OPS} groups)`);
  process.exit(0);
}

const off: number[] = [];
const on: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const a = await run(0, r + 1);
  const b = await run(RECYCLE, r + 1);
  off.push(a.opsPerSec);
  on.push(b.opsPerSec);
  console.log(`round ${r + 1}: recycleLogFileNum=0 ${a.opsPerSec.toFixed(0)} ops/s; recycleLogFileNum=${RECYCLE} ${b.opsPerSec.toFixed(0)} ops/s (${b.reused} WALs reused)`);
}
console.log(`median: off ${median(off).toFixed(0)} ops/s, on ${median(on).toFixed(0)} ops/s, ratio ${(median(on) / median(off)).toFixed(2)}x ` +
  `(${OPS} synced puts, ${C} in flight, writeBufferSize ${WBS})`);
