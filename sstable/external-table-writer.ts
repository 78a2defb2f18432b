/**
 * Writes an external table: the file `db.ingest()` takes (FORMAT.md "External tables"). Plain user
 * keys, bytewise order, strictly increasing (unique), values as they are; no sequence numbers, no
 * deletions, no range deletions. A TableWriter underneath, set up the one way ingest accepts, so
 * users do not have to know which TableWriter options make a file ingestible.
 * Contract:
 * - create() opens `path` (which must not exist: a half-written table is never mistaken for an old
 *   one); add() keys in strictly increasing bytewise order (InvalidArgumentError names both keys and
 *   leaves the writer usable); await add() only when it returns a Promise (an async codec is busy).
 * - finish() once: writes the rest, fsyncs and closes the file. abandon() closes and removes it.
 *   A failure in finish() removes the file too.
 * - Keys and values may be strings (UTF-8) or Uint8Arrays; the writer copies what it keeps.
 * Main thread or worker.
 */
import { toBytes } from '../src/base/bytes.js';
import { bytewiseComparator } from '../src/base/comparator.js';
import type { MaybePromise } from '../src/base/internal-iterator.js';
import { InvalidArgumentError } from '../src/errors.js';
import type { FileSystem, WritableFile } from '../src/fs/file-system.js';
import { NodeFileSystem } from '../src/fs/node-fs.js';
import type { CompressionName } from './compression.js';
import { TableWriter } from './table-writer.js';

export interface ExternalTableWriterOptions {
  /** Data block target size (default 4096). */
  blockSize?: number;
  /** Keys between restart points (default 16). */
  blockRestartInterval?: number;
  /**
   * Codec of the data blocks (default 'none': ingest reads the file once and rewrites it under the
   * database's own options, so compressing it only costs time).
   */
  compression?: CompressionName;
  /** Filter bits per key (default 0: ingest never probes the file's filter). */
  bloomBitsPerKey?: number;
  /** File system (default: the real one). */
  fs?: FileSystem;
}

export interface ExternalTableInfo {
  path: string;
  entries: number;
  fileSize: number;
  /** First and last key (undefined for an empty table). */
  smallestKey: Uint8Array | undefined;
  largestKey: Uint8Array | undefined;
}

const KNOWN_OPTIONS = ['blockSize', 'blockRestartInterval', 'compression', 'bloomBitsPerKey', 'fs'];

export class ExternalTableWriter {
  private done = false;

  private constructor(
    readonly path: string,
    private readonly fs: FileSystem,
    private readonly file: WritableFile,
    private readonly writer: TableWriter,
  ) {}

  /** Creates `path` (refused if it exists) and a writer for it. */
  static async create(path: string, options: ExternalTableWriterOptions = {}): Promise<ExternalTableWriter> {
    if (typeof path !== 'string' || path.length === 0) throw new InvalidArgumentError('path must be a non-empty string');
    for (const name of Object.keys(options)) {
      if (!KNOWN_OPTIONS.includes(name)) throw new InvalidArgumentError(`ExternalTableWriter options: unknown option ${JSON.stringify(name)}; known options: ${KNOWN_OPTIONS.join(', ')}`);
    }
    const fs = options.fs ?? new NodeFileSystem();
    const file = await fs.openWritable(path, { exclusive: true });
    try {
      const writer = new TableWriter(file, {
        blockSize: options.blockSize ?? 4096,
        blockRestartInterval: options.blockRestartInterval ?? 16,
        compression: options.compression ?? 'none',
        bloomBitsPerKey: options.bloomBitsPerKey ?? 0,
        comparator: bytewiseComparator,
        fileName: path,
      });
      return new ExternalTableWriter(path, fs, file, writer);
    } catch (e) {
      await file.close().catch(() => undefined);
      await fs.remove(path).catch(() => undefined);
      throw e;
    }
  }

  get entries(): number { return this.writer.numEntries; }

  /** Adds one entry; keys strictly increasing (bytewise). A Promise only when the caller must wait. */
  add(key: Uint8Array | string, value: Uint8Array | string): MaybePromise<void> {
    if (this.done) throw new InvalidArgumentError(`external table ${this.path} is already finished`);
    return this.writer.add(bytesArg('key', key), bytesArg('value', value));
  }

  /** Writes the index, properties and footer, fsyncs and closes the file. */
  async finish(): Promise<ExternalTableInfo> {
    if (this.done) throw new InvalidArgumentError(`external table ${this.path} is already finished`);
    this.done = true;
    try {
      const r = await this.writer.finish();
      await this.file.sync();
      await this.file.close();
      return {
        path: this.path, entries: r.properties.numEntries, fileSize: r.fileSize,
        smallestKey: r.properties.smallestKey, largestKey: r.properties.largestKey,
      };
    } catch (e) {
      await this.discard();
      throw e;
    }
  }

  /** Stops and removes the file. Idempotent; never throws. */
  async abandon(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.writer.abandon();
    await this.discard();
  }

  private async discard(): Promise<void> {
    await this.file.close().catch(() => undefined);
    await this.fs.remove(this.path).catch(() => undefined);
  }
}

/**
 * Writes `entries` (sorted by key, bytewise, keys unique) as the external table `path`; the file is
 * removed if anything fails. Accepts any iterable or async iterable of [key, value] pairs.
 */
export async function writeExternalTable(
  path: string,
  entries: Iterable<readonly [Uint8Array | string, Uint8Array | string]> | AsyncIterable<readonly [Uint8Array | string, Uint8Array | string]>,
  options?: ExternalTableWriterOptions,
): Promise<ExternalTableInfo> {
  const w = await ExternalTableWriter.create(path, options);
  try {
    for await (const [k, v] of entries) {
      const p = w.add(k, v);
      if (p) await p;
    }
  } catch (e) {
    await w.abandon();
    throw e;
  }
  return w.finish();
}

function bytesArg(name: string, v: Uint8Array | string): Uint8Array {
  if (typeof v === 'string') return toBytes(v);
  if (v instanceof Uint8Array) return v;
  throw new InvalidArgumentError(`${name} must be a Uint8Array or a string`);
}
