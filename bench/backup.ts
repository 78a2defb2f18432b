/**
 * Backup benchmark (issue #6): on a real database of --size-mb (default 1024) MB of 16-byte keys
 * and 1000-byte random values written in batches of 100:
 * - checkpoint time at each size of --checkpoint-at (default 64,256,1024 MB), right after a flush
 *   (hard links + MANIFEST: should stay flat), and once with a full memtable (+ its dump);
 * - a full backup and a restore, in MB/s (each file streamed with its CRC32C checked, fsynced);
 * - an incremental backup after 1% new writes: bytes copied, still in the memtable and after a flush.
 * Before the backups, compactRange() settles the tree so background compactions do not rewrite
 * tables between two backups (that would be counted as new data).
 * Run: npx tsc -p tsconfig.json && node dist/bench/backup.js [--size-mb N] [--checkpoint-at 64,256,1024] [--dir D]
 * Prints a markdown report (wall and CPU seconds; the machine is shared) for bench/RESULTS-backup.md.
 * Everything is written under a fresh temp directory in --dir (default os.tmpdir()) and deleted.
 * Uses only src/index.ts.
 */
import { randomFillSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { BackupEngine, DB, WriteBatch } from '../src/index.js';

const MB = 1024 * 1024;
const KEY_BYTES = 16;
const VALUE_BYTES = 1000;
const BATCH = 100;

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}

const sizeMb = Number(arg('size-mb', '1024'));
const checkpointAt = arg('checkpoint-at', '64,256,1024').split(',').map(Number).filter((n) => n > 0 && n <= sizeMb);
const root = mkdtempSync(join(arg('dir', tmpdir()), 'strata-bench-backup-'));
if (!Number.isFinite(sizeMb) || sizeMb <= 0) throw new Error('--size-mb needs a positive number');

interface Timing { wallS: number; cpuS: number }

async function timed<T>(fn: () => Promise<T>): Promise<[T, Timing]> {
  const t = performance.now();
  const c = process.cpuUsage();
  const r = await fn();
  const d = process.cpuUsage(c);
  return [r, { wallS: (performance.now() - t) / 1000, cpuS: (d.user + d.system) / 1e6 }];
}

const fmt = (t: Timing): string => `${t.wallS.toFixed(3)} s (CPU ${t.cpuS.toFixed(3)} s)`;
const mbps = (bytes: number, t: Timing): string => `${(bytes / MB / t.wallS).toFixed(1)} MB/s`;

/**
 * Key i (i < 2^32): 16 ASCII digits, the first 10 from (i * an odd constant) mod 2^32, the last 6 from
 * i mod 10^6. Unique (the multiplication is a bijection mod 2^32) and in scrambled order, so flushes
 * overlap and compaction has work, as with random keys.
 */
function key(i: number): Uint8Array {
  const k = new Uint8Array(KEY_BYTES);
  let x = Math.imul(i, 0x9e3779b1) >>> 0;
  for (let j = 9; j >= 0; j--) { k[j] = 0x30 + (x % 10); x = Math.floor(x / 10); }
  let y = i % 1e6;
  for (let j = KEY_BYTES - 1; j >= 10; j--) { k[j] = 0x30 + (y % 10); y = Math.floor(y / 10); }
  return k;
}

let written = 0;
/** Writes until `written` reaches `bytes`; keys are numbered from `prefix` (a separate range per phase). */
async function fillTo(db: DB, bytes: number, prefix = 0): Promise<void> {
  let entries = prefix === 0 ? Math.round(written / (KEY_BYTES + VALUE_BYTES)) : 0;
  const value = new Uint8Array(VALUE_BYTES * BATCH);
  while (written < bytes) {
    randomFillSync(value);
    const b = new WriteBatch();
    for (let j = 0; j < BATCH; j++) {
      const k = key(prefix + entries++);
      b.put(k, value.subarray(j * VALUE_BYTES, (j + 1) * VALUE_BYTES));
      written += KEY_BYTES + VALUE_BYTES;
    }
    await db.write(b);
  }
}

async function main(): Promise<void> {
  const lines: string[] = [];
  const out = (s: string): void => { lines.push(s); console.log(s); };
  const dbDir = join(root, 'db');
  out(`## Backup benchmark: ${new Date().toISOString()}`);
  out('');
  out(`Command: \`node dist/bench/backup.js --size-mb ${sizeMb} --checkpoint-at ${checkpointAt.join(',')}\``);
  out(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}; ` +
    `load average at start ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  out(`Data: ${KEY_BYTES}-byte keys, ${VALUE_BYTES}-byte random values (incompressible), batches of ${BATCH}, default options (lz4, 64 MiB memtables).`);
  out('');
  const db = await DB.open(dbDir);
  const [, fillT] = await timed(async () => {
    out('| database size (user bytes) | checkpoint after a flush | tables | linked |');
    out('|---|---|---|---|');
    for (const mb of checkpointAt) {
      await fillTo(db, mb * MB);
      await db.flush();
      const [info, t] = await timed(() => db.checkpoint(join(root, `cp-${mb}`)));
      out(`| ${mb} MB | ${fmt(t)} | ${info.files} | ${info.linked} |`);
      rmSync(join(root, `cp-${mb}`), { recursive: true, force: true });
    }
    await fillTo(db, sizeMb * MB);
  });
  out('');
  out(`Fill: ${(written / MB).toFixed(0)} MB in ${fmt(fillT)} (${mbps(written, fillT)}, with the checkpoints).`);
  // A checkpoint with data in the memtable: the dump is the part that grows (O(memtable)).
  await fillTo(db, written + 32 * MB, 1e9);
  const [cpMem, cpMemT] = await timed(() => db.checkpoint(join(root, 'cp-mem')));
  out(`Checkpoint with ~32 MB in the memtable: ${fmt(cpMemT)} (${cpMem.files} tables, ${cpMem.linked} linked, the memtable dumped as one more).`);
  rmSync(join(root, 'cp-mem'), { recursive: true, force: true });

  const [, settleT] = await timed(() => db.compactRange());
  out(`compactRange() to settle the tree: ${fmt(settleT)}.`);
  out('');
  const backupDir = join(root, 'backups');
  const [full, fullT] = await timed(() => db.backup(backupDir));
  out(`| operation | bytes | time | rate |`);
  out('|---|---|---|---|');
  out(`| full backup (${full.files} tables) | ${(full.bytesCopied / MB).toFixed(1)} MB | ${fmt(fullT)} | ${mbps(full.bytesCopied, fullT)} |`);
  const engine = await BackupEngine.open(backupDir);
  const [, verifyT] = await timed(() => engine.verify(full.id));
  out(`| verify | ${(full.bytes / MB).toFixed(1)} MB | ${fmt(verifyT)} | ${mbps(full.bytes, verifyT)} |`);
  const [, restoreT] = await timed(() => engine.restore(full.id, join(root, 'restored')));
  out(`| restore | ${(full.bytes / MB).toFixed(1)} MB | ${fmt(restoreT)} | ${mbps(full.bytes, restoreT)} |`);
  rmSync(join(root, 'restored'), { recursive: true, force: true });

  const onePercent = Math.round(written / 100);
  await fillTo(db, written + onePercent, 2e9);
  const [inc, incT] = await timed(() => db.backup(backupDir));
  out(`| incremental after 1% new writes (${(onePercent / MB).toFixed(1)} MB, in the memtable) | ${(inc.bytesCopied / MB).toFixed(2)} MB copied of ${(inc.bytes / MB).toFixed(1)} MB | ${fmt(incT)} | ${(100 * inc.bytesCopied / inc.bytes).toFixed(2)}% of the backup |`);
  await fillTo(db, written + onePercent, 3e9);
  await db.flush();
  const [inc2, inc2T] = await timed(() => db.backup(backupDir));
  out(`| incremental after 1% more, flushed | ${(inc2.bytesCopied / MB).toFixed(2)} MB copied of ${(inc2.bytes / MB).toFixed(1)} MB | ${fmt(inc2T)} | ${(100 * inc2.bytesCopied / inc2.bytes).toFixed(2)}% of the backup |`);
  await db.close();
  out('');
  out(`Load average at the end: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
}

try {
  await main();
} finally {
  rmSync(root, { recursive: true, force: true });
}
