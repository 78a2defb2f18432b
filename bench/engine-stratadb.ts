/**
 * The StrataDB adapter for the benchmark, through the public entry point only (src/index.ts).
 * Every command-line engine option is passed through; the rest are DB defaults.
 * writeStats() reads db.stats() counters so a workload can report its own write amplification
 * (WAL + flush + compaction bytes over user bytes) and stall time as deltas.
 */
import { readFileSync } from 'node:fs';
import { DB, WriteBatch, type Options } from '../src/index.js';
import type { BenchEngine, BenchIterator, EngineOptions, EngineWriteStats } from './engine.js';


function packageVersion(): string {
  try {
    // dist/bench/engine-stratadb.js and bench/engine-stratadb.ts both sit two levels below the root.
    const url = new URL('../../package.json', import.meta.url);
    const v = (JSON.parse(readFileSync(url, 'utf8')) as { version?: string }).version;
    if (v) return v;
  } catch { /* fall through */ }
  try {
    const v = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }).version;
    if (v) return v;
  } catch { /* fall through */ }
  return 'unknown';
}

export function createStrataEngine(options: EngineOptions): BenchEngine {
  const dbOptions: Options = {};
  if (options.writeBufferSize !== undefined) dbOptions.writeBufferSize = options.writeBufferSize;
  if (options.cacheSize !== undefined) dbOptions.cacheSize = options.cacheSize;
  if (options.compression !== undefined) dbOptions.compression = options.compression;
  if (options.bloomBitsPerKey !== undefined) dbOptions.bloomBitsPerKey = options.bloomBitsPerKey;
  if (options.blockSize !== undefined) dbOptions.blockSize = options.blockSize;
  let db: DB | undefined;
  const live = (): DB => {
    if (!db) throw new Error('stratadb adapter: not open');
    return db;
  };

  return {
    name: 'stratadb',
    version: packageVersion(),
    appliedOptions: { ...dbOptions },
    async open(dir) { db = await DB.open(dir, dbOptions); },
    put: (key, value, sync) => live().put(key, value, sync ? { sync } : undefined),
    async get(key) { return (await live().get(key)) !== undefined; },
    del: (key) => live().delete(key),
    batchPut(keys, values, sync) {
      const b = new WriteBatch();
      for (let i = 0; i < keys.length; i++) b.put(keys[i]!, values[i]!);
      return live().write(b, sync ? { sync } : undefined);
    },
    iterator(opts): BenchIterator {
      const it = live().iterator({
        ...(opts.gte ? { gte: opts.gte } : {}),
        reverse: opts.reverse === true,
        ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      });
      return {
        async next() {
          const r = await it.next();
          return r.done ? undefined : r.value;
        },
        close: () => it.close(),
      };
    },
    deleteRange: (gte, lt) => live().deleteRange(gte, lt),
    compactAll: () => live().compactRange(),
    async close() {
      const d = db;
      db = undefined;
      if (d) await d.close();
    },
    writeStats(): EngineWriteStats | undefined {
      if (!db) return undefined;
      const s = db.stats();
      return {
        userBytes: s.userBytesWritten,
        engineBytes: s.walBytesWritten + s.flushes.bytes + s.compactions.bytesWritten,
        stallMs: s.stalls.slowdownMs + s.stalls.stopMs,
        flushes: s.flushes.count,
        compactions: s.compactions.count,
      };
    },
  };
}
