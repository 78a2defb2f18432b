/**
 * The table's filter block: one bloom filter (bloom.ts, FILTER-FORMAT.md) over the *filter keys* of
 * all entries, where a filter key is a caller-supplied transform of the table key. The engine stores
 * internal keys (user key + 8-byte trailer) and probes by user key, so its transform strips the
 * trailer, as LevelDB's InternalFilterPolicy does. Without a transform the whole key is filtered.
 * Spec: sstable/FORMAT.md "Filter block" and "Metaindex block" (the entry name carries the policy).
 * With a prefix length N > 0 (RocksDB's fixed prefix extractor) the filter also holds the first N
 * bytes of every filter key at least N bytes long, so a reader can ask "may any key start with this
 * prefix?" (FILTER-FORMAT.md "Prefix entries"); keys shorter than N add no prefix. Both kinds share
 * one bit array: a prefix entry can only add false positives to whole-key probes, never negatives.
 * Contract: the transform must be pure and return a view or copy that is not retained; repeated
 * filter keys (versions of one user key) and repeated prefixes (keys arrive sorted) are stored once.
 * Safe in a worker.
 */
import { BLOOM_FILTER_POLICY_NAME, BloomFilterBuilder, BloomFilterReader } from './bloom.js';
import { META_FILTER_PREFIX } from './format.js';
import { compareByteRanges, copyBytes } from '../src/base/bytes.js';
import { InvalidArgumentError } from '../src/errors.js';

/** Longest prefix a filter may be built over (a sanity bound: prefixes are meant to be short). */
export const MAX_FILTER_PREFIX_LENGTH = 1024;

export type FilterKeyTransform = (key: Uint8Array) => Uint8Array;

export const FILTER_POLICY_NAME = BLOOM_FILTER_POLICY_NAME;

/** The metaindex entry name of a filter of this policy. */
export const FILTER_META_NAME = META_FILTER_PREFIX + FILTER_POLICY_NAME;

export class FilterBlockBuilder {
  private readonly bloom: BloomFilterBuilder;
  /** The prefix added last (a copy); sorted keys bring each prefix in one run. */
  private lastPrefix: Uint8Array | undefined;

  /** prefixLength: 0 = whole keys only; otherwise an integer in 1..MAX_FILTER_PREFIX_LENGTH. */
  constructor(readonly bitsPerKey: number, private readonly transform: FilterKeyTransform | undefined,
    readonly prefixLength = 0) {
    if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > MAX_FILTER_PREFIX_LENGTH) {
      throw new InvalidArgumentError(`prefixLength: expected an integer in 0..${MAX_FILTER_PREFIX_LENGTH}, got ${String(prefixLength)}`);
    }
    this.bloom = new BloomFilterBuilder(bitsPerKey);
  }

  /** Adds the filter key of a table key (and its prefix); the bytes are hashed now, not retained. */
  add(key: Uint8Array): void {
    const fk = this.transform ? this.transform(key) : key;
    this.bloom.addKey(fk);
    const n = this.prefixLength;
    if (n === 0 || fk.length < n) return;
    const last = this.lastPrefix;
    if (last !== undefined && compareByteRanges(last, 0, n, fk, 0, n) === 0) return;
    this.lastPrefix = copyBytes(fk.subarray(0, n));
    this.bloom.addKey(this.lastPrefix);
  }

  get keyCount(): number { return this.bloom.keyCount; }

  finish(): Uint8Array {
    this.lastPrefix = undefined;
    return this.bloom.finish();
  }
}

export class FilterBlockReader {
  private readonly bloom: BloomFilterReader;

  /** Throws CorruptionError when the filter's metadata is malformed. Keeps a reference to `bytes`. */
  constructor(readonly bytes: Uint8Array, fileName: string, fileOffset: number, private readonly transform: FilterKeyTransform | undefined) {
    this.bloom = new BloomFilterReader(bytes, fileName, fileOffset);
  }

  /** The filter key the writer stored for table key `key`. */
  filterKeyOf(key: Uint8Array): Uint8Array {
    return this.transform ? this.transform(key) : key;
  }

  /** False only when no entry with this filter key was added. */
  mayContain(filterKey: Uint8Array): boolean {
    return this.bloom.mayContain(filterKey);
  }

  /**
   * False only when no filter key starts with `prefix`. Answers only for a filter built with a prefix
   * length (`prefixLength`, from the table's properties) no longer than `prefix`: otherwise true.
   */
  mayContainPrefix(prefix: Uint8Array, prefixLength: number): boolean {
    if (prefixLength === 0 || prefix.length < prefixLength) return true;
    return this.bloom.mayContain(prefix.length === prefixLength ? prefix : prefix.subarray(0, prefixLength));
  }
}
