/**
 * Memtable -> table: writes the entries of an internal iterator (a frozen memtable, or the merged
 * replay of WALs at open) as one table file, fsyncs it, and returns its FileMetadata for a VersionEdit.
 * The caller installs the edit; on any failure the partial file is removed here and the error rethrown.
 *
 * A 64 MiB memtable takes a few hundred ms to encode and compress; running it in one go would freeze
 * the event loop. We work in slices: after ~4 ms of work we yield to the event loop with setImmediate
 * (the next issue's responsiveness target is p99 < 10 ms of event-loop delay).
 * Main thread; the compaction runner uses its own loop (it cuts outputs).
 */
import type { FileSystem } from '../fs/file-system.js';
import { ChecksummedFile } from '../fs/checksummed-file.js';
import type { InternalIterator } from '../base/internal-iterator.js';
import { internalKeyToUserKey, internalKeyComparator } from '../base/internal-key.js';
import { TableWriter } from '../../sstable/table-writer.js';
import { newTableUniqueId } from '../../sstable/unique-id.js';
import { makeFileMetadata, type FileMetadata } from '../manifest/file-metadata.js';
import { tableFileName } from '../manifest/file-names.js';
import type { CompressionName } from '../../sstable/compression.js';
import { InternalError } from '../errors.js';
import type { FileCipher } from '../base/file-cipher.js';

export interface BuildTableOptions {
  blockSize: number;
  blockRestartInterval: number;
  bloomBitsPerKey: number;
  compression: CompressionName;
  zstdLevel: number;
  clock: () => number;
  /** Encryption at rest: a fresh FileCipher (kind TABLE) for this file. */
  cipher?: FileCipher;
}

const SLICE_MS = 4;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Writes every entry of `iter` (positioned by this function) to table `fileNumber` in `dir`.
 * Returns undefined when the iterator is empty (no file is left behind).
 */
export async function buildTable(
  fs: FileSystem,
  dir: string,
  fileNumber: number,
  iter: InternalIterator,
  options: BuildTableOptions,
): Promise<FileMetadata | undefined> {
  const path = tableFileName(dir, fileNumber);
  const raw = await fs.openWritable(path);
  const file = new ChecksummedFile(raw);
  let ok = false;
  // The table's identity, in its properties and (through the metadata) in the MANIFEST.
  const uniqueId = newTableUniqueId();
  try {
    const writer = new TableWriter(file, {
      blockSize: options.blockSize,
      blockRestartInterval: options.blockRestartInterval,
      compression: options.compression,
      zstdLevel: options.zstdLevel,
      bloomBitsPerKey: options.bloomBitsPerKey,
      comparator: internalKeyComparator,
      filterKeyTransform: internalKeyToUserKey,
      keysAreInternal: true,
      creationTimeMs: options.clock(),
      fileName: path,
      uniqueId,
      ...(options.cipher ? { cipher: options.cipher } : {}),
    });
    let p = iter.seekToFirst();
    if (p) await p;
    if (!iter.valid()) {
      writer.abandon();
      return undefined;
    }
    let sliceStart = performance.now();
    let n = 0;
    while (iter.valid()) {
      const a = writer.add(iter.key(), iter.value());
      if (a) await a;
      p = iter.next();
      if (p) await p;
      if ((++n & 255) === 0 && performance.now() - sliceStart > SLICE_MS) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
    }
    const result = await writer.finish();
    await file.sync();
    await file.close();
    // The table's directory entry must be durable before a MANIFEST edit names it.
    await fs.syncDir(dir);
    const props = result.properties;
    if (props.smallestKey === undefined || props.largestKey === undefined ||
      props.smallestSeq === undefined || props.largestSeq === undefined) {
      throw new InternalError(`table ${fileNumber} was written without key or sequence bounds`);
    }
    const meta = makeFileMetadata({
      fileNumber,
      fileSize: result.fileSize,
      crc32c: file.checksum,
      smallest: props.smallestKey,
      largest: props.largestKey,
      smallestSeq: props.smallestSeq,
      largestSeq: props.largestSeq,
      numEntries: props.numEntries,
      numDeletions: props.numDeletions,
      ...(options.cipher ? { keyId: options.cipher.keyId } : {}),
      uniqueId,
    });
    ok = true;
    return meta;
  } finally {
    if (!ok) {
      await file.close().catch(() => undefined);
      await fs.remove(path).catch(() => undefined);
    }
  }
}
