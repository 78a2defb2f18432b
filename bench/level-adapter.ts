/**
 * The abstract-level adapter's overhead (issue #8): the same awaited puts, gets, batches and a scan
 * through StrataLevel (stratadb/level), through the native DB API, and through classic-level, in one
 * process, one engine after the other. 16-byte keys, 100-byte values, buffer encodings.
 * node dist/bench/level-adapter.js [--num N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DB, WriteBatch } from '../src/index.js';
import { StrataLevel } from '../src/level-adapter/index.js';

interface Ops {
  put(k: Buffer, v: Buffer): Promise<unknown>;
  get(k: Buffer): Promise<unknown>;
  batch(ops: [Buffer, Buffer][]): Promise<unknown>;
  scan(): Promise<number>;
  close(): Promise<unknown>;
}

const num = Number(process.argv[process.argv.indexOf('--num') + 1] || 100000);
const key = (i: number): Buffer => { const b = Buffer.alloc(16); b.writeUInt32BE(Math.imul(i, 2654435761) >>> 0, 0); b.writeUInt32BE(i, 4); return b; };
const value = Buffer.alloc(100, 7);

async function open(name: string, dir: string): Promise<Ops> {
  if (name === 'stratadb (native)') {
    const db = await DB.open(dir);
    return {
      put: (k, v) => db.put(k, v), get: (k) => db.get(k), close: () => db.close(),
      batch: (ops) => { const b = new WriteBatch(); for (const [k, v] of ops) b.put(k, v); return db.write(b); },
      scan: async () => { let n = 0; const it = db.iterator(); for (;;) { const c = await it.nextv(1000); if (!c.length) break; n += c.length; } await it.close(); return n; },
    };
  }
  // Both are abstract-level databases; typed by the calls used here.
  type Level = {
    open(): Promise<void>; close(): Promise<void>; put(k: Buffer, v: Buffer): Promise<void>; get(k: Buffer): Promise<unknown>;
    batch(ops: { type: 'put'; key: Buffer; value: Buffer }[]): Promise<void>;
    iterator(): { nextv(n: number): Promise<unknown[]>; close(): Promise<void> };
  };
  const db = (name === 'stratadb/level'
    ? new StrataLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
    : new (await import('classic-level')).ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })) as unknown as Level;
  await db.open();
  return {
    put: (k, v) => db.put(k, v), get: (k) => db.get(k), close: () => db.close(),
    batch: (ops) => db.batch(ops.map(([k, v]) => ({ type: 'put' as const, key: k, value: v }))),
    scan: async () => { let n = 0; const it = db.iterator(); for (;;) { const c = await it.nextv(1000); if (!c.length) break; n += c.length; } await it.close(); return n; },
  };
}

async function time(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return (performance.now() - t) / 1000;
}

const rows: string[] = [];
const results = new Map<string, number[]>();
for (const name of ['stratadb (native)', 'stratadb/level', 'classic-level']) {
  const dir = mkdtempSync(join(tmpdir(), 'level-bench-'));
  try {
    const db = await open(name, dir);
    const put = await time(async () => { for (let i = 0; i < num; i++) await db.put(key(i), value); });
    const get = await time(async () => { for (let i = 0; i < num; i++) await db.get(key((i * 7919) % num)); });
    const batch = await time(async () => {
      for (let i = 0; i < num; i += 1000) {
        const ops: [Buffer, Buffer][] = [];
        for (let j = i; j < i + 1000; j++) ops.push([key(num + j), value]);
        await db.batch(ops);
      }
    });
    let n = 0;
    const scan = await time(async () => { n = await db.scan(); });
    await db.close();
    const r = [num / put, num / get, num / batch, n / scan];
    results.set(name, r);
    rows.push(`| ${name} | ${r.map((x) => Math.round(x).toLocaleString('en-US')).join(' | ')} |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(`\n${num} entries, 16 B keys, 100 B values; ops/s\n`);
console.log('| engine | put (awaited) | get (awaited) | batch of 1000 (entries/s) | scan (entries/s) |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) console.log(r);
const a = results.get('stratadb/level')!, n = results.get('stratadb (native)')!, c = results.get('classic-level')!;
console.log(`| adapter / native | ${a.map((x, i) => `${(x / n[i]!).toFixed(2)}x`).join(' | ')} |`);
console.log(`| adapter / classic-level | ${a.map((x, i) => `${(x / c[i]!).toFixed(2)}x`).join(' | ')} |`);
