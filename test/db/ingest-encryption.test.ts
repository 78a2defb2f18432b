/**
 * db.ingest() with encryption at rest: a plain external table goes into an encrypted database as
 * tables sealed under the current key (readable after a reopen, refused without the keys); an
 * external table encrypted under a key the database does not hold is refused, naming its key id,
 * with nothing changed. Each test has its own MemFileSystem.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { DB, MemFileSystem, staticKeyProvider } from '../../src/index.js';
import { TableWriter, writeExternalTable } from '../../sstable/index.js';
import { KeyRing } from '../../src/encryption/keyring.js';
import { FileKind } from '../../src/encryption/file-cipher.js';
import { bytewiseComparator } from '../../src/base/comparator.js';
import { readAll, rejectsWith } from '../support/db-check.js';

const DIR = '/db';

describe('db.ingest and encryption at rest', () => {
  it('a plain external table is sealed under the current key; a foreign-key table is refused', async () => {
    const fs = new MemFileSystem();
    await fs.mkdir('/ext');
    const keyProvider = staticKeyProvider({ k1: randomBytes(32) }, 'k1');
    let db = await DB.open(DIR, { fs, encryption: { keyProvider }, compactionExecutor: 'inline' });
    await db.put('a', 'old');
    await writeExternalTable('/ext/plain.sst', [['a', 'new'], ['b', 'b']], { fs });
    const r = await db.ingest('/ext/plain.sst');
    const ingested = r.files[0]!.tables;
    const keyIds: (string | undefined)[] = [];
    db.engine.versions.current().forEachFile((f) => { if (ingested.includes(f.fileNumber)) keyIds.push(f.keyId); });
    expect(keyIds).toEqual(['k1']);

    // An external table sealed under a key only its writer has.
    const foreign = KeyRing.fromKeys('elsewhere', new Map([['elsewhere', new Uint8Array(randomBytes(32))]]));
    const file = await fs.openWritable('/ext/foreign.sst');
    const w = new TableWriter(file, { blockSize: 256, blockRestartInterval: 16, compression: 'none', bloomBitsPerKey: 0,
      comparator: bytewiseComparator, cipher: await foreign.newFileCipher(FileKind.TABLE) });
    await w.add(Buffer.from('x'), Buffer.from('1'));
    await w.finish();
    await file.close();
    const before = await readAll(db);
    const e = await rejectsWith(() => db.ingest('/ext/foreign.sst'), 'ERR_INVALID_ARGUMENT');
    expect(e.message).toContain('elsewhere');
    expect(await readAll(db)).toEqual(before);
    await db.close();

    db = await DB.open(DIR, { fs, encryption: { keyProvider } });
    expect((await db.get('a'))?.toString()).toBe('new');
    expect((await db.get('b'))?.toString()).toBe('b');
    await db.close();
    await rejectsWith(() => DB.open(DIR, { fs }), 'ERR_INVALID_ARGUMENT', 'open without keys');
  });
});
