/**
 * What one large write costs in memory, per put: a transaction of N puts (8-byte keys and values by
 * default) committed alone, the same with another transaction open during the commit (the conflict
 * tracker then keeps the commit's keys), and the same N puts written as one plain WriteBatch with no
 * transaction: the floor every write of that data pays (the encoded batch, then the database memtable).
 * 'tx-bytes' is 'tx' with keys and values written into two reused byte arrays instead of made as
 * strings: the 2,000,000 strings and their UTF-8 copies are the caller's garbage, and the young
 * generation they grow adds ~50 MiB of RSS of its own (measured with no database at all).
 * Each case runs in a fresh child process (peak RSS is per process) with --expose-gc; the figures
 * are added bytes over a baseline taken after the database is open: heap + ArrayBuffers after two
 * collections (dead buffers are freed by a sweep that may outlast the first), and peak RSS (maxRSS).
 * Run: npx tsc -p tsconfig.json; node dist/bench/txn-memory.js [--ops 1000000] [--value 8]
 * Results: bench/RESULTS-txn.md "Large transactions: memory". Imports only src/index.ts.
 */
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DB, WriteBatch } from '../src/index.js';

type Case = 'tx' | 'tx+open' | 'tx-bytes' | 'batch';
const CASES: Case[] = ['tx', 'tx+open', 'tx-bytes', 'batch'];

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] ?? dflt : dflt;
}

const OPS = Number(arg('ops', '1000000'));
const VALUE = Number(arg('value', '8'));
const MiB = 1024 * 1024;

interface Row {
  case: Case; ops: number; dataBytes: number;
  /** heap + ArrayBuffers added once everything is buffered (the write buffer, or the WriteBatch). */
  buffered: number;
  /** What the structure itself counts (tx.bufferedBytes, or the WriteBatch's encoded bytes). */
  counted: number;
  /** heap + ArrayBuffers added after the commit, while another transaction is still open (tx+open). */
  after: number;
  memtable: number; tracker: number;
  /** once no transaction is open */
  settled: number;
  peakRss: number;
}

function mem(gc: () => void): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const maxRss = (): number => process.resourceUsage().maxRSS * 1024;

const key = (i: number): string => `k${String(i).padStart(7, '0')}`;
const value = (i: number): string => `v${String(i).padStart(VALUE - 1, '0')}`;
/** Writes i's decimal digits over b[1..] (as key(i) and value(i) spell them), in place. */
function digits(b: Uint8Array, i: number): Uint8Array {
  for (let d = b.length - 1; d >= 1; d--) { b[d] = 48 + (i % 10); i = Math.floor(i / 10); }
  return b;
}

/** Buffers the N puts, measures, and writes them; what was buffered and what the structure counts. */
async function write(db: DB, c: Case, added: () => number): Promise<{ buffered: number; counted: number }> {
  if (c === 'batch') {
    const b = new WriteBatch();
    for (let i = 0; i < OPS; i++) b.put(key(i), value(i));
    const r = { buffered: added(), counted: b.byteLength };
    await db.write(b);
    return r;
  }
  const tx = db.beginTransaction();
  if (c === 'tx-bytes') {
    const kb = new TextEncoder().encode(key(0)), vb = new TextEncoder().encode(value(0));
    for (let i = 0; i < OPS; i++) tx.put(digits(kb, i), digits(vb, i)); // the log copies them in
  } else {
    for (let i = 0; i < OPS; i++) tx.put(key(i), value(i));
  }
  const r = { buffered: added(), counted: tx.bufferedBytes };
  await tx.commit();
  return r;
}

async function child(c: Case): Promise<Row> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const dir = await mkdtemp(join(tmpdir(), 'strata-txn-memory-'));
  const db = await DB.open(dir, { compactionExecutor: 'inline' });
  const m0 = mem(gc);
  const rss0 = maxRss();
  const other = c === 'tx+open' ? db.beginTransaction() : undefined;
  // In a function of its own: the batch or transaction is unreachable once it returns.
  const { buffered, counted } = await write(db, c, () => mem(gc) - m0);
  const peakRss = maxRss() - rss0;
  const after = mem(gc) - m0;
  const memtable = db.stats().memory.memtables;
  const tracker = db.engine.writes.tracker.bytes;
  other?.rollback();
  const settled = mem(gc) - m0;
  await db.close();
  await rm(dir, { recursive: true, force: true });
  return { case: c, ops: OPS, dataBytes: OPS * (8 + VALUE), buffered, counted, after, memtable, tracker, settled, peakRss };
}

async function main(): Promise<void> {
  const only = arg('case', '');
  if (only) {
    process.send!(await child(only as Case));
    return;
  }
  const self = fileURLToPath(import.meta.url);
  const rows: Row[] = [];
  for (const c of CASES) {
    rows.push(await new Promise<Row>((resolve, reject) => {
      const p = fork(self, ['--case', c, '--ops', String(OPS), '--value', String(VALUE)], { execArgv: ['--expose-gc'] });
      p.once('message', (m) => resolve(m as Row));
      p.once('error', reject);
      p.once('exit', (code) => { if (code !== 0) reject(new Error(`case ${c} exited with ${code}`)); });
    }));
  }
  const data = rows[0]!.dataBytes;
  const f = (b: number): string => `${(b / MiB).toFixed(1)} MiB (${(b / OPS).toFixed(1)} B, ${(b / data).toFixed(1)}×)`;
  console.log(`${OPS.toLocaleString('en')} puts of 8 B keys and ${VALUE} B values: ${(data / MiB).toFixed(1)} MiB of data; per put and × the data in brackets\n`);
  console.log('| case | buffered (heap + buffers) | structure counted | after commit | db memtable | tracker | once no transaction is open | peak RSS added |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.case} | ${f(r.buffered)} | ${f(r.counted)} | ${f(r.after)} | ${f(r.memtable)} | ${f(r.tracker)} | ${f(r.settled)} | ${f(r.peakRss)} |`);
  }
}

await main();
