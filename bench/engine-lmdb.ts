/**
 * The lmdb adapter (lmdb-js, the LMDB binding: a copy-on-write B+tree in one memory-mapped file,
 * synchronous reads, writes committed on a worker thread). It is the read peer: its reads are a
 * tree walk in mapped memory, with no I/O and no decoding, which is what "reads at memory speed"
 * is measured against. Loaded with a dynamic import, like classic-level, so that a missing native
 * build becomes "not available" instead of a crash.
 * How each workload maps (every call is lmdb's ordinary public API, as an application uses it):
 * - put / del: the async put() / remove(), which queue the write and commit everything queued in
 *   the same event-loop turn as one transaction; the promise settles at that commit.
 * - batchPut (fillbatch, the untimed prefill): batch(), one transaction for the 1000 puts.
 * - get (readrandom, readwhilewriting): the synchronous get(), wrapped in a promise for the
 *   engine-neutral interface (the await costs the same for every engine).
 * - iterator (readseq, readreverse, seekrandom): getRange({ start, reverse, limit }), iterated
 *   synchronously; close() ends the range (its read transaction).
 * - deleteRange (deleterange, clear): getKeys({ start, end }) removed inside one batch(), one
 *   transaction (lmdb has no range delete; clearAsync() empties a whole database, not a range, and
 *   the clear workload keeps keys outside its range). No compactAll: the file does not shrink, freed
 *   pages are reused.
 * - open: closing and reopening the environment.
 * Durability is a property of the environment in LMDB, not of a write, so prepareWrites() picks it
 * per workload (reopening the environment, untimed, when it changes): synced workloads (fillsync)
 * run with lmdb's default durable commit (each commit flushed to disk before its promise settles,
 * with overlappingSync); the others with noSync, the equivalent of LevelDB's sync: false (the OS
 * holds the data; a machine crash, not a process crash, may lose the latest commits).
 * Options: lmdb has no memtable, no block cache (the OS page cache is its cache), no blocks and
 * no compression by default, so --write-buffer-size, --cache-size, --block-size, --compression and
 * --bloom-bits-per-key are ignored and appliedOptions stays empty. Keys and values are 'binary'
 * (Buffers in, Buffers out, no encoding), and the data lives in one file, <dir>/data.mdb.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, sep } from 'node:path';
import type { BenchEngine, BenchIterator, EngineOptions } from './engine.js';

interface LmdbRangeEntry { key: Buffer; value: Buffer }

interface LmdbDatabase {
  put(key: Uint8Array, value: Uint8Array): Promise<boolean>;
  remove(key: Uint8Array): Promise<boolean>;
  get(key: Uint8Array): Buffer | undefined;
  batch(action: () => void): Promise<boolean>;
  getRange(options: { start?: Uint8Array; reverse?: boolean; limit?: number }): Iterable<LmdbRangeEntry>;
  getKeys(options: { start: Uint8Array; end: Uint8Array }): Iterable<Buffer>;
  close(): Promise<void>;
}

type LmdbOpen = (options: Record<string, unknown>) => LmdbDatabase;

/** Its package.json is not among lmdb's exports: found beside the resolved entry point instead. */
function lmdbVersion(): string {
  try {
    const entry = createRequire(import.meta.url).resolve('lmdb');
    const at = entry.lastIndexOf(`${sep}node_modules${sep}lmdb${sep}`);
    if (at < 0) return 'unknown';
    const file = join(entry.slice(0, at), 'node_modules', 'lmdb', 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function createLmdbEngine(_options: EngineOptions): Promise<BenchEngine> {
  let openLmdb: LmdbOpen;
  try {
    const mod = (await import('lmdb')) as unknown as { open: LmdbOpen };
    openLmdb = mod.open;
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') {
      throw new Error('lmdb is not installed (to compare, install it beside stratadb: npm install lmdb)');
    }
    throw new Error(`lmdb could not be loaded (${(e as Error).message})`);
  }
  let db: LmdbDatabase | undefined;
  let dir: string | undefined;
  let isDurable = false;
  const live = (): LmdbDatabase => {
    if (!db) throw new Error('lmdb adapter: not open');
    return db;
  };
  const openAt = (d: string): void => {
    db = openLmdb({
      path: join(d, 'data.mdb'), keyEncoding: 'binary', encoding: 'binary',
      ...(isDurable ? {} : { noSync: true }),
    });
    dir = d;
  };
  const closeDb = async (): Promise<void> => {
    const d = db;
    db = undefined;
    if (d) await d.close();
  };

  return {
    name: 'lmdb',
    version: lmdbVersion(),
    appliedOptions: {},
    async open(d) { openAt(d); },
    async put(key, value) { await live().put(key, value); },
    async get(key) { return live().get(key) !== undefined; },
    async del(key) { await live().remove(key); },
    async batchPut(keys, values) {
      const d = live();
      await d.batch(() => {
        for (let i = 0; i < keys.length; i++) void d.put(keys[i]!, values[i]!);
      });
    },
    async deleteRange(gte, lt) {
      const d = live();
      await d.batch(() => {
        for (const k of d.getKeys({ start: gte, end: lt })) void d.remove(k);
      });
    },
    iterator(opts): BenchIterator {
      const range = live().getRange({
        ...(opts.gte ? { start: opts.gte } : {}),
        reverse: opts.reverse === true,
        ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      });
      const it = range[Symbol.iterator]();
      let isDone = false;
      return {
        async next() {
          if (isDone) return undefined;
          const r = it.next();
          if (r.done) { isDone = true; return undefined; }
          return [r.value.key, r.value.value];
        },
        async close() {
          if (isDone) return;
          isDone = true;
          it.return?.();
        },
      };
    },
    close: closeDb,
    writeStats: () => undefined,
    async prepareWrites(sync) {
      if (sync === isDurable) return;
      isDurable = sync;
      if (db && dir !== undefined) {
        const d = dir;
        await closeDb();
        openAt(d);
      }
    },
  };
}
