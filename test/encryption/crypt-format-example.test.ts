/**
 * The worked example of src/encryption/CRYPT-FORMAT.md §8, byte for byte: fixed master key, salt and
 * plaintexts go through the code (header encoding, key check, sealing at a position), and the text
 * must equal the golden file test/testdata/encryption/worked-example.hex (REWRITE=1 regenerates it),
 * which the document shows verbatim. The file key and the nonces are computed here from the formulas
 * of §3 and §4 with node:crypto alone, and the sealed units must decrypt with them: so the spec's
 * derivation, not only its bytes, is the code's.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createDecipheriv, hkdfSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  decodeEncryptionHeader, encodeEncryptionHeader, FileCipher, FileKind, keyCheckOf, openWholeFile, TAG_SIZE,
} from '../../src/encryption/file-cipher.js';

const MASTER = Uint8Array.from({ length: 32 }, (_, i) => i); // 00 01 .. 1f
const SALT = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i); // a0 a1 .. af
const KEY_ID = 'k1';
const WHOLE = new TextEncoder().encode('hello'); // an OPTIONS file's content, sealed whole at position 0
const BLOCK = new TextEncoder().encode('block'); // a table block at offset 4096, compression type 1
const BLOCK_POSITION = 4096;
const BLOCK_TYPE = 1;

function hexLines(b: Uint8Array): string {
  const pairs = Buffer.from(b).toString('hex').match(/../g) ?? [];
  const lines: string[] = [];
  for (let i = 0; i < pairs.length; i += 16) lines.push(pairs.slice(i, i + 16).join(' '));
  return lines.join('\n') + '\n';
}

/** The nonce of §4 from its definition: four zero bytes, then the position as a big-endian u64. */
function specNonce(position: number): Buffer {
  const n = Buffer.alloc(12);
  n.writeBigUInt64BE(BigInt(position), 4);
  return n;
}

/** The file key of §3 from its definition. */
function specFileKey(kind: number): Buffer {
  return Buffer.from(hkdfSync('sha256', MASTER, SALT, Buffer.from(`StrataDB file key v1 ${kind}`), 32));
}

function build(): { text: string; file: Uint8Array; block: Uint8Array } {
  const headerBytes = encodeEncryptionHeader(FileKind.OPTIONS, KEY_ID, SALT, keyCheckOf(MASTER));
  const cipher = FileCipher.forHeader(decodeEncryptionHeader(headerBytes, 0, 'OPTIONS-000004', 0, FileKind.OPTIONS), MASTER);
  const unit = cipher.seal(0, [WHOLE]);
  const file = Buffer.concat([headerBytes, unit]);
  const tableHeader = encodeEncryptionHeader(FileKind.TABLE, KEY_ID, SALT, keyCheckOf(MASTER));
  const tableCipher = FileCipher.forHeader(decodeEncryptionHeader(tableHeader, 0, '000007.sst', 0, FileKind.TABLE), MASTER);
  const block = tableCipher.seal(BLOCK_POSITION, [BLOCK], BLOCK_TYPE);
  const text = [
    `# master key (32 bytes), key id "${KEY_ID}"`, hexLines(MASTER).trimEnd(),
    '# salt (16 bytes)', hexLines(SALT).trimEnd(),
    '# key check value: HMAC-SHA256(master key, "StrataDB key check v1"), first 8 bytes', hexLines(keyCheckOf(MASTER)).trimEnd(),
    `# OPTIONS file (kind ${FileKind.OPTIONS}): file key = HKDF-SHA256(master key, salt, "StrataDB file key v1 ${FileKind.OPTIONS}", 32)`,
    hexLines(specFileKey(FileKind.OPTIONS)).trimEnd(),
    `# its encryption header (${headerBytes.length} bytes)`, hexLines(headerBytes).trimEnd(),
    '# "hello" sealed at position 0, no AAD. Nonce:', hexLines(specNonce(0)).trimEnd(),
    '# sealed unit: ciphertext (5 bytes), then the tag (16)', hexLines(unit).trimEnd(),
    `# the whole OPTIONS file: header, then the sealed unit (${file.length} bytes)`, hexLines(file).trimEnd(),
    `# a table (kind ${FileKind.TABLE}) with the same key and salt: file key`, hexLines(specFileKey(FileKind.TABLE)).trimEnd(),
    `# "block" at offset ${BLOCK_POSITION}, compression type ${BLOCK_TYPE} as AAD. Nonce:`, hexLines(specNonce(BLOCK_POSITION)).trimEnd(),
    '# sealed unit: ciphertext (5 bytes), then the tag (16)', hexLines(block).trimEnd(),
  ].join('\n') + '\n';
  return { text, file, block };
}

function specOpen(kind: number, position: number, sealed: Uint8Array, aad?: number): Buffer {
  const d = createDecipheriv('aes-256-gcm', specFileKey(kind), specNonce(position), { authTagLength: TAG_SIZE });
  if (aad !== undefined) d.setAAD(Uint8Array.of(aad));
  d.setAuthTag(sealed.subarray(sealed.length - TAG_SIZE));
  return Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG_SIZE)), d.final()]);
}

describe('CRYPT-FORMAT.md worked example', () => {
  it('matches the golden file, which the document shows verbatim', () => {
    const { text } = build();
    const golden = fileURLToPath(new URL('../testdata/encryption/worked-example.hex', import.meta.url));
    if (process.env['REWRITE'] === '1') writeFileSync(golden, text);
    expect(text).toBe(readFileSync(golden, 'utf8'));
    const spec = readFileSync(fileURLToPath(new URL('../../src/encryption/CRYPT-FORMAT.md', import.meta.url)), 'utf8');
    expect(spec.includes(`\`\`\`\n${text}\`\`\``), 'CRYPT-FORMAT.md must show the golden text verbatim in a code block').toBe(true);
  });

  it('decrypts with the file key and nonce of the formulas, and through the code', async () => {
    const { file, block } = build();
    const headerSize = file.length - WHOLE.length - TAG_SIZE;
    expect(specOpen(FileKind.OPTIONS, 0, file.subarray(headerSize))).toEqual(Buffer.from(WHOLE));
    expect(specOpen(FileKind.TABLE, BLOCK_POSITION, block, BLOCK_TYPE)).toEqual(Buffer.from(BLOCK));
    // Without the AAD byte the tag fails: the type byte is authenticated.
    expect(() => specOpen(FileKind.TABLE, BLOCK_POSITION, block)).toThrow();
    const keys = { keyFor: async (id: string): Promise<Uint8Array> => { expect(id).toBe(KEY_ID); return MASTER; } };
    expect(Buffer.from(await openWholeFile(file, FileKind.OPTIONS, 'OPTIONS-000004', keys))).toEqual(Buffer.from(WHOLE));
  });
});
