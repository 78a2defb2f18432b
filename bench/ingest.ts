/**
 * Bulk-load benchmark: N keys (--num, default 10,000,000; --key-size 16, --value-size 100, the
 * db_bench data of workload-data.ts: sorted decimal keys, half-compressible values) loaded two ways
 * into fresh databases under the default options:
 * - fillbatch: db.write() of batches of 1000 (as `stratadb bench fillbatch`), then close (which
 *   flushes the memtable and waits for the running compactions);
 * - ingest: the keys written as --files external tables (ExternalTableWriter from stratadb/sstable),
 *   then ONE db.ingest() of them all, then close.
 * Reports wall time, entries/s and write amplification: bytes written to disk over user bytes (key +
 * value), counting for fillbatch the WAL, flushes and compactions (stats().writeAmplification) and for
 * ingest the external tables plus the tables the ingest wrote (and any compaction after it).
 * Run: npm run bench:ingest -- [--num N] [--files F] [--dir D]. Prints a markdown table for
 * bench/RESULTS.md. Everything is written under a fresh temp directory in --dir (default os.tmpdir())
 * and deleted, also on failure. Uses only the public entry points (src/index.ts, sstable/index.ts).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DB, WriteBatch } from '../src/index.js';
import { ExternalTableWriter } from '../sstable/index.js';
import { KeyFormat, ValuePool } from './workload-data.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}

const num = Number(arg('num', '10000000'));
const keySize = Number(arg('key-size', '16'));
const valueSize = Number(arg('value-size', '100'));
const fileCount = Number(arg('files', '10'));
if (![num, keySize, valueSize, fileCount].every((n) => Number.isInteger(n) && n > 0)) throw new Error('--num, --key-size, --value-size and --files take positive integers');
const BATCH = 1000;
const userBytes = num * (keySize + valueSize);
const keys = new KeyFormat(keySize);
keys.check(num);

interface Row { method: string; wallS: number; parts: string; bytesWritten: number }

async function fillbatch(dir: string): Promise<Row> {
  const values = new ValuePool(valueSize, 1);
  const t0 = performance.now();
  const db = await DB.open(dir);
  for (let from = 0; from < num; from += BATCH) {
    const b = new WriteBatch();
    for (let i = from; i < Math.min(num, from + BATCH); i++) b.put(keys.keyOf(i), values.next());
    await db.write(b);
  }
  const tWrites = performance.now();
  await db.flush();
  const s = db.stats();
  await db.close();
  const t1 = performance.now();
  const written = s.writeAmplification * s.userBytesWritten;
  return { method: 'fillbatch (WriteBatch of 1000)', wallS: (t1 - t0) / 1000, bytesWritten: written,
    parts: `writes ${((tWrites - t0) / 1000).toFixed(1)} s, flush + close ${((t1 - tWrites) / 1000).toFixed(1)} s` };
}

async function ingest(dir: string, extDir: string): Promise<Row> {
  const values = new ValuePool(valueSize, 1);
  const t0 = performance.now();
  const files: string[] = [];
  let externalBytes = 0;
  const per = Math.ceil(num / fileCount);
  for (let f = 0; f * per < num; f++) {
    const path = join(extDir, `part-${String(f).padStart(4, '0')}.sst`);
    const w = await ExternalTableWriter.create(path);
    for (let i = f * per; i < Math.min(num, (f + 1) * per); i++) {
      const p = w.add(keys.keyOf(i), values.next());
      if (p) await p;
    }
    externalBytes += (await w.finish()).fileSize;
    files.push(path);
  }
  const tWritten = performance.now();
  const db = await DB.open(dir);
  const r = await db.ingest(files, { move: true });
  const tIngested = performance.now();
  const s = db.stats();
  await db.close();
  const t1 = performance.now();
  if (r.entries !== num) throw new Error(`ingested ${r.entries} entries, expected ${num}`);
  let tableBytes = 0;
  for (const l of s.levels) tableBytes += l.bytes;
  const levels = [...new Set(r.files.map((f) => `L${f.level}`))].join(',');
  return { method: `ingest (${files.length} external tables, one db.ingest)`, wallS: (t1 - t0) / 1000,
    bytesWritten: externalBytes + tableBytes + s.compactions.bytesWritten,
    parts: `external tables ${((tWritten - t0) / 1000).toFixed(1)} s, ingest ${((tIngested - tWritten) / 1000).toFixed(1)} s (into ${levels}), close ${((t1 - tIngested) / 1000).toFixed(1)} s` };
}

const root = mkdtempSync(join(arg('dir', tmpdir()), 'strata-bench-ingest-'));
try {
  const rows: Row[] = [];
  rows.push(await fillbatch(join(root, 'fillbatch')));
  rmSync(join(root, 'fillbatch'), { recursive: true, force: true });
  const ext = join(root, 'ext');
  mkdirSync(ext);
  rows.push(await ingest(join(root, 'ingest'), ext));
  console.log(`bulk load: ${num.toLocaleString('en-US')} keys, ${keySize} B keys, ${valueSize} B values ` +
    `(${(userBytes / 2 ** 20).toFixed(0)} MiB of user data), default options; ${cpus().length} CPUs, load ${loadavg()[0]!.toFixed(2)}\n`);
  console.log('| method | wall | entries/s | write amp. | where the time went |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.method} | ${r.wallS.toFixed(1)} s | ${Math.round(num / r.wallS).toLocaleString('en-US')} | ` +
      `${(r.bytesWritten / userBytes).toFixed(2)} | ${r.parts} |`);
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
