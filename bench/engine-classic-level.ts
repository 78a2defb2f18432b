/**
 * The classic-level adapter (the LevelDB binding most Node applications use), loaded with a dynamic
 * import so that a missing or broken native build fails here with a readable message, and the
 * caller skips the comparison instead of crashing.
 * Option mapping: writeBufferSize, cacheSize and blockSize mean the same thing in LevelDB and are
 * passed when given; compression 'none' turns Snappy off and any other codec leaves Snappy on (it
 * is the only one LevelDB has); LevelDB's bloom filter is fixed at 10 bits per key by the binding.
 * Keys and values use the 'buffer' encoding, which the binding handles natively (as we return Buffers).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { BenchEngine, BenchIterator, EngineOptions } from './engine.js';

interface LevelIterator {
  next(): Promise<[Buffer, Buffer] | undefined>;
  close(): Promise<void>;
}

interface LevelLike {
  open(): Promise<void>;
  close(): Promise<void>;
  put(key: Uint8Array, value: Uint8Array, options?: { sync?: boolean }): Promise<void>;
  get(key: Uint8Array): Promise<Buffer | undefined>;
  del(key: Uint8Array): Promise<void>;
  batch(ops: { type: 'put'; key: Uint8Array; value: Uint8Array }[], options?: { sync?: boolean }): Promise<void>;
  iterator(options: Record<string, unknown>): LevelIterator;
  clear(options: { gte: Uint8Array; lt: Uint8Array }): Promise<void>;
  compactRange(start: Uint8Array, end: Uint8Array): Promise<void>;
}

type LevelConstructor = new (dir: string, options: Record<string, unknown>) => LevelLike;

function classicVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    const path = require.resolve('classic-level/package.json');
    return (JSON.parse(readFileSync(path, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function createClassicLevelEngine(options: EngineOptions): Promise<BenchEngine> {
  let Ctor: LevelConstructor;
  try {
    const mod = (await import('classic-level')) as unknown as { ClassicLevel: LevelConstructor };
    Ctor = mod.ClassicLevel;
  } catch (e) {
    // Installed from npm, stratadb does not bring its devDependencies: StrataDB then runs alone.
    if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') {
      throw new Error('classic-level is not installed (to compare, install it beside stratadb: npm install classic-level)');
    }
    throw new Error(`classic-level could not be loaded (${(e as Error).message})`);
  }
  const applied: Record<string, unknown> = {};
  if (options.writeBufferSize !== undefined) applied['writeBufferSize'] = options.writeBufferSize;
  if (options.cacheSize !== undefined) applied['cacheSize'] = options.cacheSize;
  if (options.blockSize !== undefined) applied['blockSize'] = options.blockSize;
  if (options.compression !== undefined) applied['compression'] = options.compression !== 'none';
  let db: LevelLike | undefined;
  const live = (): LevelLike => {
    if (!db) throw new Error('classic-level adapter: not open');
    return db;
  };

  return {
    name: 'classic-level',
    version: classicVersion(),
    appliedOptions: applied,
    async open(dir) {
      const d = new Ctor(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer', ...applied });
      await d.open();
      db = d;
    },
    put: (key, value, sync) => live().put(key, value, sync ? { sync } : undefined),
    async get(key) { return (await live().get(key)) !== undefined; },
    del: (key) => live().del(key),
    batchPut(keys, values, sync) {
      const ops = new Array<{ type: 'put'; key: Uint8Array; value: Uint8Array }>(keys.length);
      for (let i = 0; i < keys.length; i++) ops[i] = { type: 'put', key: keys[i]!, value: values[i]! };
      return live().batch(ops, sync ? { sync } : undefined);
    },
    iterator(opts): BenchIterator {
      const it = live().iterator({
        ...(opts.gte ? { gte: opts.gte } : {}),
        reverse: opts.reverse === true,
        ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      });
      return { next: () => it.next(), close: () => it.close() };
    },
    deleteRange: (gte, lt) => live().clear({ gte, lt }),
    // Every bench key sorts between the empty key and 0xff.
    compactAll: () => live().compactRange(Buffer.alloc(0), Buffer.from([0xff])),
    async close() {
      const d = db;
      db = undefined;
      if (d) await d.close();
    },
    writeStats: () => undefined,
  };
}
