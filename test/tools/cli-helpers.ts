/**
 * Shared by the `stratadb` command tests: run the compiled CLI (dist/tools/cli.js, built by
 * `npm run build` before the tests) as a child process, and build deterministic fixtures: a small
 * database (fixed keys, fixed clock) and a table written by the sstable library directly.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DB, NodeFileSystem, WriteBatch } from '../../src/index.js';
import { TableWriter } from '../../sstable/index.js';

export const CLI = fileURLToPath(new URL('../../dist/tools/cli.js', import.meta.url));
export const FIXED_CLOCK_MS = 1_700_000_000_000;

export interface CliResult { code: number; stdout: string; stderr: string }

/** Runs `node dist/tools/cli.js ...args`; never rejects for a non-zero exit. */
export function runCli(args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (or npx tsc -p tsconfig.json) first`);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 << 20, ...(env ? { env: { ...process.env, ...env } } : {}) }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') { reject(err); return; }
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

/** A user mistake or damage report must never show a JavaScript stack. */
export function hasStackTrace(text: string): boolean {
  return /\n\s+at .+:\d+:\d+/.test(text);
}

/**
 * The fixture database: key000..key019 (`value-<i>`) and a delete of key005, flushed to one L0
 * table (20 entries: the flush leaves out key005's shadowed put); then a batch (apple, banana, delete key010) and a binary key 00ff01 -> 0909 left in the WAL.
 * Live view: apple=red, banana=yellow, key000..key019 minus key005 and key010, 00ff01.
 */
export async function makeFixtureDb(dir: string): Promise<void> {
  // flushOnClose: false keeps the last writes in the WAL, for wal-dump and the golden outputs.
  const db = await DB.open(dir, { clock: () => FIXED_CLOCK_MS, flushOnClose: false });
  try {
    for (let i = 0; i < 20; i++) await db.put(`key${String(i).padStart(3, '0')}`, `value-${i}`);
    await db.delete('key005');
    await db.flush();
    await db.write(new WriteBatch().put('apple', 'red').put('banana', 'yellow').delete('key010'));
    await db.put(new Uint8Array([0x00, 0xff, 0x01]), new Uint8Array([0x09, 0x09]));
  } finally {
    await db.close();
  }
}

/** The one file of `dir` whose name ends with `suffix` (fails the test when there is not exactly one). */
export function onlyFile(dir: string, suffix: string): string {
  const names = readdirSync(dir).filter((n) => n.endsWith(suffix));
  if (names.length !== 1) throw new Error(`expected one *${suffix} in ${dir}, found ${names.join(', ') || 'none'}`);
  return path.join(dir, names[0]!);
}

/**
 * A table written by the sstable library with bytewise keys: 00ff -> 0102, apple, apricot,
 * banana; 32-byte blocks so there are several data blocks; a bloom filter; fixed creation time.
 */
export async function writeLibraryTable(file: string): Promise<void> {
  const fs = new NodeFileSystem();
  const f = await fs.openWritable(file);
  const enc = new TextEncoder();
  const w = new TableWriter(f, {
    blockSize: 32, blockRestartInterval: 2, compression: 'none', bloomBitsPerKey: 10, creationTimeMs: FIXED_CLOCK_MS,
  });
  const entries: Array<[Uint8Array, Uint8Array]> = [
    [new Uint8Array([0x00, 0xff]), new Uint8Array([0x01, 0x02])],
    [enc.encode('apple'), enc.encode('red')],
    [enc.encode('apricot'), enc.encode('orange')],
    [enc.encode('banana'), enc.encode('yellow')],
  ];
  for (const [k, v] of entries) {
    const p = w.add(k, v);
    if (p) await p;
  }
  await w.finish();
  await f.sync();
  await f.close();
}

/** XORs one byte of a file (simulated bit rot). */
export async function flipByte(file: string, offset: number): Promise<void> {
  const b = await readFile(file);
  b[offset] = b[offset]! ^ 0xff;
  await writeFile(file, b);
}

/** Replaces every occurrence of `dir` with `$DIR`, so outputs compare across temp directories. */
export function redact(text: string, dir: string): string {
  return text.split(dir).join('$DIR');
}
