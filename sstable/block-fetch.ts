/**
 * Reading one block of a table: read stored bytes + trailer, verify the CRC, decompress, decode the
 * restart array, and keep the result in the block cache. The synchronous path (readSync + sync lz4)
 * serves gets without a microtask; zstd blocks need the async path.
 * Format: sstable/FORMAT.md "Block trailer" and "Compression".
 * Contract: handles are bounds-checked by their decoders (format.ts) before they get here; a short
 * read, a CRC mismatch, an unknown type byte or a bad payload is CorruptionError(file, block offset);
 * I/O failures are the file's IOError. Blocks handed out are immutable and own their bytes exactly
 * (a pooled or scratch read buffer is copied out, so the cache charge is what the block really keeps
 * alive). Synchronous misses read into one scratch buffer per thread: no allocation but the block's own.
 * Main thread or worker; one fetcher per open table.
 */
import { Buffer } from 'node:buffer';
import { getFixed32 } from '../src/base/coding.js';
import { crc32c, unmaskCrc } from '../src/base/crc32c.js';
import { CorruptionError } from '../src/errors.js';
import type { ReadableFile } from '../src/fs/file-system.js';
import type { BlockCache } from './block-cache.js';
import { Block } from './block-reader.js';
import { decodeBlock, decodeBlockSync } from './compression.js';
import { BLOCK_TRAILER_SIZE } from './format.js';
import type { FileCipher } from '../src/encryption/file-cipher.js';
import { copyBytes } from '../src/base/bytes.js';

/**
 * The buffer synchronous cache misses read into, shared by every fetcher of this thread: a read,
 * its checks and its decode finish before the next read starts, and the block the cache keeps is
 * always a fresh buffer (the decompressed output, or a copy of a stored uncompressed payload), so
 * nothing outlives the read. A fresh buffer per read cost 2-3 µs of a 12 µs miss in allocation and GC.
 */
let scratch = new Uint8Array(64 * 1024);

function scratchOf(length: number): Uint8Array {
  if (scratch.length < length) scratch = new Uint8Array(Math.max(length, scratch.length * 2));
  return scratch.subarray(0, length);
}

/**
 * Block bytes as a plain Uint8Array that owns its buffer: a view into a much larger buffer (a pooled
 * Buffer) is copied out; a Buffer becomes a plain view (Buffer#subarray costs ~40% more per value()).
 */
function owned(data: Uint8Array): Uint8Array {
  if (data.buffer === scratch.buffer || data.buffer.byteLength > data.length + 64) return new Uint8Array(data);
  return Buffer.isBuffer(data) ? new Uint8Array(data.buffer, data.byteOffset, data.length) : data;
}

/** What a stored block decodes to, for layout dumps. */
export interface FetchedBlock {
  block: Block;
  type: number;
}

export class BlockFetcher {
  readonly cacheId: number;

  constructor(
    private readonly file: ReadableFile,
    readonly fileName: string,
    private readonly verify: boolean,
    private readonly cache: BlockCache | undefined,
    private readonly syncReads: boolean,
    /** Encrypted table (format version 2): every block is opened (tag checked) before it is decoded. */
    private readonly cipher?: FileCipher,
  ) {
    this.cacheId = cache ? cache.newCacheId() : -1;
  }

  private checkStored(buf: Uint8Array, offset: number, size: number, verify: boolean): number {
    if (buf.length !== size + BLOCK_TRAILER_SIZE) {
      throw new CorruptionError(this.fileName, offset, `short read: ${buf.length} of ${size + BLOCK_TRAILER_SIZE} bytes (truncated file?)`);
    }
    if (verify) {
      const stored = unmaskCrc(getFixed32(buf, size + 1));
      if (stored !== crc32c(buf.subarray(0, size + 1))) {
        throw new CorruptionError(this.fileName, offset, 'block checksum mismatch');
      }
    }
    return buf[size]!;
  }

  /** The stored payload, decrypted for an encrypted table (CorruptionError when its tag fails). */
  private payload(buf: Uint8Array, offset: number, size: number, type: number): Uint8Array {
    const stored = buf.subarray(0, size);
    return this.cipher ? this.cipher.open(offset, stored, this.fileName, offset, type) : stored;
  }

  /**
   * Decodes a checked (and decrypted) payload; undefined when its codec is async (zstd). The CRC and
   * the tag are checked once per read, by the caller, whichever decoder ends up doing the work.
   */
  private decodeSync(type: number, payload: Uint8Array, offset: number): FetchedBlock | undefined {
    const raw = decodeBlockSync(type, payload, this.fileName, offset);
    if (raw === undefined) return undefined;
    return { block: new Block(owned(raw), this.fileName, offset), type };
  }

  private async decodeAsync(type: number, payload: Uint8Array, offset: number): Promise<FetchedBlock> {
    const raw = await decodeBlock(type, payload, this.fileName, offset);
    return { block: new Block(owned(raw), this.fileName, offset), type };
  }

  /** Checks, decrypts and decodes a block read from the file (async only when its codec is). */
  private decode(buf: Uint8Array, offset: number, size: number, verify: boolean): FetchedBlock | Promise<FetchedBlock> {
    const type = this.checkStored(buf, offset, size, verify);
    const payload = this.payload(buf, offset, size, type);
    // NB: an async decoder reads its input later, after other reads may have reused the scratch buffer.
    return this.decodeSync(type, payload, offset) ??
      this.decodeAsync(type, payload.buffer === scratch.buffer ? copyBytes(payload) : payload, offset);
  }

  private remember(offset: number, block: Block): Block {
    this.cache?.insert(this.cacheId, offset, block, block.byteSize);
    return block;
  }

  /**
   * A synchronous read, into the shared scratch buffer when the file can: the result is valid only
   * until the next read, so decode() must copy whatever it keeps (decodeSync does; zstd's async
   * decode gets its own copy).
   */
  private readSync(offset: number, length: number): Uint8Array {
    const f = this.file;
    if (f.readSyncInto === undefined) return f.readSync(offset, length);
    const buf = scratchOf(length);
    const got = f.readSyncInto(offset, buf);
    return got === length ? buf : buf.subarray(0, got);
  }

  /** The decoded block, from the cache or the file; a Promise only when it had to wait. */
  get(offset: number, size: number): Block | Promise<Block> {
    if (this.cache) {
      const hit = this.cache.lookup(this.cacheId, offset);
      if (hit !== undefined) return hit as Block;
    }
    if (this.syncReads) {
      const f = this.decode(this.readSync(offset, size + BLOCK_TRAILER_SIZE), offset, size, this.verify);
      return f instanceof Promise ? f.then((r) => this.remember(offset, r.block)) : this.remember(offset, f.block);
    }
    return this.file.read(offset, size + BLOCK_TRAILER_SIZE)
      .then((buf) => this.decode(buf, offset, size, this.verify))
      .then((r) => this.remember(offset, r.block));
  }

  /**
   * A block that is not made of entries (a filter partition), decoded by `decode` from its bytes and
   * kept in the cache as decoded (charged its bytes), from the cache or the file, synchronously.
   * REQUIRES: syncReads and a synchronous codec (metadata blocks are stored uncompressed);
   * CorruptionError otherwise.
   */
  getDecoded<T extends object>(offset: number, size: number, decode: (bytes: Uint8Array) => T): T {
    if (this.cache) {
      const hit = this.cache.lookup(this.cacheId, offset);
      if (hit !== undefined) return hit as T;
    }
    const buf = this.syncReads ? this.readSync(offset, size + BLOCK_TRAILER_SIZE) : undefined;
    if (buf === undefined) throw new CorruptionError(this.fileName, offset, 'a synchronous block read without syncReads');
    const type = this.checkStored(buf, offset, size, this.verify);
    const raw = decodeBlockSync(type, this.payload(buf, offset, size, type), this.fileName, offset);
    if (raw === undefined) throw new CorruptionError(this.fileName, offset, 'metadata block in an asynchronous codec');
    const data = owned(raw);
    const decoded = decode(data);
    this.cache?.insert(this.cacheId, offset, decoded, data.buffer.byteLength);
    return decoded;
  }

  /** Reads and decodes a block bypassing the cache (open, verification, layout). */
  async fetchUncached(offset: number, size: number, verify = this.verify): Promise<FetchedBlock> {
    const buf = await this.file.read(offset, size + BLOCK_TRAILER_SIZE);
    return this.decode(buf, offset, size, verify);
  }

  /** Reads a block's decompressed bytes without parsing them as entries (the filter block). */
  async fetchBytes(offset: number, size: number, verify = this.verify): Promise<{ data: Uint8Array; type: number }> {
    const buf = await this.file.read(offset, size + BLOCK_TRAILER_SIZE);
    const type = this.checkStored(buf, offset, size, verify);
    const raw = await decodeBlock(type, this.payload(buf, offset, size, type), this.fileName, offset);
    return { data: owned(raw), type };
  }
}
