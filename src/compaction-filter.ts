/**
 * The `compactionFilter` open option as plain data: what a user may give, how it is checked, and how
 * it is named in the OPTIONS file and the LOG. A filter runs inside compaction workers, where no
 * function can be posted, so it is either a module the worker imports (a path or file: URL plus an
 * export name) or a built-in described by data (`ttl({ ms, fromValue? })`, exported from 'stratadb').
 * Running it (importing the module, the ttl test, checking what the function returns) is
 * compaction/entry-filter.ts; which entries it may see is compaction/compaction-iterator.ts.
 * Contract: resolveCompactionFilter() turns user input into a frozen CompactionFilterSpec or throws
 * InvalidArgumentError naming the option; a module is not loaded here (a missing one fails the
 * compactions that need it, README "Compaction filters"). Main thread only (resolves relative paths
 * against the working directory).
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError } from './errors.js';

/** Where the ttl filter reads an entry's write time in its value. */
export interface TtlFromValue {
  /** Byte offset of the time in the value. */
  offset: number;
  /** 'u64be-ms': 8 bytes, big-endian ms since the epoch; 'u32be-s': 4 bytes, big-endian seconds. */
  type: 'u64be-ms' | 'u32be-s';
}

/** The built-in time-to-live filter: an entry older than `ms` is removed at its next compaction. */
export interface TtlFilterSpec {
  readonly kind: 'ttl';
  readonly ms: number;
  /** Absent: the write time is the newest write time of the table the entry came from (coarse, never early). */
  readonly fromValue?: Readonly<TtlFromValue>;
}

/** A user filter: `export` of the ES module at `url` (a file: URL) is called for each entry. */
export interface ModuleFilterSpec {
  readonly kind: 'module';
  readonly url: string;
  readonly exportName: string;
}

export type CompactionFilterSpec = TtlFilterSpec | ModuleFilterSpec;

/** What `compactionFilter` accepts: a module reference, or a built-in made by ttl(). */
export type CompactionFilterOption = { module: string | URL; export?: string } | TtlFilterSpec;

/** What a module filter returns for one entry: keep it, remove it, or keep it with another value. */
export type CompactionFilterDecision = 'keep' | 'remove' | { value: Uint8Array };

/** The shape of a module filter's export (sync; key and value are views valid during the call only). */
export type CompactionFilterFunction = (key: Buffer, value: Buffer, level: number) => CompactionFilterDecision;

const TTL_MAX_MS = 2 ** 50;

function bad(what: string, got: unknown): never {
  const shown = typeof got === 'string' ? JSON.stringify(got) : got instanceof URL ? got.href : String(got);
  throw new InvalidArgumentError(`option compactionFilter: ${what} (got ${shown})`);
}

function fromValueArg(v: unknown): TtlFromValue | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null) bad('ttl fromValue must be { offset, type }', v);
  const { offset, type } = v as Record<string, unknown>;
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0 || offset > 2 ** 31) {
    bad('ttl fromValue.offset must be an integer from 0 to 2^31', offset);
  }
  if (type !== 'u64be-ms' && type !== 'u32be-s') bad("ttl fromValue.type must be 'u64be-ms' or 'u32be-s'", type);
  return Object.freeze({ offset, type });
}

/**
 * The built-in TTL filter for `compactionFilter`: entries written more than `ms` ago are removed when a
 * compaction meets them (never those a live snapshot can see). Without `fromValue` the write time is the
 * newest write time of the table holding the entry, so an entry may outlive its TTL by the time until
 * its table's newest write expires too; with it, the time stored in the value (precise).
 */
export function ttl(opts: { ms: number; fromValue?: TtlFromValue }): TtlFilterSpec {
  if (typeof opts !== 'object' || opts === null) bad('ttl() takes { ms, fromValue? }', opts);
  const { ms } = opts;
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 1 || ms > TTL_MAX_MS) bad(`ttl ms must be an integer from 1 to 2^50`, ms);
  const fromValue = fromValueArg(opts.fromValue);
  return Object.freeze({ kind: 'ttl', ms, ...(fromValue ? { fromValue } : {}) });
}

/** Checks the option and makes it plain data (a module path becomes an absolute file: URL). */
export function resolveCompactionFilter(v: unknown): CompactionFilterSpec | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad('expected { module, export? } or ttl({ ms })', v);
  const o = v as Record<string, unknown>;
  if (o['kind'] === 'ttl') return ttl(o as unknown as { ms: number; fromValue?: TtlFromValue });
  if (o['kind'] !== undefined) bad("unknown built-in (use ttl() from 'stratadb')", o['kind']);
  for (const k of Object.keys(o)) if (k !== 'module' && k !== 'export') bad(`unknown field ${k} (expected module, export)`, k);
  const m = o['module'];
  let url: string;
  if (m instanceof URL) {
    if (m.protocol !== 'file:') bad('module must be a file path or a file: URL', m);
    url = m.href;
  } else if (typeof m === 'string' && m !== '') {
    url = m.startsWith('file:') ? new URL(m).href : pathToFileURL(path.resolve(m)).href;
  } else {
    bad('module must be a file path or a file: URL', m);
  }
  const e = o['export'] ?? 'default';
  if (typeof e !== 'string' || e === '') bad('export must be a non-empty string', e);
  return Object.freeze({ kind: 'module', url, exportName: e });
}

/** `ttl(ms=3600000)`, `ttl(ms=1000, fromValue=u64be-ms@0)` or `file:///app/filter.js#drop` (OPTIONS file, LOG). */
export function describeCompactionFilter(f: CompactionFilterSpec | undefined): string {
  if (f === undefined) return 'none';
  if (f.kind === 'module') return `${f.url}#${f.exportName}`;
  return `ttl(ms=${f.ms}${f.fromValue ? `, fromValue=${f.fromValue.type}@${f.fromValue.offset}` : ''})`;
}
