/**
 * The table's filter block: one bloom filter (bloom.ts, FILTER-FORMAT.md) over the *filter keys* of
 * all entries, where a filter key is a caller-supplied transform of the table key. The engine stores
 * internal keys (user key + 8-byte trailer) and probes by user key, so its transform strips the
 * trailer, as LevelDB's InternalFilterPolicy does. Without a transform the whole key is filtered.
 * Spec: sstable/FORMAT.md "Filter block" and "Metaindex block" (the entry name carries the policy).
 * Contract: the transform must be pure and return a view or copy that is not retained; repeated
 * filter keys (versions of one user key) are stored once. Safe in a worker.
 */
import { BLOOM_FILTER_POLICY_NAME, BloomFilterBuilder, BloomFilterReader } from './bloom.js';
import { META_FILTER_PREFIX } from './format.js';

export type FilterKeyTransform = (key: Uint8Array) => Uint8Array;

export const FILTER_POLICY_NAME = BLOOM_FILTER_POLICY_NAME;

/** The metaindex entry name of a filter of this policy. */
export const FILTER_META_NAME = META_FILTER_PREFIX + FILTER_POLICY_NAME;

export class FilterBlockBuilder {
  private readonly bloom: BloomFilterBuilder;

  constructor(readonly bitsPerKey: number, private readonly transform: FilterKeyTransform | undefined) {
    this.bloom = new BloomFilterBuilder(bitsPerKey);
  }

  /** Adds the filter key of a table key; the bytes are hashed now, not retained. */
  add(key: Uint8Array): void {
    this.bloom.addKey(this.transform ? this.transform(key) : key);
  }

  get keyCount(): number { return this.bloom.keyCount; }

  finish(): Uint8Array { return this.bloom.finish(); }
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
}
