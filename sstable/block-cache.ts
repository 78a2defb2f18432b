/**
 * The BlockCache interface: what a table reader needs from a cache of decoded blocks. sstable/ only
 * declares it; the engine's LRU with byte accounting lives in src/cache/lru-cache.ts and is handed
 * to readers by their caller (several readers share one cache, each under its own cacheId).
 * Contract:
 * - Entries are keyed by (cacheId, blockOffset); a cacheId comes from newCacheId() and is never
 *   reused, so a reopened table cannot see a predecessor's blocks.
 * - Values are immutable decoded blocks; a value may be evicted at any time (holders keep using it).
 * - `charge` is the bytes the value keeps alive; the cache adds its own per-entry overhead.
 * - lookup() is on every read and must not allocate on a hit. Main thread only.
 */

export interface BlockCache {
  newCacheId(): number;
  lookup(cacheId: number, blockOffset: number): object | undefined;
  /** Inserts or replaces; may evict others (or decline a value larger than the capacity). */
  insert(cacheId: number, blockOffset: number, value: object, charge: number): void;
  /** Drops every entry of one table (it was closed or deleted). */
  erase(cacheId: number): void;
}
