/**
 * The OPTIONS-NNNNNN file (src/options-file.ts): written at every read-write open with the options
 * as text, the newest two kept, never the key provider; sealed whole in an encrypted database
 * (readable only with the key, refused naming the key id without it, tampering detected).
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DB, NodeFileSystem, staticKeyProvider } from '../../src/index.js';
import { readOptionsFile } from '../../src/engine/options-file.js';
import { KeyRing } from '../../src/encryption/keyring.js';
import { tempDir } from '../support/tmpdir.js';

const optionsFiles = (dir: string): string[] => readdirSync(dir).filter((n) => n.startsWith('OPTIONS-')).sort();

describe('OPTIONS file', () => {
  it('holds the options of the last open; the newest two are kept', async () => {
    const dir = await tempDir();
    for (let i = 0; i < 4; i++) {
      const db = await DB.open(dir, { writeBufferSize: (i + 1) * 1024 * 1024 });
      await db.put('k', 'v');
      await db.close();
    }
    const files = optionsFiles(dir);
    expect(files).toHaveLength(2);
    const text = await readOptionsFile(new NodeFileSystem(), join(dir, files[1]!));
    expect(text).toContain(`writeBufferSize=${4 * 1024 * 1024}`);
    expect(text).toContain('encryption=off');
    // read-only opens write nothing
    const ro = await DB.open(dir, { readOnly: true });
    await ro.close();
    expect(optionsFiles(dir)).toEqual(files);
  });

  it('is sealed in an encrypted database: no plaintext, key id named without the key, tampering detected', async () => {
    const dir = await tempDir();
    const keyProvider = staticKeyProvider({ k1: randomBytes(32) }, 'k1');
    const db = await DB.open(dir, { writeBufferSize: 3 * 1024 * 1024, encryption: { keyProvider } });
    await db.close();
    const [name] = optionsFiles(dir);
    const file = join(dir, name!);
    const raw = readFileSync(file);
    expect(raw.includes(Buffer.from('writeBufferSize'))).toBe(false);
    const fs = new NodeFileSystem();
    const text = await readOptionsFile(fs, file, new KeyRing(keyProvider));
    expect(text).toContain(`writeBufferSize=${3 * 1024 * 1024}`);
    expect(text).toContain('encryption=aes-256-gcm');
    await expect(readOptionsFile(fs, file)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('"k1"') });
    raw[raw.length - 20]! ^= 0x01;
    writeFileSync(file, raw);
    await expect(readOptionsFile(fs, file, new KeyRing(keyProvider))).rejects.toMatchObject({ code: 'ERR_CORRUPTION', file });
  });
});
