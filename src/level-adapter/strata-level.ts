/**
 * StrataLevel: StrataDB behind the abstract-level 3 interface (`stratadb/level`), so code written for
 * classic-level, memory-level and the modules built on them (sublevels, encodings, hooks, streams)
 * runs on StrataDB by changing one import. Constructed like classic-level: new StrataLevel(location,
 * options), where options are abstract-level's plus StrataDB's (passed through to DB.open).
 *
 * Encodings: the store speaks 'buffer' and 'view' natively; abstract-level transcodes every other
 * encoding (utf8, json, custom) to those. Errors: StrataError codes are mapped to Level codes
 * (LEVEL_CORRUPTION, LEVEL_LOCKED, LEVEL_DATABASE_NOT_OPEN, LEVEL_IO_ERROR, ...) with ours as `cause`.
 * clear() writes one range tombstone whatever the range holds (clear-plan.ts turns the bounds into
 * [start, end)); with `limit` or `snapshot` it deletes key by key in batches of 1,000 read from an
 * iterator, since a tombstone can neither count keys nor spare those the snapshot does not see.
 * A sublevel's clear() arrives here as the root's clear over the sublevel's prefixed range, so it is
 * one tombstone too (README "Using StrataDB with Level").
 * getSync is served from memtables, the block cache and synchronous page-cache reads; a zstd-compressed
 * block that is not cached cannot be decompressed synchronously: then getSync throws (ERR_NOT_SUPPORTED),
 * so the manifest claims getSync only when no level uses zstd.
 * Events: abstract-level's own ('opening', 'open', 'closing', 'closed', 'write', 'clear', …) are
 * untouched; the engine's 'flush', 'compaction', 'stall' and 'background-error' (names abstract-level
 * does not use) are re-emitted on the level, attached only once the level has a listener for them,
 * and kept across reopens. The engine's 'close' is not: 'closed' says it. A throwing listener is
 * reported as the level's 'error', as on the DB.
 */
import { AbstractLevel, AbstractIterator, AbstractSnapshot } from 'abstract-level';
import type { AbstractDatabaseOptions, AbstractOpenOptions } from 'abstract-level';
import ModuleError from 'module-error';
import { Buffer } from 'node:buffer';
import { DB, type IteratorOptions } from '../db.js';
import { WriteBatch } from '../wal/write-batch.js';
import { StrataError } from '../errors.js';
import type { Snapshot } from '../mvcc/snapshot-list.js';
import type { StrataIterator } from '../iterator/strata-iterator.js';
import type { DestroyResult } from '../engine/destroy.js';
import type { RepairReport } from '../engine/repair.js';
import { KNOWN_OPTIONS, type Options } from '../options.js';
import { needsLargest, planClear } from './clear-plan.js';

type Bytes = Uint8Array;

const LEVEL_CODES: Record<string, string> = {
  ERR_CORRUPTION: 'LEVEL_CORRUPTION',
  ERR_LOCKED: 'LEVEL_LOCKED',
  ERR_CLOSED: 'LEVEL_DATABASE_NOT_OPEN',
  ERR_IO: 'LEVEL_IO_ERROR',
  ERR_INVALID_ARGUMENT: 'LEVEL_INVALID_VALUE',
  ERR_NOT_SUPPORTED: 'LEVEL_NOT_SUPPORTED',
  ERR_READ_ONLY: 'LEVEL_READ_ONLY',
  ERR_TOO_LARGE: 'LEVEL_INVALID_VALUE',
};

/** A StrataError as a Level error (ours kept as `cause`); anything else unchanged. */
export function toLevelError(e: unknown): unknown {
  if (!(e instanceof StrataError)) return e;
  const code = LEVEL_CODES[e.code];
  if (!code) return e;
  return new ModuleError(e.message, { code, cause: e });
}

async function mapped<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw toLevelError(e);
  }
}

const kDb = Symbol('db');
/** The engine events a StrataLevel re-emits (DBEventMap minus 'close' and 'error'). */
const ENGINE_EVENTS: ReadonlySet<string> = new Set(['flush', 'compaction', 'stall', 'background-error']);

class StrataLevelSnapshot extends AbstractSnapshot {
  readonly inner: Snapshot;
  constructor(db: DB, options: object) {
    // The typings declare no parameter; the implementation takes the options (abstract-level 3).
    super(...([options] as unknown as []));
    this.inner = db.snapshot();
  }
  async _close(): Promise<void> {
    this.inner.release();
  }
}

interface IterOpts {
  gt?: Bytes; gte?: Bytes; lt?: Bytes; lte?: Bytes;
  reverse: boolean; limit: number; keys: boolean; values: boolean;
  snapshot?: StrataLevelSnapshot;
}

/**
 * Range options in StrataDB's terms. abstract-level's rule: gte takes precedence over gt, and lte
 * over lt (the engine itself would apply the stricter of the two).
 */
function rangeOptions(options: IterOpts): IteratorOptions {
  const o: IteratorOptions = { reverse: options.reverse };
  if (options.gte !== undefined) o.gte = options.gte;
  else if (options.gt !== undefined) o.gt = options.gt;
  if (options.lte !== undefined) o.lte = options.lte;
  else if (options.lt !== undefined) o.lt = options.lt;
  if (options.limit !== undefined && options.limit >= 0) o.limit = options.limit;
  if (options.snapshot) o.snapshot = options.snapshot.inner;
  return o;
}

/**
 * Whether `target` lies inside the iterator's range. abstract-level's seek contract: a target outside
 * the range ends the iterator. The engine's own seek snaps a target before the range start to the
 * start (RocksDB's behaviour), which a Level user would see as entries the range excludes.
 */
function inRange(target: Bytes, options: IterOpts): boolean {
  if (options.gte !== undefined) { if (Buffer.compare(target, options.gte) < 0) return false; }
  else if (options.gt !== undefined && Buffer.compare(target, options.gt) <= 0) return false;
  if (options.lte !== undefined) { if (Buffer.compare(target, options.lte) > 0) return false; }
  else if (options.lt !== undefined && Buffer.compare(target, options.lt) >= 0) return false;
  return true;
}

function snapshotClosed(): unknown {
  return new ModuleError('The snapshot is not open', { code: 'LEVEL_SNAPSHOT_NOT_OPEN' });
}

class StrataLevelIterator extends AbstractIterator<StrataLevel<unknown, unknown>, Bytes, Bytes> {
  /** Undefined when the iterator could not be created (its error is thrown on first use). */
  private readonly it: StrataIterator<[Buffer, Buffer]> | undefined;
  private readonly failure: unknown;
  private cache: [Buffer, Buffer][] = [];
  private pos = 0;
  private first = true;
  private ended = false;
  private readonly range: IterOpts;

  constructor(db: StrataLevel<unknown, unknown>, options: IterOpts) {
    super(db, options as never);
    this.range = options;
    let it: StrataIterator<[Buffer, Buffer]> | undefined;
    let failure: unknown;
    if (options.snapshot?.inner.released) {
      failure = snapshotClosed();
    } else {
      try {
        // abstract-level allows seek() after the natural end, so the files stay pinned until close()
        // (its for-await and all() close at the end).
        it = db[kDb]!.iterator(rangeOptions(options)).holdAtEnd();
      } catch (e) {
        failure = toLevelError(e);
      }
    }
    this.it = it;
    this.failure = failure;
  }

  private live(): StrataIterator<[Buffer, Buffer]> {
    if (!this.it) throw this.failure;
    return this.it;
  }

  _seek(target: Bytes): void {
    this.cache = [];
    this.pos = 0;
    this.first = true;
    this.ended = this.it !== undefined && !inRange(target, this.range);
    if (!this.ended) this.it?.seek(target);
  }

  async _next(): Promise<[Bytes, Bytes] | undefined> {
    if (this.pos < this.cache.length) return this.cache[this.pos++];
    if (this.ended) return undefined;
    // One entry first (often all a caller wants after a seek), then batches.
    this.cache = await mapped(this.live().nextv(this.first ? 1 : 1000));
    this.first = false;
    this.pos = 0;
    if (this.cache.length === 0) { this.ended = true; return undefined; }
    return this.cache[this.pos++];
  }

  async _nextv(size: number): Promise<[Bytes, Bytes][]> {
    this.first = false;
    if (this.pos < this.cache.length) {
      const chunk = this.cache.slice(this.pos, this.pos + size);
      this.pos += chunk.length;
      return chunk;
    }
    if (this.ended) return [];
    const out = await mapped(this.live().nextv(size));
    if (out.length === 0) this.ended = true;
    return out;
  }

  async _close(): Promise<void> {
    await this.it?.close();
  }
}

export type StrataLevelOptions<K = string, V = string> = AbstractDatabaseOptions<K, V> & Options;

export class StrataLevel<KDefault = string, VDefault = string> extends AbstractLevel<Bytes, KDefault, VDefault> {
  [kDb]: DB | undefined;
  private readonly strataOptions: Options;
  readonly location: string;

  constructor(location: string, options: StrataLevelOptions<KDefault, VDefault> = {}) {
    if (typeof location !== 'string' || location === '') {
      throw new TypeError("The first argument 'location' must be a non-empty string");
    }
    const usesZstd = options.compression === 'zstd' || (options.compressionPerLevel ?? []).includes('zstd');
    super({
      encodings: { buffer: true, view: true },
      has: true,
      getSync: !usesZstd,
      createIfMissing: true,
      errorIfExists: true,
      explicitSnapshots: true,
      implicitSnapshots: true,
      permanence: true,
      seek: true,
      additionalMethods: { compactRange: true, approximateSize: true, getProperty: true },
    } as never, options);
    this.location = location;
    // Pass through only StrataDB's own options: abstract-level's (and userland ones, which hooks see)
    // are not ours, and DB.open refuses names it does not know.
    const own: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(options)) {
      if (KNOWN_OPTIONS.has(k) && k !== 'createIfMissing' && k !== 'errorIfExists') own[k] = v;
    }
    this.strataOptions = own as Options;
    this.on('newListener', (name: string | symbol) => {
      if (typeof name === 'string' && this[kDb]) this.forward(this[kDb], name);
    });
  }

  /** Engine events forwarded from the open DB; one forwarder per name. */
  private forwarded = new Set<string>();

  private forward(db: DB, name: string): void {
    if (!ENGINE_EVENTS.has(name) || this.forwarded.has(name)) return;
    this.forwarded.add(name);
    db.on(name as 'flush', (e) => { this.emit(name, e); });
  }

  async _open(options: AbstractOpenOptions): Promise<void> {
    this[kDb] = await mapped(DB.open(this.location, {
      ...this.strataOptions,
      createIfMissing: options.createIfMissing !== false,
      errorIfExists: options.errorIfExists === true,
    }));
    const db = this[kDb];
    this.forwarded = new Set();
    db.on('error', (e) => { this.emit('error', e); });
    for (const name of ENGINE_EVENTS) if (this.listenerCount(name) > 0) this.forward(db, name);
  }

  async _close(): Promise<void> {
    const db = this[kDb];
    this[kDb] = undefined;
    if (db) await mapped(db.close());
  }

  private get db(): DB { return this[kDb]!; }

  async _get(key: Bytes, options: { snapshot?: StrataLevelSnapshot }): Promise<Bytes | undefined> {
    if (options.snapshot?.inner.released) throw snapshotClosed();
    return mapped(this.db.get(key, options.snapshot ? { snapshot: options.snapshot.inner } : undefined));
  }

  _getSync(key: Bytes, options: { snapshot?: StrataLevelSnapshot }): Bytes | undefined {
    if (options.snapshot?.inner.released) throw snapshotClosed();
    try {
      return this.db.getSync(key, options.snapshot ? { snapshot: options.snapshot.inner } : undefined);
    } catch (e) {
      throw toLevelError(e);
    }
  }

  async _getMany(keys: Bytes[], options: { snapshot?: StrataLevelSnapshot }): Promise<(Bytes | undefined)[]> {
    if (options.snapshot?.inner.released) throw snapshotClosed();
    return mapped(this.db.getMany(keys, options.snapshot ? { snapshot: options.snapshot.inner } : undefined));
  }

  async _has(key: Bytes, options: { snapshot?: StrataLevelSnapshot }): Promise<boolean> {
    if (options.snapshot?.inner.released) throw snapshotClosed();
    return mapped(this.db.has(key, options.snapshot ? { snapshot: options.snapshot.inner } : undefined));
  }

  async _hasMany(keys: Bytes[], options: { snapshot?: StrataLevelSnapshot }): Promise<boolean[]> {
    if (options.snapshot?.inner.released) throw snapshotClosed();
    return mapped(this.db.hasMany(keys, options.snapshot ? { snapshot: options.snapshot.inner } : undefined));
  }

  async _put(key: Bytes, value: Bytes, options: { sync?: boolean }): Promise<void> {
    return mapped(this.db.put(key, value, options.sync === true ? { sync: true } : undefined));
  }

  async _del(key: Bytes, options: { sync?: boolean }): Promise<void> {
    return mapped(this.db.delete(key, options.sync === true ? { sync: true } : undefined));
  }

  async _batch(operations: { type: 'put' | 'del'; key: Bytes; value?: Bytes }[], options: { sync?: boolean }): Promise<void> {
    const b = new WriteBatch();
    for (const op of operations) {
      if (op.type === 'put') b.put(op.key, op.value!);
      else b.delete(op.key);
    }
    return mapped(this.db.write(b, options.sync === true ? { sync: true } : undefined));
  }

  async _clear(options: IterOpts): Promise<void> {
    if (options.snapshot?.inner.released) throw snapshotClosed();
    if ((options.limit !== undefined && options.limit >= 0) || options.snapshot) return this.clearKeyByKey(options);
    const bounds = rangeOptions(options);
    let largest: Bytes | undefined;
    if (needsLargest(options)) {
      const it = this.db.keys({ gt: bounds.gt, gte: bounds.gte, reverse: true, limit: 1 });
      try {
        largest = (await mapped(it.nextv(1)))[0];
      } finally {
        await it.close();
      }
    }
    const plan = planClear(options, this.db.engine.o.maxKeySize, largest);
    if (plan.kind === 'none') return;
    if (plan.kind === 'keys') return this.clearKeyByKey(options);
    const b = new WriteBatch();
    if (Buffer.compare(plan.start, plan.end) < 0) b.deleteRange(plan.start, plan.end);
    if (plan.last !== undefined) b.delete(plan.last);
    await mapped(this.db.write(b));
  }

  /** Deletes the range's keys in iteration order (so `limit` counts as abstract-level's does). */
  private async clearKeyByKey(options: IterOpts): Promise<void> {
    const it = this.db.keys(rangeOptions(options));
    try {
      for (;;) {
        const keys = await mapped(it.nextv(1000));
        if (keys.length === 0) break;
        const b = new WriteBatch();
        for (const k of keys) b.delete(k);
        await mapped(this.db.write(b));
      }
    } finally {
      await it.close();
    }
  }

  _iterator(options: IterOpts): StrataLevelIterator {
    return new StrataLevelIterator(this as StrataLevel<unknown, unknown>, options);
  }

  _snapshot(options: object): StrataLevelSnapshot {
    return new StrataLevelSnapshot(this.db, options);
  }

  /** Compacts the range [start, end] (encoded with the key encoding) down to the bottom level. */
  async compactRange(start: unknown, end: unknown, options?: { keyEncoding?: string }): Promise<void> {
    if (this.status === 'opening') return this.deferAsync(() => this.compactRange(start, end, options));
    if (this.status !== 'open') throw new ModuleError('Database is not open: cannot call compactRange()', { code: 'LEVEL_DATABASE_NOT_OPEN' });
    const enc = this.keyEncoding((options?.keyEncoding ?? 'buffer') as never) as unknown as { encode(v: unknown): Bytes };
    await mapped(this.db.compactRange(start === undefined ? undefined : enc.encode(start), end === undefined ? undefined : enc.encode(end)));
  }

  /**
   * classic-level's approximateSize: bytes the range [start, end) occupies (encoded with the key
   * encoding), from the tables' indexes plus the memtables' share (DB.approximateSize).
   */
  async approximateSize(start: unknown, end: unknown, options?: { keyEncoding?: string }): Promise<number> {
    if (this.status === 'opening') return this.deferAsync(() => this.approximateSize(start, end, options));
    if (this.status !== 'open') throw new ModuleError('Database is not open: cannot call approximateSize()', { code: 'LEVEL_DATABASE_NOT_OPEN' });
    if (start === undefined || start === null || end === undefined || end === null) {
      throw new ModuleError('approximateSize() requires start and end arguments', { code: 'LEVEL_INVALID_KEY' });
    }
    const enc = this.keyEncoding((options?.keyEncoding ?? 'buffer') as never) as unknown as { encode(v: unknown): Bytes };
    return mapped(this.db.approximateSize(enc.encode(start), enc.encode(end)));
  }

  /**
   * classic-level's getProperty, synchronous: StrataDB's `stratadb.*` properties (DB.getProperty);
   * LevelDB's names (`leveldb.stats`, `leveldb.num-files-at-levelN`) answer as their `stratadb.` twins,
   * so code written for classic-level keeps working. An unknown property answers undefined.
   */
  getProperty(property: string): string | undefined {
    if (typeof property !== 'string') throw new TypeError("The first argument 'property' must be a string");
    if (this.status !== 'open') throw new ModuleError('Database is not open: cannot call getProperty()', { code: 'LEVEL_DATABASE_NOT_OPEN' });
    const name = property.startsWith('leveldb.') ? `stratadb.${property.slice('leveldb.'.length)}` : property;
    try {
      return this.db.getProperty(name);
    } catch (e) {
      throw toLevelError(e);
    }
  }

  /**
   * leveldown's and classic-level's static destroy/repair: DB.destroy and DB.repair on a closed
   * database (LEVEL_LOCKED while it is open anywhere), errors as Level codes with the StrataError as cause.
   */
  static destroy(location: string, options?: Parameters<typeof DB.destroy>[1]): Promise<DestroyResult> {
    return mapped(DB.destroy(location, options));
  }

  static repair(location: string, options?: Options): Promise<RepairReport> {
    return mapped(DB.repair(location, options));
  }

  /** The underlying StrataDB (open databases only): stats(), backup(), transactions… */
  get strata(): DB {
    if (!this[kDb]) throw new ModuleError('Database is not open', { code: 'LEVEL_DATABASE_NOT_OPEN' });
    return this[kDb];
  }
}
