/**
 * Backups and checkpoints of an encrypted database (issue #9, src/backup/FORMAT.md "Encrypted
 * backups"): a plaintext sentinel key and value written to an encrypted database (walArchiveDir in
 * the backup directory) appear in no byte of any file of the database, the WAL archive, a checkpoint,
 * a backup or a restore (plain and point-in-time), while each of them opens with the keys and holds
 * the sentinel. Without the keys, list/verify/restore/purge are refused naming the key id and change
 * nothing; a wrong key is an authentication failure. A flipped byte anywhere in a backed-up table or
 * in the metadata file is caught by verify (ERR_CORRUPTION naming that file), never passed.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BackupEngine, DB, staticKeyProvider, WriteBatch, type KeyProvider } from '../../src/index.js';
import { tempDir } from '../support/tmpdir.js';
import { withSeed } from '../support/rng.js';

const SENTINEL_KEY = 'SENTINEL-KEY-b5d20e';
const SENTINEL_VALUE = 'SENTINEL-VALUE-91cf4a';
const small = { writeBufferSize: 64 * 1024, targetFileSize: 32 * 1024, compactionExecutor: 'inline' as const };

function allFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...allFiles(p)); else out.push(p);
  }
  return out;
}

/** Files under `dir` whose bytes contain `needle` anywhere. */
function filesContaining(dir: string, needle: string): string[] {
  const n = Buffer.from(needle);
  return allFiles(dir).filter((p) => readFileSync(p).includes(n));
}

async function fill(db: DB, n: number, prefix: string): Promise<void> {
  for (let i = 0; i < n; i += 100) {
    const b = new WriteBatch();
    for (let j = i; j < i + 100 && j < n; j++) b.put(`${prefix}${String(j).padStart(6, '0')}`, `value-${j}-${'x'.repeat(40)}`);
    await db.write(b);
  }
}

async function getText(dir: string, key: string, keyProvider: KeyProvider): Promise<string | undefined> {
  const db = await DB.open(dir, { createIfMissing: false, encryption: { keyProvider } });
  try {
    return (await db.get(key))?.toString();
  } finally {
    await db.close();
  }
}

interface Setup { root: string; dbDir: string; bk: string; cp: string; keyProvider: ReturnType<typeof staticKeyProvider>; afterSeq: number }

/**
 * An encrypted database with its WAL archive in the backup directory: flushed tables, then the
 * sentinel left in the memtable (so the checkpoint's and the backup's memtable dumps hold it), a
 * checkpoint and backup 1, then more writes across a WAL rollover (archived) and a close.
 */
async function setup(): Promise<Setup> {
  const root = await tempDir('strata-encbk-');
  const dbDir = path.join(root, 'db');
  const bk = path.join(root, 'bk');
  const cp = path.join(root, 'cp');
  const keyProvider = staticKeyProvider({ k1: randomBytes(32), k2: randomBytes(32) }, 'k1');
  const db = await DB.open(dbDir, { ...small, walArchiveDir: path.join(bk, 'wal-archive'), encryption: { keyProvider } });
  await fill(db, 1500, 'key');
  await db.flush();
  await db.put(SENTINEL_KEY, SENTINEL_VALUE);
  await db.checkpoint(cp);
  const b1 = await db.backup(bk);
  expect(b1.id).toBe(1);
  await db.put('after-1', `after-${SENTINEL_VALUE}`);
  const afterSeq = db.stats().sequence;
  await db.put('after-2', 'two');
  await db.flush(); // rolls the WAL over: it is archived
  await db.put('after-3', SENTINEL_KEY);
  await db.close(); // archives the last WAL
  return { root, dbDir, bk, cp, keyProvider, afterSeq };
}

describe('backups of an encrypted database', () => {
  it('no sentinel byte in the database, WAL archive, checkpoint, backup or restores; each opens with the keys', async () => {
    const s = await setup();
    const engine = await BackupEngine.open(s.bk, { encryption: { keyProvider: s.keyProvider } });
    expect(await engine.list()).toMatchObject([{ id: 1 }]);
    await engine.verify(1);
    const r1 = path.join(s.root, 'r1');
    const r2 = path.join(s.root, 'r2');
    const r3 = path.join(s.root, 'r3');
    await engine.restore(1, r1);
    const pit = await engine.restore(1, r2, { toSequence: s.afterSeq });
    expect(pit.restoredSequence).toBe(s.afterSeq);
    await engine.restore('latest', r3, { toTime: Date.now() + 60_000 });

    expect(allFiles(path.join(s.bk, 'wal-archive')).length).toBeGreaterThan(0);
    expect(allFiles(path.join(s.bk, 'meta'))).toHaveLength(1);
    expect(allFiles(s.cp).some((f) => f.endsWith('.sst'))).toBe(true);
    for (const needle of [SENTINEL_KEY, SENTINEL_VALUE, 'after-1', 'value-1499']) {
      for (const dir of [s.dbDir, s.bk, s.cp, r1, r2, r3]) expect(filesContaining(dir, needle), `${needle} in ${dir}`).toEqual([]);
    }
    // The metadata file does not show its JSON either.
    expect(filesContaining(s.bk, 'stratadb-backup')).toEqual([]);

    expect(await getText(s.cp, SENTINEL_KEY, s.keyProvider)).toBe(SENTINEL_VALUE);
    expect(await getText(r1, SENTINEL_KEY, s.keyProvider)).toBe(SENTINEL_VALUE);
    expect(await getText(r1, 'after-1', s.keyProvider)).toBeUndefined();
    expect(await getText(r2, 'after-1', s.keyProvider)).toBe(`after-${SENTINEL_VALUE}`);
    expect(await getText(r2, 'after-2', s.keyProvider)).toBeUndefined();
    expect(await getText(r3, 'after-3', s.keyProvider)).toBe(SENTINEL_KEY);
    expect(await getText(r3, 'key001499', s.keyProvider)).toMatch(/^value-1499-/);
    // Restored and checkpointed databases need the key as well.
    for (const dir of [s.cp, r1, r2]) {
      await expect(DB.open(dir, { createIfMissing: false })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('"k1"') });
    }
  });

  it('new files of a backup use the current key after a rotation; old tables keep theirs', async () => {
    const root = await tempDir('strata-encbk-');
    const keyProvider = staticKeyProvider({ k1: randomBytes(32), k2: randomBytes(32) }, 'k1');
    const db = await DB.open(path.join(root, 'db'), { ...small, encryption: { keyProvider } });
    await fill(db, 500, 'key');
    await db.flush();
    keyProvider.setCurrent('k2');
    await db.put(SENTINEL_KEY, SENTINEL_VALUE); // memtable dump: under k2
    await db.backup(path.join(root, 'bk'));
    await db.close();
    // Only k2 cannot read the k1 table: restore refuses before touching the target.
    const onlyK2 = staticKeyProvider({ k2: keyProvider.getKey('k2') as Uint8Array }, 'k2');
    const e2 = await BackupEngine.open(path.join(root, 'bk'), { encryption: { keyProvider: onlyK2 } });
    await expect(e2.list()).resolves.toHaveLength(1); // the metadata is sealed under k2
    await expect(e2.restore(1, path.join(root, 'r'))).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('"k1"') });
    expect(existsSync(path.join(root, 'r'))).toBe(false);
    await expect(e2.verify(1)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('"k1"') });
    const both = await BackupEngine.open(path.join(root, 'bk'), { encryption: { keyProvider } });
    await both.verify(1);
    await both.restore(1, path.join(root, 'r'));
    expect(await getText(path.join(root, 'r'), SENTINEL_KEY, keyProvider)).toBe(SENTINEL_VALUE);
  });

  it('without the keys list, verify, restore and purge are refused naming the key id, and nothing changes', async () => {
    const s = await setup();
    const before = allFiles(s.bk).map((f) => [f, readFileSync(f).toString('hex')]);
    const noKeys = await BackupEngine.open(s.bk);
    const target = path.join(s.root, 'r');
    for (const [what, call] of [
      ['list', () => noKeys.list()],
      ['verify', () => noKeys.verify(1)],
      ['restore', () => noKeys.restore(1, target)],
      ['restore to a sequence', () => noKeys.restore('latest', target, { toSequence: s.afterSeq })],
      ['purge', () => noKeys.purge({ keepLast: 0 })],
      ['delete', () => noKeys.delete(1)],
    ] as const) {
      await expect(call(), what).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/key id "k1"/) });
    }
    const other = await BackupEngine.open(s.bk, { encryption: { keyProvider: staticKeyProvider({ k9: randomBytes(32) }, 'k9') } });
    await expect(other.restore(1, target)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('"k1"') });
    const wrong = await BackupEngine.open(s.bk, { encryption: { keyProvider: staticKeyProvider({ k1: randomBytes(32) }, 'k1') } });
    await expect(wrong.verify(1)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/key id "k1" is not the key this file was written with/) });
    expect(existsSync(target) ? readdirSync(target) : []).toEqual([]);
    expect(allFiles(s.bk).map((f) => [f, readFileSync(f).toString('hex')])).toEqual(before);
    // A bad provider option is a usage error at open.
    await expect(BackupEngine.open(s.bk, { encryption: { keyProvider: {} as KeyProvider } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('a flipped byte anywhere in a backed-up table or the metadata is caught by verify, naming the file', async () => {
    const s = await setup();
    const engine = await BackupEngine.open(s.bk, { encryption: { keyProvider: s.keyProvider } });
    const tables = readdirSync(path.join(s.bk, 'shared')).map((n) => path.join(s.bk, 'shared', n));
    const metaFile = path.join(s.bk, 'meta', '1');
    expect(tables.length).toBeGreaterThan(1);
    await withSeed('encrypted backup flips', async (rng) => {
      for (let i = 0; i < 40; i++) {
        const file = i % 4 === 0 ? metaFile : rng.pick(tables);
        const orig = readFileSync(file);
        const at = i < 4 ? i * 7 : rng.int(orig.length); // the encryption header too
        const bad = Buffer.from(orig);
        bad[at] = bad[at]! ^ (1 << rng.int(8));
        writeFileSync(file, bad);
        try {
          const err = await engine.verify(1).then(() => undefined, (e: unknown) => e);
          expect(err, `flip at ${at} of ${file}`).toMatchObject({ code: 'ERR_CORRUPTION', file });
          expect(typeof (err as { offset?: unknown }).offset).toBe('number');
        } finally {
          writeFileSync(file, orig);
        }
      }
    });
    await engine.verify(1);
    // A table flip inside a block names that block's offset, not the file's start.
    const t = tables[0]!;
    const orig = readFileSync(t);
    const bad = Buffer.from(orig);
    bad[200] = bad[200]! ^ 1;
    writeFileSync(t, bad);
    await expect(engine.verify(1)).rejects.toMatchObject({ code: 'ERR_CORRUPTION', file: t, offset: expect.any(Number) });
    const err = await engine.verify(1).then(() => ({ offset: -1, message: "resolved" }), (e: { offset: number; message: string }) => e);
    expect(err.offset).toBeGreaterThan(0);
    expect(err.message).toMatch(/checksum mismatch|authentication failed/); // the block trailer CRC, then the GCM tag
    await expect(engine.restore(1, path.join(s.root, 'r'))).rejects.toMatchObject({ code: 'ERR_CORRUPTION', file: t });
    writeFileSync(t, orig);
  });

  it('a plaintext metadata file in an encrypted backup is refused unless allowPlaintext; plaintext backups read as before', async () => {
    const root = await tempDir('strata-encbk-');
    const plainDb = await DB.open(path.join(root, 'plain'), small);
    await fill(plainDb, 300, 'p');
    await plainDb.backup(path.join(root, 'bk'));
    await plainDb.close();
    const meta1 = readFileSync(path.join(root, 'bk', 'meta', '1'));
    expect(meta1.toString('utf8')).toMatch(/^\{"format":"stratadb-backup","version":1,/);
    const keyProvider = staticKeyProvider({ k1: randomBytes(32) }, 'k1');
    const strict = await BackupEngine.open(path.join(root, 'bk'), { encryption: { keyProvider } });
    await expect(strict.list()).rejects.toMatchObject({ code: 'ERR_CORRUPTION', message: expect.stringContaining('not encrypted') });
    const lenient = await BackupEngine.open(path.join(root, 'bk'), { encryption: { keyProvider, allowPlaintext: true } });
    await lenient.verify(1);
    expect(await (await BackupEngine.open(path.join(root, 'bk'))).list()).toMatchObject([{ id: 1 }]);
    // An encrypted database backing up into the same directory keeps the plaintext backup's tables.
    const encDb = await DB.open(path.join(root, 'enc'), { ...small, encryption: { keyProvider } });
    await fill(encDb, 300, 'e');
    await encDb.backup(path.join(root, 'bk'));
    await encDb.close();
    const all = await lenient.list();
    expect(all.map((b) => b.id)).toEqual([1, 2]);
    await lenient.verify(1);
    await lenient.verify(2);
    expect(readFileSync(path.join(root, 'bk', 'meta', '1'))).toEqual(meta1);
    expect(readFileSync(path.join(root, 'bk', 'meta', '2')).subarray(0, 8).toString('latin1')).toBe('STRCRYPT');
  });
});
