/**
 * Table properties: what a table holds (counts, sizes, key and sequence range, how it was written),
 * stored as a block of name -> value entries (names bytewise sorted, restart interval 1).
 * Spec: sstable/FORMAT.md "Properties block" (the name list and each value's encoding).
 * Contract: decodeProperties() takes an untrusted decoded block: names must be strictly increasing,
 * numbers are varints consuming their whole value, required names must be present; anything else is
 * CorruptionError(file, block offset). Unknown names are ignored, so later versions may add properties.
 * Not here: collecting the numbers (table-writer.ts).
 */
import { compareByteRanges, compareBytes, copyBytes } from '../src/base/bytes.js';
import { getVarint, putVarint, type VarintResult } from '../src/base/coding.js';
import { CorruptionError } from '../src/errors.js';
import { BlockBuilder } from './block-builder.js';
import { Block, BlockIterator } from './block-reader.js';
import type { CompressionName } from './compression.js';
import { TABLE_UNIQUE_ID_MAX_SIZE } from './format.js';

export interface TableProperties {
  formatVersion: number;
  comparatorName: string;
  numEntries: number;
  /** Entries whose internal-key kind is Delete (0 unless the writer was told keys are internal). */
  numDeletions: number;
  /** Entries of the range-deletion block (always 0 in this version: reserved). */
  numRangeDeletions: number;
  rawKeyBytes: number;
  rawValueBytes: number;
  /** Stored bytes of all data blocks, trailers included. */
  dataSize: number;
  numDataBlocks: number;
  indexSize: number;
  /** Stored filter block bytes with trailer; 0 without a filter. */
  filterSize: number;
  /** Undefined exactly when numEntries is 0. */
  smallestKey: Uint8Array | undefined;
  largestKey: Uint8Array | undefined;
  /** Present when the keys are internal keys and the table is not empty. */
  smallestSeq: number | undefined;
  largestSeq: number | undefined;
  compression: CompressionName;
  /** '' when the table has no filter. */
  filterPolicy: string;
  bloomBitsPerKey: number;
  /**
   * The prefix length the filter also holds prefixes of (filter-block.ts); absent (0) when the filter
   * holds whole keys only, which is also what every table written before the property existed says.
   */
  filterPrefixLength?: number | undefined;
  creationTimeMs: number;
  /**
   * An upper bound on the write time of every entry (ms since the epoch), for time-based expiry
   * (the ttl compaction filter). Absent when the table's creationTimeMs is that bound already (a
   * flush writes after every write it holds); a compaction output carries its inputs' bound instead,
   * which its own creation time would push later.
   */
  newestWriteTimeMs?: number | undefined;
  blockSize: number;
  blockRestartInterval: number;
  /**
   * The table's identity (FORMAT.md "unique_id"): random bytes the engine also records in the
   * MANIFEST, so that a table swapped for another is refused at open. Absent in tables written
   * without one (library use, older engine builds).
   */
  uniqueId?: Uint8Array | undefined;
  /**
   * Partitioned tables (format version 3 and 4): how many index partitions the top-level index
   * (indexSize) points at, and their stored bytes with trailers (filterSize counts the filter
   * partitions). Absent in unpartitioned tables.
   */
  indexPartitions?: number | undefined;
  indexPartitionBytes?: number | undefined;
}

type NumberField = {
  [K in keyof TableProperties]-?: TableProperties[K] extends number ? K : never
}[keyof TableProperties];

/** On-disk name of each numeric property. */
const NUMBER_NAMES: ReadonlyArray<readonly [string, NumberField]> = [
  ['block.restart_interval', 'blockRestartInterval'],
  ['block.size', 'blockSize'],
  ['creation_time', 'creationTimeMs'],
  ['data.blocks', 'numDataBlocks'],
  ['data.size', 'dataSize'],
  ['deletions', 'numDeletions'],
  ['entries', 'numEntries'],
  ['filter.bits_per_key', 'bloomBitsPerKey'],
  ['filter.size', 'filterSize'],
  ['format.version', 'formatVersion'],
  ['index.size', 'indexSize'],
  ['range_deletions', 'numRangeDeletions'],
  ['raw.key_bytes', 'rawKeyBytes'],
  ['raw.value_bytes', 'rawValueBytes'],
];
type OptionalNumber = 'smallestSeq' | 'largestSeq' | 'filterPrefixLength' | 'newestWriteTimeMs' | 'indexPartitions' | 'indexPartitionBytes';
const OPTIONAL_NUMBERS: ReadonlyArray<readonly [string, OptionalNumber]> = [
  ['filter.prefix_length', 'filterPrefixLength'],
  ['index.partition_bytes', 'indexPartitionBytes'],
  ['index.partitions', 'indexPartitions'],
  ['seq.largest', 'largestSeq'],
  ['seq.smallest', 'smallestSeq'],
  ['write_time.newest', 'newestWriteTimeMs'],
];
const STRING_NAMES: ReadonlyArray<readonly [string, 'comparatorName' | 'compression' | 'filterPolicy']> = [
  ['comparator', 'comparatorName'],
  ['compression', 'compression'],
  ['filter.policy', 'filterPolicy'],
];
const KEY_NAMES: ReadonlyArray<readonly [string, 'smallestKey' | 'largestKey' | 'uniqueId']> = [
  ['key.largest', 'largestKey'],
  ['key.smallest', 'smallestKey'],
  ['unique_id', 'uniqueId'],
];

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

function varintBytes(v: number): Uint8Array {
  const b = new Uint8Array(10);
  return b.subarray(0, putVarint(b, 0, v));
}

/** The properties block contents (uncompressed). */
export function encodeProperties(p: TableProperties): Uint8Array {
  const entries: Array<[Uint8Array, Uint8Array]> = [];
  for (const [name, field] of NUMBER_NAMES) entries.push([enc.encode(name), varintBytes(p[field])]);
  for (const [name, field] of OPTIONAL_NUMBERS) {
    const v = p[field];
    if (v !== undefined) entries.push([enc.encode(name), varintBytes(v)]);
  }
  for (const [name, field] of STRING_NAMES) entries.push([enc.encode(name), enc.encode(p[field])]);
  for (const [name, field] of KEY_NAMES) {
    const v = p[field];
    if (v !== undefined) entries.push([enc.encode(name), v]);
  }
  entries.sort((a, b) => compareBytes(a[0], b[0]));
  const builder = new BlockBuilder(1, 1024);
  for (const [k, v] of entries) builder.add(k, v);
  return copyBytes(builder.finish());
}

/** The newest write time a table vouches for: `write_time.newest`, else its creation time (see the field). */
export function newestWriteTimeOf(p: TableProperties): number {
  return p.newestWriteTimeMs ?? p.creationTimeMs;
}

/** Decodes a properties block (errors name the block's file offset). */
export function decodeProperties(block: Block): TableProperties {
  const fail = (detail: string): never => {
    throw new CorruptionError(block.fileName, block.fileOffset, `properties: ${detail}`);
  };
  const found = new Map<string, Uint8Array>();
  const it = new BlockIterator(compareByteRanges, block);
  let prev: Uint8Array | undefined;
  for (it.seekToFirst(); it.valid(); it.next()) {
    const k = it.keyCopy();
    if (prev && compareBytes(prev, k) >= 0) fail('names out of order');
    prev = k;
    let name: string;
    try { name = dec.decode(k); } catch { name = ''; }
    found.set(name, it.value());
  }
  const slot: VarintResult = { value: 0, offset: 0 };
  const num = (name: string, v: Uint8Array): number => {
    if (!getVarint(v, 0, v.length, slot) || slot.offset !== v.length) fail(`${name}: bad number`);
    return slot.value;
  };
  const out: Partial<TableProperties> = {};
  for (const [name, field] of NUMBER_NAMES) {
    const v = found.get(name);
    if (v === undefined) fail(`missing ${name}`);
    else out[field] = num(name, v);
  }
  for (const [name, field] of OPTIONAL_NUMBERS) {
    const v = found.get(name);
    out[field] = v === undefined ? undefined : num(name, v);
  }
  for (const [name, field] of STRING_NAMES) {
    const v = found.get(name);
    if (v === undefined) fail(`missing ${name}`);
    else {
      try { (out as Record<string, string>)[field] = dec.decode(v); } catch { fail(`${name}: not UTF-8`); }
    }
  }
  for (const [name, field] of KEY_NAMES) {
    const v = found.get(name);
    out[field] = v === undefined ? undefined : copyBytes(v);
  }
  const p = out as TableProperties;
  if (p.compression !== 'none' && p.compression !== 'lz4' && p.compression !== 'zstd') fail(`unknown compression ${p.compression}`);
  if ((p.smallestKey === undefined) !== (p.numEntries === 0) || (p.largestKey === undefined) !== (p.numEntries === 0)) {
    fail('smallest/largest key must be present exactly when the table has entries');
  }
  if ((p.smallestSeq === undefined) !== (p.largestSeq === undefined)) fail('only one of seq.smallest/seq.largest');
  if (p.filterPrefixLength === undefined) delete p.filterPrefixLength;
  if (p.newestWriteTimeMs === undefined) delete p.newestWriteTimeMs;
  if (p.indexPartitions === undefined) delete p.indexPartitions;
  if (p.indexPartitionBytes === undefined) delete p.indexPartitionBytes;
  if (p.uniqueId === undefined) delete p.uniqueId;
  else if (p.uniqueId.length === 0 || p.uniqueId.length > TABLE_UNIQUE_ID_MAX_SIZE) {
    fail(`unique_id of ${p.uniqueId.length} bytes (expected 1..${TABLE_UNIQUE_ID_MAX_SIZE})`);
  }
  return p;
}
