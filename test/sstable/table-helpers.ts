/**
 * Shared helpers for the table tests: build a table in a MemFileSystem, open it, read it all back
 * through the MaybePromise APIs, and compare against a sorted array (the model).
 */
import { compareBytes } from '../../src/base/bytes.js';
import type { InternalIterator } from '../../src/base/internal-iterator.js';
import { isStrataError } from '../../src/errors.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { TableReader, type TableReaderOptions } from '../../sstable/table-reader.js';
import { TableWriter, type TableWriterOptions, type TableWriterResult } from '../../sstable/table-writer.js';

export type Entry = readonly [Uint8Array, Uint8Array];

export const enc = new TextEncoder();
export const dec = new TextDecoder();
export const b = (s: string): Uint8Array => enc.encode(s);
export const hex = (u: Uint8Array): string => Buffer.from(u).toString('hex');

export const defaultWriterOptions: TableWriterOptions = {
  blockSize: 4096, blockRestartInterval: 16, compression: 'none', bloomBitsPerKey: 10,
};

/** Sorted, de-duplicated copy of entries (first value wins). */
export function sortUnique(entries: Entry[]): Entry[] {
  const s = [...entries].sort((x, y) => compareBytes(x[0], y[0]));
  return s.filter((e, i) => i === 0 || compareBytes(s[i - 1]![0], e[0]) !== 0);
}

export async function writeTable(
  fs: MemFileSystem, path: string, entries: readonly Entry[], options: Partial<TableWriterOptions> = {},
): Promise<TableWriterResult> {
  const w = new TableWriter(await fs.openWritable(path), { ...defaultWriterOptions, ...options });
  for (const [k, v] of entries) {
    const p = w.add(k, v);
    if (p) await p;
  }
  return w.finish();
}

export async function openTable(fs: MemFileSystem, path: string, options: Partial<TableReaderOptions> = {}): Promise<TableReader> {
  return TableReader.open(await fs.openReadable(path), { fileName: path, ...options });
}

/** The table bytes of `entries` (a fresh MemFileSystem). */
export async function tableBytes(entries: readonly Entry[], options: Partial<TableWriterOptions> = {}): Promise<Uint8Array> {
  const fs = new MemFileSystem();
  await writeTable(fs, '/t.sst', entries, options);
  return fs.readFile('/t.sst');
}

/** A MemFileSystem holding `bytes` at /t.sst. */
export async function fsWith(bytes: Uint8Array): Promise<MemFileSystem> {
  const fs = new MemFileSystem();
  const f = await fs.openWritable('/t.sst');
  f.append(bytes);
  await f.close();
  return fs;
}

export async function step(p: void | Promise<void>): Promise<void> {
  if (p) await p;
}

export async function scanForward(it: InternalIterator): Promise<Entry[]> {
  const out: Entry[] = [];
  await step(it.seekToFirst());
  while (it.valid()) {
    out.push([it.key().slice(), it.value().slice()]);
    await step(it.next());
  }
  return out;
}

export async function scanBackward(it: InternalIterator): Promise<Entry[]> {
  const out: Entry[] = [];
  await step(it.seekToLast());
  while (it.valid()) {
    out.push([it.key().slice(), it.value().slice()]);
    await step(it.prev());
  }
  return out.reverse();
}

/** Index of the first entry with key >= target (entries sorted). */
export function lowerBound(entries: readonly Entry[], target: Uint8Array): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareBytes(entries[mid]![0], target) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function entriesEqual(a: readonly Entry[], b: readonly Entry[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (compareBytes(a[i]![0], b[i]![0]) !== 0 || compareBytes(a[i]![1], b[i]![1]) !== 0) return false;
  }
  return true;
}

/** Runs fn; returns 'ok', or the StrataError code; rethrows anything that is not a StrataError. */
export async function outcome(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return 'ok';
  } catch (e) {
    if (isStrataError(e)) return e.code;
    throw e;
  }
}
