/**
 * The options that shape an engine table (block size, restart interval, filter, codec), derived from
 * the database's ResolvedOptions for one level. This is the one place that knows which Options fields
 * reach a table: flush, compaction (through its plain-data output options), checkpoint/backup memtable
 * dumps and point-in-time restore all take their table options from tableOptionsFor().
 * A new table option touches src/options.ts (type, default, validation), this file, the README's
 * options reference and sstable/table-writer.ts; nothing else.
 * Contract: TableOptions is plain data (structured-cloneable, posted to compaction workers). Keys and
 * ciphers are not plain data and travel beside it (table-output.ts). Safe in a worker.
 */
import type { ResolvedOptions } from '../options.js';
import type { TableWriterOptions } from '../../sstable/table-writer.js';

/**
 * The writer's own option names (sstable/table-writer.ts documents each), so table-output.ts hands
 * them to the TableWriter as they are. `compression` is the codec of the level.
 */
export type TableOptions = Required<Pick<TableWriterOptions,
  'blockSize' | 'blockRestartInterval' | 'indexBlockRestartInterval' | 'bloomBitsPerKey' | 'compression' | 'zstdLevel'>> &
  Pick<TableWriterOptions, 'prefixLength' | 'partitionedMetadata' | 'metadataBlockSize'>;

/** The table options for tables written to `level` (flush output is level 0). */
export function tableOptionsFor(o: ResolvedOptions, level: number): TableOptions {
  return {
    blockSize: o.blockSize,
    blockRestartInterval: o.blockRestartInterval,
    indexBlockRestartInterval: o.indexBlockRestartInterval,
    bloomBitsPerKey: o.bloomBitsPerKey,
    prefixLength: o.prefixLength,
    compression: o.compressionPerLevel?.[level] ?? o.compression,
    zstdLevel: o.zstdLevel,
    partitionedMetadata: o.partitionedMetadata,
    metadataBlockSize: o.metadataBlockSize,
  };
}
