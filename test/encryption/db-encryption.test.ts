/**
 * Encryption at rest, end to end through the DB (issue #9): a database written with a key provider
 * reopens with it; no plaintext byte of a sentinel key or value is left in any file of the database
 * directory (WALs, MANIFESTs, tables, LOG, CURRENT) after writes, flushes and compactions; a wrong key,
 * a missing key id or no provider at all refuses the open naming the key id; a plaintext database is
 * refused by an encrypted open unless allowPlaintext, and then migrates as compaction rewrites it.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DB, staticKeyProvider, WriteBatch } from '../../src/index.js';
import { tempDir } from '../support/tmpdir.js';

const SENTINEL_KEY = 'SENTINEL-KEY-7f3a9c';
const SENTINEL_VALUE = 'SENTINEL-VALUE-e41b27';

function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...allFiles(p)); else out.push(p);
  }
  return out;
}

/** Files of `dir` (recursively) whose bytes contain `needle`. */
export function filesContaining(dir: string, needle: string): string[] {
  const n = Buffer.from(needle);
  return allFiles(dir).filter((p) => readFileSync(p).includes(n));
}

const small = { writeBufferSize: 64 * 1024, targetFileSize: 32 * 1024, maxBytesForLevelBase: 128 * 1024, compactionExecutor: 'inline' as const };

function provider(): ReturnType<typeof staticKeyProvider> {
  return staticKeyProvider({ k1: randomBytes(32), k2: randomBytes(32) }, 'k1');
}

async function fill(db: DB, n: number, prefix = 'key'): Promise<void> {
  for (let i = 0; i < n; i += 100) {
    const b = new WriteBatch();
    for (let j = i; j < i + 100 && j < n; j++) b.put(`${prefix}${String(j).padStart(6, '0')}`, `value-${j}-${'x'.repeat(50)}`);
    await db.write(b);
  }
}

describe('encrypted database', () => {
  it('round trip through flushes, compactions and reopen; no sentinel byte on disk', async () => {
    const dir = await tempDir();
    const keyProvider = provider();
    let db = await DB.open(dir, { ...small, encryption: { keyProvider } });
    await db.put(SENTINEL_KEY, SENTINEL_VALUE);
    await fill(db, 5000);
    await db.flush();
    await db.compactRange();
    await fill(db, 2000, 'more');
    expect((await db.get(SENTINEL_KEY))?.toString()).toBe(SENTINEL_VALUE);
    // the WAL holds the newest writes, the tables the rest
    expect(filesContaining(dir, SENTINEL_KEY)).toEqual([]);
    expect(filesContaining(dir, SENTINEL_VALUE)).toEqual([]);
    expect(filesContaining(dir, 'value-4999')).toEqual([]);
    await db.close();
    expect(filesContaining(dir, SENTINEL_KEY)).toEqual([]);
    db = await DB.open(dir, { ...small, encryption: { keyProvider } });
    expect((await db.get(SENTINEL_KEY))?.toString()).toBe(SENTINEL_VALUE);
    expect((await db.get('key004999'))?.toString()).toMatch(/^value-4999-/);
    expect((await db.get('more001999'))?.toString()).toMatch(/^value-1999-/);
    let n = 0;
    for await (const _ of db.iterator()) n++;
    expect(n).toBe(7001);
    await db.close();
  });

  it('refuses to open without the provider, with a wrong key, or without the key id, naming the key id', async () => {
    const dir = await tempDir();
    const keyProvider = provider();
    const db = await DB.open(dir, { ...small, encryption: { keyProvider } });
    await fill(db, 500);
    await db.flush();
    await db.close();
    await expect(DB.open(dir, small)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('"k1"') });
    const wrong = staticKeyProvider({ k1: randomBytes(32) }, 'k1');
    await expect(DB.open(dir, { ...small, encryption: { keyProvider: wrong } })).rejects.toMatchObject({ code: 'ERR_CORRUPTION', message: expect.stringContaining('authentication failed') });
    const other = staticKeyProvider({ k9: randomBytes(32) }, 'k9');
    await expect(DB.open(dir, { ...small, encryption: { keyProvider: other } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('"k1"') });
  });

  it('a plaintext database is refused by an encrypted open unless allowPlaintext; then it migrates', async () => {
    const dir = await tempDir();
    let db = await DB.open(dir, small);
    await db.put(SENTINEL_KEY, SENTINEL_VALUE);
    await fill(db, 2000);
    await db.close();
    expect(filesContaining(dir, SENTINEL_KEY).length).toBeGreaterThan(0);
    const keyProvider = provider();
    await expect(DB.open(dir, { ...small, encryption: { keyProvider } })).rejects.toMatchObject({ code: 'ERR_CORRUPTION', message: expect.stringContaining('not encrypted') });
    db = await DB.open(dir, { ...small, encryption: { keyProvider, allowPlaintext: true } });
    expect((await db.get(SENTINEL_KEY))?.toString()).toBe(SENTINEL_VALUE);
    await db.compactRange();
    await db.close();
    db = await DB.open(dir, { ...small, encryption: { keyProvider } });
    expect((await db.get(SENTINEL_KEY))?.toString()).toBe(SENTINEL_VALUE);
    await db.close();
    expect(filesContaining(dir, SENTINEL_KEY)).toEqual([]);
  });
});
