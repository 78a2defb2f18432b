/**
 * The public surface of the table library (`stratadb/sstable`): writer, reader, the BlockCache
 * interface, layout dumps for tools, and the format constants. Re-exports only.
 * Spec: sstable/FORMAT.md. Engine code imports these modules directly; tools and bench use this file.
 */
export { TableWriter, type TableWriterOptions, type TableWriterResult } from './table-writer.js';
export {
  ExternalTableWriter, writeExternalTable, type ExternalTableWriterOptions, type ExternalTableInfo,
} from './external-table-writer.js';
export { TableReader, type TableReaderOptions, type TableEntry } from './table-reader.js';
export type { TableProperties } from './properties.js';
export type { BlockCache } from './block-cache.js';
export type { CompressionName } from './compression.js';
export type { FilterKeyTransform } from './filter-block.js';
export { FILTER_POLICY_NAME } from './filter-block.js';
export { readTableLayout, formatTableLayout, type TableLayout, type BlockLayout, type BlockKind } from './layout.js';
export { newTableUniqueId, formatUniqueId } from './unique-id.js';
export { Block, BlockIterator } from './block-reader.js';
export { BlockBuilder } from './block-builder.js';
export { TwoLevelIterator } from './two-level-iterator.js';
export {
  TABLE_MAGIC, TableFormatVersion, TABLE_FORMAT_VERSION_CURRENT, TABLE_UNIQUE_ID_SIZE, BLOCK_TRAILER_SIZE, FOOTER_SIZE,
  COMPRESSION_NONE, COMPRESSION_LZ4, COMPRESSION_ZSTD, type BlockHandle, type Footer,
} from './format.js';
export {
  BloomFilterBuilder, BloomFilterReader, BLOOM_FILTER_POLICY_NAME, bloomHash, bloomProbeCount,
} from './bloom.js';
