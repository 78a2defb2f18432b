/**
 * The two engines of the scale run behind one small face: open, batch, put, get, seek + next, close,
 * and what each can tell about its tree (tables per level; StrataDB also its cache, filter and memory
 * counters). StrataDB through src/index.ts only, classic-level loaded as engine-classic-level.ts
 * loads it. Its own adapter rather than BenchEngine because the run needs stats() and
 * getProperty(), and Options.memoryBudget, which BenchEngine does not carry.
 * memoryBudget is being added to the options concurrently: open() tries it and, when the options
 * refuse the name (ERR_INVALID_ARGUMENT naming memoryBudget), opens without it and says so.
 * Safe on the main thread of a scale child process only (scale-child.ts).
 */
import { DB, StrataError, WriteBatch, type Options } from '../src/index.js';

/** Counters read before and after a phase; StrataDB only (classic-level has none comparable). */
export interface TreeCounters {
  cacheHits: number; cacheMisses: number;
  filterChecks: number; filterNegatives: number;
  /** stats().memory as the engine reports it, whatever parts it names. */
  memory: Record<string, number>;
}

export type MemoryBudgetStatus = 'applied' | 'not available' | 'not asked';

export interface ScaleEngine {
  batch(keys: Buffer[], values: Buffer[]): Promise<void>;
  put(key: Buffer, value: Buffer): Promise<void>;
  get(key: Buffer): Promise<boolean>;
  /**
   * Seeks to the first key >= key and reads `count` entries from there; answers how many it read.
   * The iterator is told the limit (as workloads.ts seekrandom does), so neither engine reads ahead
   * past what is asked.
   */
  seek(key: Buffer, count: number): Promise<number>;
  /** Files per level, as "L0:2 L1:5 L2:40" (levels holding none left out). */
  levels(): string;
  counters(): TreeCounters | undefined;
  close(): Promise<void>;
}

async function openStrata(dir: string, memoryBudget: number | undefined, more: Record<string, unknown>): Promise<{ engine: ScaleEngine; budget: MemoryBudgetStatus }> {
  let db: DB;
  let budget: MemoryBudgetStatus = 'not asked';
  if (memoryBudget === undefined) {
    db = await DB.open(dir, more as Options);
  } else {
    const withBudget: Record<string, unknown> = { ...more, memoryBudget };
    try {
      db = await DB.open(dir, withBudget as Options);
      budget = 'applied';
    } catch (e) {
      if (!(e instanceof StrataError && e.code === 'ERR_INVALID_ARGUMENT' && e.message.includes('memoryBudget'))) throw e;
      db = await DB.open(dir, more as Options);
      budget = 'not available';
    }
  }
  const engine: ScaleEngine = {
    batch(keys, values) {
      const b = new WriteBatch();
      for (let i = 0; i < keys.length; i++) b.put(keys[i]!, values[i]!);
      return db.write(b);
    },
    put: (k, v) => db.put(k, v),
    async get(k) { return (await db.get(k)) !== undefined; },
    async seek(k, count) {
      const it = db.iterator({ gte: k, limit: count });
      let n = 0;
      try {
        while (n < count && !(await it.next()).done) n++;
      } finally {
        await it.close();
      }
      return n;
    },
    levels: () => db.stats().levels.filter((l) => l.files > 0).map((l) => `L${l.level}:${l.files}`).join(' '),
    counters() {
      const s = db.stats();
      const memory: Record<string, number> = {};
      for (const [k, v] of Object.entries(s.memory as unknown as Record<string, unknown>)) if (typeof v === 'number') memory[k] = v;
      return { cacheHits: s.cache.hits, cacheMisses: s.cache.misses, filterChecks: s.filter.checks, filterNegatives: s.filter.negatives, memory };
    },
    close: () => db.close(),
  };
  return { engine, budget };
}

interface LevelIterator { next(): Promise<[Buffer, Buffer] | undefined>; close(): Promise<void> }
interface ClassicLike {
  open(): Promise<void>;
  close(): Promise<void>;
  put(key: Buffer, value: Buffer): Promise<void>;
  get(key: Buffer): Promise<Buffer | undefined>;
  batch(ops: { type: 'put'; key: Buffer; value: Buffer }[]): Promise<void>;
  iterator(options: { gte: Buffer; limit: number }): LevelIterator;
  getProperty(name: string): string;
}

async function openClassic(dir: string): Promise<ScaleEngine> {
  const mod = (await import('classic-level')) as unknown as { ClassicLevel: new (dir: string, o: object) => ClassicLike };
  const db = new mod.ClassicLevel(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  return {
    batch: (keys, values) => db.batch(keys.map((key, i) => ({ type: 'put' as const, key, value: values[i]! }))),
    put: (k, v) => db.put(k, v),
    async get(k) { return (await db.get(k)) !== undefined; },
    async seek(k, count) {
      const it = db.iterator({ gte: k, limit: count });
      let n = 0;
      try {
        while (n < count && (await it.next()) !== undefined) n++;
      } finally {
        await it.close();
      }
      return n;
    },
    levels() {
      // LevelDB has 7 levels (config::kNumLevels).
      const parts: string[] = [];
      for (let l = 0; l < 7; l++) {
        const n = Number(db.getProperty(`leveldb.num-files-at-level${l}`));
        if (n > 0) parts.push(`L${l}:${n}`);
      }
      return parts.join(' ');
    },
    counters: () => undefined,
    close: () => db.close(),
  };
}

export async function openScaleEngine(
  name: string, dir: string, memoryBudget: number | undefined, strataOptions: Record<string, unknown> = {},
): Promise<{ engine: ScaleEngine; budget: MemoryBudgetStatus }> {
  if (name === 'stratadb') return openStrata(dir, memoryBudget, strataOptions);
  return { engine: await openClassic(dir), budget: 'not asked' };
}
