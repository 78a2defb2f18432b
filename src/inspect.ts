/**
 * `inspect`: what the tools print, as data (LevelDB's public dumpfile.h). The command line
 * (stratadb sst-dump / manifest / wal-dump) reads files only through these, never through deep imports.
 * Each function takes an optional FileSystem (the real one by default) and opens nothing for writing.
 * Encrypted files (issue #9) need `encryption: { keyProvider }`; without it they are refused with
 * ERR_INVALID_ARGUMENT naming the key id. With it, plaintext files are read too (tools look at
 * databases half-way through being encrypted) unless `allowPlaintext: false`.
 */
import * as path from 'node:path';
import { NodeFileSystem } from './fs/node-fs.js';
import type { FileSystem } from './fs/file-system.js';
import { internalKeyComparator, isInternalKey, kindOf, seqOf, userKeyOf, ValueKind } from './base/internal-key.js';
import { bytewiseComparator } from './base/comparator.js';
import { TableReader } from '../sstable/table-reader.js';
import { openTableReader } from './table/table-open.js';
import { readTableLayout, formatTableLayout, type TableLayout } from '../sstable/layout.js';
import { inspectManifest, type ManifestInspection } from './manifest/manifest-inspect.js';
import { inspectWal, type WalInspection } from './wal/wal-replay.js';
import { encryptionArg } from './base/arguments.js';
import { isStrataError } from './errors.js';
import { KeyRing } from './encryption/keyring.js';
import type { KeyProvider } from './encryption/file-cipher.js';
import { readOptionsFile } from './engine/options-file.js';

export type { TableLayout, ManifestInspection, WalInspection };
export { formatTableLayout };
export { printableKey } from './base/bytes.js';
export { tableFileName, parseFileName } from './manifest/file-names.js';
import { parseFileName } from './manifest/file-names.js';

export interface InspectOptions {
  fs?: FileSystem;
  /** The key provider of an encrypted database; `allowPlaintext` defaults to true here. */
  encryption?: { keyProvider: KeyProvider; allowPlaintext?: boolean };
}

function keysOf(options: InspectOptions): KeyRing | undefined {
  const e = encryptionArg<KeyProvider>(options.encryption, true);
  return e && new KeyRing(e.keyProvider, e.allowPlaintext);
}

/**
 * Opens a table file and returns its layout: properties and every block with offsets, sizes and
 * compression. Tables written by the engine hold internal keys; a table written with the bytewise
 * comparator (the sstable library used directly) opens too.
 */
export async function openTable(file: string, options: InspectOptions = {}): Promise<TableReader> {
  const fs = options.fs ?? new NodeFileSystem();
  const keys = keysOf(options);
  try {
    return await openTableReader(await fs.openReadable(file), file, { syncReads: false, ...(keys ? { keys } : {}) });
  } catch (e) {
    // A comparator mismatch is an invalid-argument refusal: not an engine table, try the bytewise order.
    if (!isStrataError(e, 'ERR_INVALID_ARGUMENT')) throw e;
  }
  const f = await fs.openReadable(file);
  try {
    return await TableReader.open(f, { fileName: file, comparator: bytewiseComparator, syncReads: false, ...(keys ? { keys } : {}) });
  } catch (e) {
    await f.close();
    throw e;
  }
}

export async function table(file: string, options: InspectOptions = {}): Promise<TableLayout> {
  const reader = await openTable(file, options);
  try {
    return await readTableLayout(reader);
  } finally {
    await reader.close();
  }
}

/** The MANIFEST's version history (every edit) and the resulting levels. */
export async function manifest(dir: string, options: InspectOptions = {}): Promise<ManifestInspection> {
  const keys = keysOf(options);
  return inspectManifest(options.fs ?? new NodeFileSystem(), dir, keys ? { keys } : {});
}

/**
 * The options the database was last opened with read-write, from its newest OPTIONS file, as
 * name -> value text (the tools name the compaction style from it: a read-only open of their own uses
 * default options). Undefined when the directory holds no OPTIONS file.
 */
export async function options(dir: string, options: InspectOptions = {}): Promise<{ file: string; values: Record<string, string> } | undefined> {
  const fs = options.fs ?? new NodeFileSystem();
  let newest: { name: string; number: number } | undefined;
  for (const name of await fs.list(dir)) {
    const p = parseFileName(name);
    if (p?.type === 'options' && (!newest || p.number > newest.number)) newest = { name, number: p.number };
  }
  if (!newest) return undefined;
  const text = await readOptionsFile(fs, path.join(dir, newest.name), keysOf(options));
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values[line.substring(0, eq)] = line.substring(eq + 1);
  }
  return { file: newest.name, values };
}

/** A WAL's records, batches and sequence numbers, and the first problem found (never thrown). */
export async function wal(file: string, options: InspectOptions = {}): Promise<WalInspection> {
  // The number in the file name is the one a reused (recycled) WAL's current records carry.
  const named = parseFileName(path.basename(file));
  return inspectWal(options.fs ?? new NodeFileSystem(), file, keysOf(options), named?.type === 'wal' ? named.number : undefined);
}

/** The parts of an engine (internal) key, as tools print them. */
export interface ParsedInternalKey {
  userKey: Uint8Array;
  seq: number;
  /** 'put', 'del', 'rangedel', or `kind<N>` for a kind this build does not know. */
  kind: string;
}

/** True when the table's keys are internal keys (written by the engine, not the bare sstable library). */
export function isEngineTable(reader: TableReader): boolean {
  return reader.properties.comparatorName === internalKeyComparator.name;
}

/** Splits an internal key into user key, sequence and kind; undefined when it is too short to be one. */
export function parseInternalKey(key: Uint8Array): ParsedInternalKey | undefined {
  if (!isInternalKey(key)) return undefined;
  const k = kindOf(key);
  const kind = k === ValueKind.Put ? 'put' : k === ValueKind.Delete ? 'del' : k === ValueKind.RangeDelete ? 'rangedel' : `kind${k}`;
  return { userKey: userKeyOf(key), seq: seqOf(key), kind };
}
