/**
 * Encryption at rest, end to end through the DB (issue #9): a database written with a key provider
 * reopens with it; no plaintext byte of a sentinel key or value is left in any file of the database
 * directory (WALs, MANIFESTs, tables, LOG, CURRENT) after writes, flushes and compactions; a wrong key,
 * a missing key id or no provider at all refuses the open naming the key id; a plaintext database is
 * refused by an encrypted open unless allowPlaintext, and then migrates as compaction rewrites it.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DB, staticKeyProvider, WriteBatch } from '../../src/index.js';
import { tempDir } from '../support/tmpdir.js';
import { withSeed } from '../support/rng.js';

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
    await expect(DB.open(dir, { ...small, encryption: { keyProvider: wrong } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/key id "k1" is not the key this file was written with/) });
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

  it('rotation: new files use the new key; rewrite removes every use of the old one; the old key is then not needed', async () => {
    const dir = await tempDir();
    const k1 = randomBytes(32), k2 = randomBytes(32);
    const keyProvider = staticKeyProvider({ k1, k2 }, 'k1');
    let db = await DB.open(dir, { ...small, encryption: { keyProvider } });
    await db.put(SENTINEL_KEY, SENTINEL_VALUE);
    await fill(db, 3000);
    await db.flush();
    await db.compactRange();
    await fill(db, 500, 'wal');
    const before = db.stats().encryption;
    expect(before).toMatchObject({ enabled: true, currentKeyId: 'k1', walKeyId: 'k1', manifestKeyId: 'k1' });
    expect(Object.keys(before.keyIdsInUse)).toEqual(['k1']);
    keyProvider.setCurrent('k2');
    const stale = before.keyIdsInUse['k1']!;
    const r = await db.rotateKey({ rewrite: true });
    expect(r.keyId).toBe('k2');
    expect(r.rewritten).toBeGreaterThanOrEqual(stale); // the flush inside adds one more k1 table first
    const after = db.stats().encryption;
    expect(after).toMatchObject({ currentKeyId: 'k2', walKeyId: 'k2', manifestKeyId: 'k2' });
    expect(Object.keys(after.keyIdsInUse)).toEqual(['k2']);
    await db.close();
    // k1 is gone from the provider: the database still opens and reads everything
    db = await DB.open(dir, { ...small, encryption: { keyProvider: staticKeyProvider({ k2 }, 'k2') } });
    expect((await db.get(SENTINEL_KEY))?.toString()).toBe(SENTINEL_VALUE);
    expect((await db.get('wal000499'))?.toString()).toMatch(/^value-499-/);
    await db.close();
  });

  it('rotation without rewrite: old tables keep the old key until background compaction rewrites them', async () => {
    const dir = await tempDir();
    const keyProvider = staticKeyProvider({ k1: randomBytes(32), k2: randomBytes(32) }, 'k1');
    const db = await DB.open(dir, { ...small, encryption: { keyProvider } });
    await fill(db, 3000);
    await db.compactRange();
    keyProvider.setCurrent('k2');
    await db.rotateKey();
    await fill(db, 300, 'new');
    await db.flush();
    // background rewrites run as the lowest-priority compaction, one job after another
    await db.engine.compactions.waitForIdle();
    expect(db.stats().encryption.keyIdsInUse['k1']).toBeUndefined();
    expect((await db.get('key002999'))?.toString()).toMatch(/^value-2999-/);
    await db.close();
  });

  it('rotateKey() without encryption is ERR_INVALID_ARGUMENT', async () => {
    const db = await DB.open(await tempDir(), small);
    await expect(db.rotateKey()).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(db.stats().encryption).toMatchObject({ enabled: false, keyIdsInUse: {} });
    await db.close();
  });

  it('compactions in worker threads read and write encrypted tables (keys handed over in-process)', async () => {
    const dir = await tempDir();
    const keyProvider = provider();
    const db = await DB.open(dir, { ...small, compactionExecutor: 'worker', encryption: { keyProvider } });
    await db.put(SENTINEL_KEY, SENTINEL_VALUE);
    await fill(db, 6000);
    await db.compactRange();
    expect(db.stats().compactions.count).toBeGreaterThan(0);
    keyProvider.setCurrent('k2');
    expect((await db.rotateKey({ rewrite: true })).rewritten).toBeGreaterThan(0);
    expect(Object.keys(db.stats().encryption.keyIdsInUse)).toEqual(['k2']);
    expect((await db.get(SENTINEL_KEY))?.toString()).toBe(SENTINEL_VALUE);
    await db.close();
    expect(filesContaining(dir, SENTINEL_KEY)).toEqual([]);
  });

  it('a flipped byte in an encrypted table is ERR_CORRUPTION naming file and offset (verifyChecksums and reads), never wrong data', () => withSeed('flipped table byte', async (rng) => {
    const dir = await tempDir();
    const keyProvider = provider();
    let db = await DB.open(dir, { ...small, encryption: { keyProvider } });
    await fill(db, 3000);
    await db.compactRange();
    await db.close();
    const tables = readdirSync(dir).filter((n) => n.endsWith('.sst')).sort();
    const victim = join(dir, tables[rng.int(tables.length)]!);
    const bytes = readFileSync(victim);
    const at = 64 + rng.int(bytes.length - 128); // inside some block, clear of header and footer
    bytes[at]! ^= 1 << rng.int(8);
    writeFileSync(victim, bytes);
    db = await DB.open(dir, { ...small, encryption: { keyProvider } });
    const err = await db.verifyChecksums().then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_CORRUPTION', file: victim });
    expect(typeof (err as { offset: number }).offset).toBe('number');
    // every read either fails with ERR_CORRUPTION or returns the right value
    let corrupt = 0;
    for (let i = 0; i < 3000; i += 7) {
      const k = `key${String(i).padStart(6, '0')}`;
      try {
        expect((await db.get(k))?.toString()).toMatch(new RegExp(`^value-${i}-`));
      } catch (e) {
        expect(e).toMatchObject({ code: 'ERR_CORRUPTION' });
        corrupt++;
      }
    }
    expect(corrupt).toBeLessThan(3000 / 7);
    await db.close();
  }));

  it('read-only opens of an encrypted database read with the provider and refuse without it', async () => {
    const dir = await tempDir();
    const keyProvider = provider();
    const db = await DB.open(dir, { ...small, encryption: { keyProvider } });
    await fill(db, 1000);
    const ro = await DB.open(dir, { readOnly: true, encryption: { keyProvider } });
    expect((await ro.get('key000999'))?.toString()).toMatch(/^value-999-/);
    await ro.close();
    await expect(DB.open(dir, { readOnly: true })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('"k1"') });
    await db.close();
  });
});
