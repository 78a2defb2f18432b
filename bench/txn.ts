/**
 * Transaction benchmark (issue #5): committed transactions per second and abort rate for
 * read-modify-write transactions of 1 and 10 keys, under low contention (keys drawn uniformly from
 * the whole filled key space) and high contention (100 hot keys), with 1 and 64 concurrent clients,
 * for both isolation levels; and, beside each low/high row, the same read-modify-write done as plain
 * gets plus one WriteBatch (no isolation), which prices the transaction machinery.
 * Run: npx tsc -p tsconfig.json; node dist/bench/txn.js [--keys 1000000] [--hot 100] [--seconds 2]
 *      [--clients 1,64] [--sync] [--no-yield] [--db DIR] [--out FILE.md]
 * Each client loops: begin, get each key, yield once to the event loop (see think()), put each key, commit; a conflict counts as an abort and the client
 * retries at once with a fresh transaction (no back-off: the abort rate is the raw contention). The
 * 'db.transaction (snapshot)' rows use db.transaction() instead: its retries wait a jittered back-off.
 * 'pessimistic' rows lock (getForUpdate, keys in key order) instead of reading plainly; a deadlock or
 * lock timeout counts as an abort. The contention sweep of both modes is bench/txn-sweep.ts.
 * Figures: wall-clock committed tx/s, abort rate = conflicts / commit attempts, and CPU µs per
 * committed transaction (user + system; on a shared machine wall time also counts waiting for a core).
 * Results: bench/RESULTS-txn.md. Imports only src/index.ts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { DB, WriteBatch, type Isolation, type Transaction } from '../src/index.js';
import { fillKeys, keyOf, rng } from './txn-data.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] ?? dflt : dflt;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

const KEYS = Number(arg('keys', '1000000'));
const HOT = Number(arg('hot', '100'));
const SECONDS = Number(arg('seconds', '2'));
const CLIENTS = arg('clients', '1,64').split(',').map(Number);
const SYNC = flag('sync');
const NO_YIELD = flag('no-yield');
const VALUE_SIZE = 100;

function pickKeys(next: (n: number) => number, space: number, k: number): string[] {
  const out = new Set<number>();
  while (out.size < k) out.add(next(space));
  return [...out].map(keyOf);
}

function bump(v: Uint8Array | undefined): Buffer {
  const b = Buffer.alloc(VALUE_SIZE);
  if (v) b.set(v.subarray(0, VALUE_SIZE));
  b.writeUInt32LE((b.readUInt32LE(0) + 1) >>> 0, 0);
  return b;
}

/**
 * One turn of the event loop between a transaction's reads and its writes, as any transaction doing
 * I/O of its own would take. Without it a cached read-modify-write runs almost synchronously and the
 * abort rate depends on microtask scheduling more than on contention (--no-yield shows that).
 */
const think = (): Promise<void> | undefined => (NO_YIELD ? undefined : new Promise((r) => setImmediate(r)));

const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

type Mode = Isolation | 'pessimistic (snapshot)' | 'plain batch' | 'db.transaction (snapshot)' | 'db.transaction (pessimistic)';
interface Cell { contention: 'low' | 'high'; keys: number; clients: number; mode: Mode }
interface Result extends Cell { committed: number; aborts: number; txPerSec: number; abortRate: number; cpuUsPerTx: number }


async function runCell(db: DB, cell: Cell, seed: number): Promise<Result> {
  const space = cell.contention === 'low' ? KEYS : HOT;
  let committed = 0;
  let aborts = 0;
  const retries0 = db.stats().transactions.retries;
  const deadline = performance.now() + SECONDS * 1000;
  const c0 = cpuMs();
  const t0 = performance.now();
  const client = async (c: number): Promise<void> => {
    const next = rng(seed * 1000 + c + 1);
    while (performance.now() < deadline) {
      const pessimistic = cell.mode === 'pessimistic (snapshot)' || cell.mode === 'db.transaction (pessimistic)';
      // Pessimistic transactions lock in key order, which keeps them out of deadlocks.
      const keys = pessimistic ? pickKeys(next, space, cell.keys).sort() : pickKeys(next, space, cell.keys);
      const read = (tx: Transaction, k: string): Promise<Uint8Array | undefined> => (pessimistic ? tx.getForUpdate(k) : tx.get(k));
      if (cell.mode === 'db.transaction (snapshot)' || cell.mode === 'db.transaction (pessimistic)') {
        await db.transaction(async (tx) => {
          const vs: (Uint8Array | undefined)[] = [];
          for (const k of keys) vs.push(await read(tx, k));
          await think();
          keys.forEach((k, i) => tx.put(k, bump(vs[i])));
        }, { retries: 1_000_000, sync: SYNC, locking: pessimistic ? 'pessimistic' : 'optimistic' });
        committed++;
        continue;
      }
      if (cell.mode === 'plain batch') {
        const vs: (Uint8Array | undefined)[] = [];
        for (const k of keys) vs.push(await db.get(k));
        await think();
        const b = new WriteBatch();
        keys.forEach((k, i) => b.put(k, bump(vs[i])));
        await db.write(b, { sync: SYNC });
        committed++;
        continue;
      }
      for (;;) { // retry the same keys until it commits
        const tx = pessimistic
          ? db.beginTransaction({ locking: 'pessimistic', sync: SYNC })
          : db.beginTransaction({ isolation: cell.mode as Isolation, sync: SYNC });
        const vs: (Uint8Array | undefined)[] = [];
        let failed = false;
        for (const k of keys) {
          try {
            vs.push(await read(tx, k));
          } catch (e) {
            if ((e as { code?: string }).code !== 'ERR_TXN_CONFLICT' && (e as { code?: string }).code !== 'ERR_TXN_TIMEOUT') throw e;
            failed = true;
            break;
          }
        }
        if (failed) {
          tx.rollback();
          aborts++;
          if (performance.now() >= deadline) return;
          continue;
        }
        await think();
        keys.forEach((k, i) => tx.put(k, bump(vs[i])));
        try {
          await tx.commit();
          committed++;
          break;
        } catch (e) {
          if ((e as { code?: string }).code !== 'ERR_TXN_CONFLICT' && (e as { code?: string }).code !== 'ERR_TXN_TIMEOUT') throw e;
          aborts++;
          if (performance.now() >= deadline) return;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: cell.clients }, (_, c) => client(c)));
  const wall = (performance.now() - t0) / 1000;
  // db.transaction retries inside: count its failed attempts (refused commits, deadlock victims, timeouts).
  if (cell.mode.startsWith('db.transaction')) aborts = db.stats().transactions.retries - retries0;
  const cpu = cpuMs() - c0;
  return {
    ...cell, committed, aborts,
    txPerSec: committed / wall,
    abortRate: aborts / Math.max(1, committed + aborts),
    cpuUsPerTx: (cpu * 1000) / Math.max(1, committed),
  };
}

function table(results: Result[]): string {
  const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const plain = new Map(results.filter((r) => r.mode === 'plain batch').map((r) => [`${r.contention}/${r.keys}/${r.clients}`, r]));
  const lines = [
    '| contention | keys/txn | clients | mode | committed tx/s | abort rate | CPU µs/committed tx | CPU cost vs plain batch |',
    '|---|---:|---:|---|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const p = plain.get(`${r.contention}/${r.keys}/${r.clients}`);
    const ratio = r.mode === 'plain batch' || !p ? '–' : `${(r.cpuUsPerTx / p.cpuUsPerTx).toFixed(2)}×`;
    lines.push(`| ${r.contention === 'low' ? `low (${fmt(KEYS)} keys)` : `high (${HOT} hot keys)`} | ${r.keys} | ${r.clients} | ${r.mode} | ` +
      `${fmt(r.txPerSec)} | ${r.mode === 'plain batch' ? '–' : `${(r.abortRate * 100).toFixed(1)}%`} | ${fmt(r.cpuUsPerTx, 1)} | ${ratio} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const given = arg('db', '');
  const dir = given || await mkdtemp(join(tmpdir(), 'strata-txn-bench-'));
  const db = await DB.open(dir, {});
  try {
    process.stderr.write(`filling ${KEYS.toLocaleString('en')} keys (${VALUE_SIZE} B values) in ${dir}\n`);
    const fillSeconds = await fillKeys(db, KEYS, VALUE_SIZE);
    process.stderr.write(`filled in ${fillSeconds.toFixed(1)} s\n`);
    const results: Result[] = [];
    let seed = 1;
    await runCell(db, { contention: 'low', keys: 1, clients: 1, mode: 'snapshot' }, 0); // warm-up (JIT, caches)
    for (const contention of ['low', 'high'] as const) {
      for (const keys of [1, 10]) {
        for (const clients of CLIENTS) {
          const modes: Mode[] = ['plain batch', 'snapshot', 'serializable', 'pessimistic (snapshot)'];
          if (clients > 1) modes.push('db.transaction (snapshot)', 'db.transaction (pessimistic)');
          for (const mode of modes) {
            const r = await runCell(db, { contention, keys, clients, mode }, seed++);
            results.push(r);
            process.stderr.write(`${contention} ${keys} keys ${clients} clients ${mode}: ${r.txPerSec.toFixed(0)} tx/s, ` +
              `aborts ${(r.abortRate * 100).toFixed(1)}%, ${r.cpuUsPerTx.toFixed(1)} CPU µs/tx\n`);
          }
        }
      }
    }
    const st = db.stats();
    const header = [
      `Command: \`node dist/bench/txn.js ${process.argv.slice(2).join(' ')}\`. Date: ${new Date().toISOString()}.`,
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ` +
        `load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' / ')}.`,
      `Fill: ${KEYS.toLocaleString('en')} keys of ${VALUE_SIZE} B values in ${fillSeconds.toFixed(1)} s; ${SECONDS} s per cell; sync ${SYNC}; ` +
        `${NO_YIELD ? 'no yield' : 'one setImmediate'} between reads and writes. ` +
        `Engine totals: ${st.transactions.commits} commits, ${st.transactions.conflicts} conflicts.`,
    ].join('\n');
    const out = `${header}\n\n${table(results)}\n`;
    process.stdout.write(out);
    const file = arg('out', '');
    if (file) await writeFile(file, out);
  } finally {
    await db.close();
    if (!given) await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
