/**
 * The physical layout of a table, for tools (`stratadb sst-dump`) and golden tests: every block with
 * its offset, stored size, raw size, compression and entry count, plus the footer.
 * Format: sstable/FORMAT.md (block kinds and order). Reads every block with its CRC checked, bypassing
 * the block cache; a damaged block is CorruptionError like any read.
 * Not here: opening and validating the table (table-reader.ts), printing beyond a plain text table
 * (tools/ decide on JSON or text).
 */
import { compareByteRanges, printableKey } from '../src/base/bytes.js';
import { BlockIterator } from './block-reader.js';
import { codecById } from './compression.js';
import { BLOCK_TRAILER_SIZE, FOOTER_SIZE, META_FILTER_PREFIX, META_PROPERTIES, META_RANGE_DEL, type BlockHandle } from './format.js';
import type { TableProperties } from './properties.js';
import { formatUniqueId } from './unique-id.js';
import type { TableReader } from './table-reader.js';

export type BlockKind = 'data' | 'filter' | 'range_del' | 'properties' | 'metaindex' | 'index' | 'footer' | 'unknown-meta' |
  /** Partitioned tables (format 3 and 4): 'index' is then the top-level index over these. */
  'index_partition' | 'filter_partition';

export interface BlockLayout {
  kind: BlockKind;
  offset: number;
  /** Stored bytes excluding the 5-byte trailer (for the footer: its 48 bytes). */
  storedSize: number;
  /** Decompressed bytes (equal to storedSize when stored raw). */
  rawSize: number;
  compression: string;
  /** Entries of blocks made of entries; undefined for the filter and the footer. */
  entries: number | undefined;
  firstKey?: Uint8Array;
  lastKey?: Uint8Array;
  /** The metaindex name, for meta blocks. */
  name?: string;
}

export interface TableLayout {
  fileName: string;
  fileSize: number;
  formatVersion: number;
  /** The encryption key id of an encrypted table (format 2). */
  keyId?: string;
  properties: TableProperties;
  blocks: BlockLayout[];
}

function metaKind(name: string): BlockKind {
  if (name.startsWith(META_FILTER_PREFIX)) return 'filter';
  if (name === META_PROPERTIES) return 'properties';
  if (name === META_RANGE_DEL) return 'range_del';
  return 'unknown-meta';
}

/** Walks every block of an open table (data blocks in index order, then meta blocks, index, footer). */
export async function readTableLayout(reader: TableReader): Promise<TableLayout> {
  const blocks: BlockLayout[] = [];
  const entryBlock = async (kind: BlockKind, h: BlockHandle, name?: string): Promise<BlockLayout> => {
    const { block, type } = await reader.fetchBlock(h);
    const it = new BlockIterator(compareByteRanges, block);
    let entries = 0;
    let firstKey: Uint8Array | undefined;
    let lastKey: Uint8Array | undefined;
    for (it.seekToFirst(); it.valid(); it.next()) {
      if (entries === 0) firstKey = it.keyCopy();
      entries++;
    }
    if (entries > 0) { it.seekToLast(); lastKey = it.keyCopy(); }
    const b: BlockLayout = {
      kind, offset: h.offset, storedSize: h.size, rawSize: block.data.length,
      compression: codecById(type)?.name ?? `type ${type}`, entries,
    };
    if (kind === 'data' && firstKey && lastKey) { b.firstKey = firstKey; b.lastKey = lastKey; }
    if (name !== undefined) b.name = name;
    return b;
  };
  for (const h of reader.dataBlockHandles()) blocks.push(await entryBlock('data', h));
  for (const p of reader.partitions()) {
    blocks.push(await entryBlock('index_partition', p.index));
    if (p.filter) {
      const { data, type } = await reader.fetchBytes(p.filter);
      blocks.push({ kind: 'filter_partition', offset: p.filter.offset, storedSize: p.filter.size, rawSize: data.length, compression: codecById(type)?.name ?? `type ${type}`, entries: undefined });
    }
  }
  for (const [name, h] of reader.metaHandles) {
    const kind = metaKind(name);
    if (kind === 'filter' || kind === 'unknown-meta') {
      const { data, type } = await reader.fetchBytes(h);
      blocks.push({ kind, offset: h.offset, storedSize: h.size, rawSize: data.length, compression: codecById(type)?.name ?? `type ${type}`, entries: undefined, name });
    } else {
      blocks.push(await entryBlock(kind, h, name));
    }
  }
  blocks.push(await entryBlock('metaindex', reader.footer.metaindex));
  blocks.push(await entryBlock('index', reader.footer.index));
  blocks.push({
    kind: 'footer', offset: reader.fileSize - FOOTER_SIZE, storedSize: FOOTER_SIZE, rawSize: FOOTER_SIZE,
    compression: 'none', entries: undefined,
  });
  blocks.sort((a, b) => a.offset - b.offset);
  return { fileName: reader.fileName, fileSize: reader.fileSize, formatVersion: reader.footer.formatVersion, ...(reader.keyId !== undefined ? { keyId: reader.keyId } : {}), properties: reader.properties, blocks };
}

/** Properties in the order a reader wants them. */
const PROPERTY_ORDER: ReadonlyArray<keyof TableProperties> = [
  'formatVersion', 'comparatorName', 'numEntries', 'numDeletions', 'numRangeDeletions', 'rawKeyBytes', 'rawValueBytes',
  'numDataBlocks', 'dataSize', 'indexSize', 'filterSize', 'smallestKey', 'largestKey', 'smallestSeq', 'largestSeq',
  'compression', 'filterPolicy', 'bloomBitsPerKey', 'blockSize', 'blockRestartInterval', 'creationTimeMs',
];

export interface FormatLayoutOptions {
  /** How keys are shown (default printableKey); tools pass an internal-key formatter for engine tables. */
  formatKey?: (key: Uint8Array) => string;
}

/** A plain-text rendering: one line per block, then the properties (stable, for golden files). */
export function formatTableLayout(layout: TableLayout, options: FormatLayoutOptions = {}): string {
  const fk = options.formatKey ?? ((k: Uint8Array) => printableKey(k));
  const lines: string[] = [];
  lines.push(`size ${layout.fileSize}  format ${layout.formatVersion}  blocks ${layout.blocks.length}`);
  for (const b of layout.blocks) {
    const trailer = b.kind === 'footer' ? 0 : BLOCK_TRAILER_SIZE;
    let line = `${String(b.offset).padStart(8)}  ${b.kind.padEnd(10)} stored ${b.storedSize}+${trailer}  raw ${b.rawSize}  ${b.compression}`;
    if (b.entries !== undefined) line += `  entries ${b.entries}`;
    if (b.firstKey && b.lastKey) line += `  keys ${fk(b.firstKey)} .. ${fk(b.lastKey)}`;
    lines.push(line);
  }
  const p = layout.properties;
  for (const k of PROPERTY_ORDER) {
    const v = p[k];
    const shown = v instanceof Uint8Array ? fk(v) : v === undefined || v === '' ? '-' : String(v);
    lines.push(`  ${k}: ${shown}`);
  }
  // Only when present: tables without an id dump as they always did.
  if (p.newestWriteTimeMs !== undefined) lines.push(`  newestWriteTimeMs: ${p.newestWriteTimeMs}`);
  if (p.uniqueId !== undefined) lines.push(`  uniqueId: ${formatUniqueId(p.uniqueId)}`);
  return lines.join('\n');
}
