/**
 * Contention sweep for the two locking modes: db.transaction() read-modify-writes of up to 10 keys
 * drawn from 1, 10, 100 or 10,000 hot keys (and uniformly from the whole filled space), by 1, 8 and
 * 64 clients, optimistic (plain gets, jittered back-off on a conflict) against pessimistic
 * (getForUpdate, FIFO lock waits). Per cell: committed tx/s, function runs per commit, abort rate
 * (failed attempts / attempts), lock timeouts, p50/p99/max transaction latency (first attempt to
 * commit, retries and back-off included). Both modes run in one process, cell after cell, so a
 * noisy machine affects both alike; --rounds repeats the sweep and the table shows medians.
 * Run: npx tsc -p tsconfig.json; node dist/bench/txn-sweep.js [--keys 100000] [--seconds 2]
 *      [--hot 1,10,100,10000] [--clients 1,8,64] [--rounds 3] [--unsorted] [--out FILE.md]
 * Results: bench/RESULTS-txn.md "Locking modes". Imports only src/index.ts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { DB, type Locking } from '../src/index.js';
import { fillKeys, keyOf, rng } from './txn-data.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] ?? dflt : dflt;
}

const KEYS = Number(arg('keys', '100000'));
const SECONDS = Number(arg('seconds', '2'));
const HOTS = arg('hot', `1,10,100,10000,${KEYS}`).split(',').map(Number);
const CLIENTS = arg('clients', '1,8,64').split(',').map(Number);
const ROUNDS = Number(arg('rounds', '3'));
const UNSORTED = process.argv.includes('--unsorted');
const KEYS_PER_TXN = 10;
const VALUE_SIZE = 100;
const MODES: Locking[] = ['optimistic', 'pessimistic'];

/**
 * Distinct keys, in key order unless --unsorted: locking in one global order is what keeps pessimistic
 * transactions out of deadlocks (the optimistic mode does not care about the order).
 */
function pickKeys(next: (n: number) => number, space: number): string[] {
  const want = Math.min(KEYS_PER_TXN, space);
  const out = new Set<number>();
  while (out.size < want) out.add(next(space));
  const ids = [...out];
  if (!UNSORTED) ids.sort((a, b) => a - b);
  return ids.map(keyOf);
}

function bump(v: Uint8Array | undefined): Buffer {
  const b = Buffer.alloc(VALUE_SIZE);
  if (v) b.set(v.subarray(0, VALUE_SIZE));
  b.writeUInt32LE((b.readUInt32LE(0) + 1) >>> 0, 0);
  return b;
}

const think = (): Promise<void> => new Promise((r) => setImmediate(r));

interface Cell { hot: number; clients: number; mode: Locking }
interface Result extends Cell { txPerSec: number; runsPerCommit: number; abortRate: number; timeouts: number; p50: number; p99: number; max: number }

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function runCell(db: DB, cell: Cell, seed: number): Promise<Result> {
  let committed = 0;
  let runs = 0;
  const latencies: number[] = [];
  const st0 = db.stats().transactions;
  const deadline = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  const client = async (c: number): Promise<void> => {
    const next = rng(seed * 1000 + c + 1);
    while (performance.now() < deadline) {
      const keys = pickKeys(next, cell.hot);
      const start = performance.now();
      await db.transaction(async (tx) => {
        runs++;
        const vs: (Uint8Array | undefined)[] = [];
        for (const k of keys) vs.push(await (cell.mode === 'pessimistic' ? tx.getForUpdate(k) : tx.get(k)));
        await think(); // the event-loop turn any transaction doing I/O of its own takes
        keys.forEach((k, i) => tx.put(k, bump(vs[i])));
      }, { locking: cell.mode, retries: 1_000_000 });
      latencies.push(performance.now() - start);
      committed++;
    }
  };
  await Promise.all(Array.from({ length: cell.clients }, (_, c) => client(c)));
  const wall = (performance.now() - t0) / 1000;
  const st1 = db.stats().transactions;
  latencies.sort((a, b) => a - b);
  return {
    ...cell,
    txPerSec: committed / wall,
    runsPerCommit: runs / Math.max(1, committed),
    abortRate: (runs - committed) / Math.max(1, runs),
    timeouts: st1.lockTimeouts - st0.lockTimeouts,
    p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: latencies[latencies.length - 1] ?? 0,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function table(rounds: Result[][]): string {
  const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const lines = [
    '| hot keys | clients | locking | committed tx/s | fn runs / commit | abort rate | lock timeouts | p50 ms | p99 ms | max ms |',
    '|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (let i = 0; i < rounds[0]!.length; i++) {
    const rs = rounds.map((r) => r[i]!);
    const m = (f: (r: Result) => number): number => median(rs.map(f));
    const r0 = rs[0]!;
    lines.push(`| ${r0.hot === KEYS ? `${fmt(KEYS)} (uniform)` : fmt(r0.hot)} | ${r0.clients} | ${r0.mode} | ${fmt(m((r) => r.txPerSec))} | ` +
      `${fmt(m((r) => r.runsPerCommit), 2)} | ${(m((r) => r.abortRate) * 100).toFixed(1)}% | ${fmt(m((r) => r.timeouts))} | ` +
      `${fmt(m((r) => r.p50), 1)} | ${fmt(m((r) => r.p99), 1)} | ${fmt(m((r) => r.max), 1)} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-txn-sweep-'));
  const db = await DB.open(dir, {});
  try {
    await fillKeys(db, KEYS, VALUE_SIZE);
    await runCell(db, { hot: 100, clients: 8, mode: 'optimistic' }, 0); // warm-up (JIT)
    await runCell(db, { hot: 100, clients: 8, mode: 'pessimistic' }, 0);
    const rounds: Result[][] = [];
    let seed = 1;
    for (let round = 0; round < ROUNDS; round++) {
      const results: Result[] = [];
      let cell = 0;
      for (const hot of HOTS) {
        for (const clients of CLIENTS) {
          // Alternate which mode goes first, between rounds for the same cell and between cells in a
          // round: the first of a pair also inherits the flushes and compactions the cell before it owed.
          const order = (round + cell++) % 2 === 0 ? MODES : [...MODES].reverse();
          const pair: Result[] = [];
          for (const mode of order) pair.push(await runCell(db, { hot, clients, mode }, seed));
          seed++;
          pair.sort((a, b) => MODES.indexOf(a.mode) - MODES.indexOf(b.mode));
          for (const r of pair) {
            results.push(r);
            process.stderr.write(`round ${round} hot ${hot} clients ${clients} ${r.mode}: ${r.txPerSec.toFixed(0)} tx/s, ` +
              `${r.runsPerCommit.toFixed(2)} runs/commit, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(1)} ms, timeouts ${r.timeouts}\n`);
          }
        }
      }
      rounds.push(results);
    }
    const header = [
      `Command: \`node dist/bench/txn-sweep.js ${process.argv.slice(2).join(' ')}\`. Date: ${new Date().toISOString()}.`,
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ` +
        `load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' / ')}.`,
      `${KEYS.toLocaleString('en')} keys of ${VALUE_SIZE} B; ${SECONDS} s per cell; ${ROUNDS} rounds, medians shown; ` +
        `${KEYS_PER_TXN} keys per transaction (fewer when fewer are hot), ${UNSORTED ? 'in random order' : 'in key order'}, ` +
        'one setImmediate between reads and writes; db.transaction defaults.',
    ].join('\n');
    const out = `${header}\n\n${table(rounds)}\n`;
    process.stdout.write(out);
    const file = arg('out', '');
    if (file) await writeFile(file, out);
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
