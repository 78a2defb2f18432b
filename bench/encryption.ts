/**
 * The cost of encryption at rest (issue #9): fillrandom, compaction throughput and readrandom with a
 * block cache smaller than the data, plain vs AES-256-GCM, in the same run. Rounds alternate the two
 * configurations (plain, encrypted, plain, ...) so machine noise hits both alike; medians are reported
 * with the encrypted/plain ratio.
 *
 * node dist/bench/encryption.js [--num 200000] [--reads 100000] [--rounds 3] [--cache-mib 1] [--out FILE.md]
 * Uses only the public API (src/index.ts). Databases go to a temp directory, removed at the end.
 */
import { mkdtempSync, rmSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DB, WriteBatch, staticKeyProvider, type Options } from '../src/index.js';
import { halfRandomValue, spreadKey } from './workload-data.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

const NUM = Number(arg('num', '200000'));
const READS = Number(arg('reads', '100000'));
const ROUNDS = Number(arg('rounds', '3'));
const CACHE = Number(arg('cache-mib', '1')) * 1024 * 1024;
const OUT = arg('out', '');

const key = spreadKey;
const value = halfRandomValue;

function dirBytes(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) { const s = statSync(join(dir, f)); if (s.isFile()) n += s.size; }
  return n;
}

interface Round { batchOps: number; fillOps: number; compactMBs: number; readOps: number; fillCpuUs: number; readCpuUs: number; diskBytes: number }

function cpuUs(): number { const u = process.cpuUsage(); return u.user + u.system; }

async function round(encrypted: boolean, root: string, r: number): Promise<Round> {
  const dir = join(root, `${encrypted ? 'enc' : 'plain'}-${r}`);
  const enc: Options = encrypted ? { encryption: { keyProvider: staticKeyProvider({ bench: randomBytes(32) }, 'bench') } } : {};
  let db = await DB.open(dir, { ...enc });
  const k = Buffer.alloc(16);
  let c0 = cpuUs();
  let t0 = performance.now();
  for (let i = 0; i < NUM; i++) await db.put(key(i, k), value(i));
  const fillMs = performance.now() - t0;
  const fillCpu = cpuUs() - c0;
  // fillbatch: the same number of entries again, in batches of 1000 (one WAL record per batch)
  t0 = performance.now();
  for (let i = 0; i < NUM; i += 1000) {
    const b = new WriteBatch();
    for (let j = i; j < i + 1000 && j < NUM; j++) b.put(key(NUM + j, k), value(j));
    await db.write(b);
  }
  const batchMs = performance.now() - t0;
  await db.flush();
  // Compaction throughput: everything from L0 (and whatever the fill compacted) down in one go.
  t0 = performance.now();
  await db.compactRange();
  const compactMs = performance.now() - t0;
  const st = db.stats();
  await db.close();
  const diskBytes = dirBytes(dir);
  db = await DB.open(dir, { ...enc, cacheSize: CACHE });
  let seed = 12345 + r;
  c0 = cpuUs();
  t0 = performance.now();
  let found = 0;
  for (let i = 0; i < READS; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    if (await db.get(key(seed % (2 * NUM), k))) found++;
  }
  const readMs = performance.now() - t0;
  const readCpu = cpuUs() - c0;
  if (found !== READS) throw new Error(`readrandom found ${found} of ${READS}`);
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  // Bytes the manual compaction read and wrote, per second of its wall time.
  const bytes = st.compactions.bytesRead + st.compactions.bytesWritten;
  return {
    batchOps: NUM / (batchMs / 1000), fillOps: NUM / (fillMs / 1000), compactMBs: bytes / 1e6 / (compactMs / 1000), readOps: READS / (readMs / 1000),
    fillCpuUs: fillCpu / NUM, readCpuUs: readCpu / READS, diskBytes,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'strata-enc-bench-'));
  const plain: Round[] = [];
  const enc: Round[] = [];
  try {
    for (let r = 0; r < ROUNDS; r++) {
      plain.push(await round(false, root, r));
      process.stderr.write(`round ${r + 1}/${ROUNDS} plain done\n`);
      enc.push(await round(true, root, r));
      process.stderr.write(`round ${r + 1}/${ROUNDS} encrypted done\n`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const row = (name: string, f: (x: Round) => number, digits = 0, lowerIsBetter = false): string => {
    const p = median(plain.map(f));
    const e = median(enc.map(f));
    const ratio = e / p;
    return `| ${name} | ${p.toFixed(digits)} | ${e.toFixed(digits)} | ${ratio.toFixed(2)}x${lowerIsBetter ? ' (cost)' : ''} |`;
  };
  const lines = [
    `Command: \`node dist/bench/encryption.js --num ${NUM} --reads ${READS} --rounds ${ROUNDS} --cache-mib ${CACHE / 1048576}\`. ` +
      `Date: ${new Date().toISOString()}. Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, ` +
      `load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' / ')}. Medians of ${ROUNDS} alternating rounds.`,
    '',
    '| measurement | plain | AES-256-GCM | encrypted / plain |',
    '|---|---:|---:|---:|',
    row('fillrandom, awaited puts/s', (x) => x.fillOps),
    row('fillrandom, CPU µs per put', (x) => x.fillCpuUs, 2, true),
    row('fillbatch (1000 per batch), puts/s', (x) => x.batchOps),
    row('compaction (compactRange), MB/s read + written', (x) => x.compactMBs, 1),
    row(`readrandom, gets/s (cache ${CACHE / 1048576} MiB < data)`, (x) => x.readOps),
    row('readrandom, CPU µs per get', (x) => x.readCpuUs, 2, true),
    row('disk bytes after compaction', (x) => x.diskBytes, 0, true),
  ];
  const text = lines.join('\n');
  console.log(text);
  if (OUT) writeFileSync(OUT, text + '\n');
}

await main();
