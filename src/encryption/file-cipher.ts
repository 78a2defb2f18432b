/**
 * Encryption at rest, the primitive every file kind shares (issue #9): the encryption header that
 * opens an encrypted file, the per-file key derived from the master key, and AES-256-GCM sealing of
 * one unit (a table block, a log record, a small whole file) at a position. Spec: src/encryption/CRYPT-FORMAT.md.
 *
 * Why a key per file: a 96-bit GCM nonce must never repeat under one key. File numbers repeat across
 * databases that share a master key, and a flush that is retried rewrites the same file number, so a
 * nonce made of (file number, offset) under the master key could repeat. Instead every file written
 * gets 16 fresh random bytes (the salt, stored in its header) and its own key
 * HKDF-SHA256(master, salt, info = "StrataDB file key v1" + kind). Within one file the nonce is the
 * unit's position (block offset, record ordinal), and one writer only ever moves forward: files are
 * never reopened for appending (WAL and MANIFEST files are created exclusively; a table is written
 * once). So for one file key each nonce is used once, and two files share a key only if 128-bit
 * random salts collide.
 * Integrity: the GCM tag is checked before any decrypted byte is used (node:crypto's final() throws
 * first); a flipped byte anywhere in a sealed unit, its tag, its AAD, the salt or the key id fails
 * it. The header has its own CRC so that damage to it reads as corruption, not as a wrong key.
 * Low-level code: imports only node:crypto, src/base/ and src/errors.ts (sstable/ and src/record/ use it;
 * test/lint/import-direction.test.ts keeps src/encryption/ below them).
 */
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { crc32c, maskCrc, unmaskCrc } from '../base/crc32c.js';
import { getFixed32, putFixed32 } from '../base/coding.js';
import { CorruptionError, InvalidArgumentError, NotSupportedError } from '../errors.js';

/** "STRCRYPT": the first 8 bytes of every encrypted file (or record-framed log's first record). */
export const CRYPT_MAGIC = new Uint8Array([0x53, 0x54, 0x52, 0x43, 0x52, 0x59, 0x50, 0x54]);
export const CRYPT_FORMAT_VERSION = 1;
/** AES-256-GCM with HKDF-SHA256 per-file keys. */
export const CIPHER_AES_256_GCM = 1;
export const TAG_SIZE = 16;
export const KEY_SIZE = 32;
export const SALT_SIZE = 16;
/** Bytes of the key check value in the header (CRYPT-FORMAT.md §2). */
export const KEY_CHECK_SIZE = 8;
const HEADER_FIXED = 12; // magic 8, version 1, kind 1, cipher 1, key id length 1
export const MAX_KEY_ID_LENGTH = 255;
/** Parts up to this many bytes in all are gathered before encryption (see sealParts). */
const GATHER_LIMIT = 64 * 1024;

/** What a file is; mixed into its key so a unit of one kind cannot be read as another. */
export const FileKind = {
  TABLE: 1,
  WAL: 2,
  MANIFEST: 3,
  OPTIONS: 4,
  BACKUP_META: 5,
} as const;
export type FileKindValue = (typeof FileKind)[keyof typeof FileKind];
const KIND_NAMES: Record<number, string> = { 1: 'table', 2: 'WAL', 3: 'MANIFEST', 4: 'OPTIONS', 5: 'backup metadata' };

/**
 * Where keys come from (the user's side: a KMS, a file, an environment variable). getKey returns the
 * 32-byte key of a key id; currentKeyId names the one new files use.
 */
export interface KeyProvider {
  currentKeyId(): string;
  getKey(id: string): Uint8Array | Promise<Uint8Array>;
}

export interface EncryptionHeader {
  kind: FileKindValue;
  keyId: string;
  salt: Uint8Array;
  /** HMAC-SHA256(master, "StrataDB key check v1"), first 8 bytes: tells a wrong key from damage. */
  keyCheck?: Uint8Array;
  /** Encoded length in bytes. */
  size: number;
}

const utf8 = new TextEncoder();
const utf8Decode = new TextDecoder('utf-8', { fatal: true });

export function checkKeyId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0) throw new InvalidArgumentError('an encryption key id must be a non-empty string');
  if (utf8.encode(id).length > MAX_KEY_ID_LENGTH) throw new InvalidArgumentError(`encryption key id is over ${MAX_KEY_ID_LENGTH} bytes`);
  return id;
}

export function encodeEncryptionHeader(kind: FileKindValue, keyId: string, salt: Uint8Array, keyCheck: Uint8Array = new Uint8Array(KEY_CHECK_SIZE)): Uint8Array {
  const id = utf8.encode(checkKeyId(keyId));
  const out = new Uint8Array(HEADER_FIXED + id.length + SALT_SIZE + KEY_CHECK_SIZE + 4);
  out.set(CRYPT_MAGIC, 0);
  out[8] = CRYPT_FORMAT_VERSION;
  out[9] = kind;
  out[10] = CIPHER_AES_256_GCM;
  out[11] = id.length;
  out.set(id, HEADER_FIXED);
  out.set(salt, HEADER_FIXED + id.length);
  out.set(keyCheck.subarray(0, KEY_CHECK_SIZE), HEADER_FIXED + id.length + SALT_SIZE);
  const crcAt = out.length - 4;
  putFixed32(out, crcAt, maskCrc(crc32c(out.subarray(0, crcAt))));
  return out;
}

/** True when bytes start with the encryption magic. */
export function hasCryptMagic(bytes: Uint8Array, at = 0): boolean {
  if (bytes.length - at < CRYPT_MAGIC.length) return false;
  for (let i = 0; i < CRYPT_MAGIC.length; i++) if (bytes[at + i] !== CRYPT_MAGIC[i]) return false;
  return true;
}

/** Decodes the header at bytes[at..]; throws CorruptionError (file, offset) or NotSupportedError. */
export function decodeEncryptionHeader(bytes: Uint8Array, at: number, fileName: string, fileOffset: number, expected: FileKindValue): EncryptionHeader {
  if (!hasCryptMagic(bytes, at)) throw new CorruptionError(fileName, fileOffset, 'missing encryption header magic');
  if (bytes.length - at < HEADER_FIXED) throw new CorruptionError(fileName, fileOffset, 'truncated encryption header');
  const idLen = bytes[at + 11]!;
  const size = HEADER_FIXED + idLen + SALT_SIZE + KEY_CHECK_SIZE + 4;
  if (idLen === 0 || bytes.length - at < size) throw new CorruptionError(fileName, fileOffset, 'truncated encryption header');
  const crcAt = at + size - 4;
  if (unmaskCrc(getFixed32(bytes, crcAt)) !== crc32c(bytes.subarray(at, crcAt))) {
    throw new CorruptionError(fileName, fileOffset, 'encryption header checksum mismatch');
  }
  const version = bytes[at + 8]!;
  if (version !== CRYPT_FORMAT_VERSION) {
    if (version > CRYPT_FORMAT_VERSION) throw new NotSupportedError(`${fileName}: encryption format version ${version} is newer than this build reads (${CRYPT_FORMAT_VERSION})`);
    throw new CorruptionError(fileName, fileOffset + 8, `encryption format version ${version}`);
  }
  const kind = bytes[at + 9]!;
  if (kind !== expected) throw new CorruptionError(fileName, fileOffset + 9, `encryption header says ${KIND_NAMES[kind] ?? `kind ${kind}`}, expected ${KIND_NAMES[expected]}`);
  if (bytes[at + 10] !== CIPHER_AES_256_GCM) throw new NotSupportedError(`${fileName}: unknown cipher ${bytes[at + 10]} in the encryption header`);
  let keyId: string;
  try {
    keyId = utf8Decode.decode(bytes.subarray(at + HEADER_FIXED, at + HEADER_FIXED + idLen));
  } catch {
    throw new CorruptionError(fileName, fileOffset + HEADER_FIXED, 'encryption key id is not utf-8');
  }
  const saltAt = at + HEADER_FIXED + idLen;
  const salt = Uint8Array.prototype.slice.call(bytes, saltAt, saltAt + SALT_SIZE);
  const keyCheck = Uint8Array.prototype.slice.call(bytes, saltAt + SALT_SIZE, saltAt + SALT_SIZE + KEY_CHECK_SIZE);
  return { kind: kind as FileKindValue, keyId, salt, keyCheck, size };
}

/** A KeyObject, not a Buffer: node:crypto then skips re-importing the key per cipher (~10 -> ~5 µs a seal). */
function deriveFileKey(master: Uint8Array, salt: Uint8Array, kind: FileKindValue): KeyObject {
  const info = Buffer.from(`StrataDB file key v1 ${kind}`);
  return createSecretKey(Buffer.from(hkdfSync('sha256', master, salt, info, KEY_SIZE)));
}

function checkKeyLength(keyId: string, master: Uint8Array): void {
  if (master.length !== KEY_SIZE) throw new InvalidArgumentError(`encryption key ${keyId} is ${master.length} bytes, expected ${KEY_SIZE}`);
}

/** The key check value (CRYPT-FORMAT.md §2): a one-way function of the master key. */
export function keyCheckOf(master: Uint8Array): Buffer {
  return createHmac('sha256', master).update('StrataDB key check v1').digest().subarray(0, KEY_CHECK_SIZE);
}

/**
 * The nonce of the unit at `position` (a block offset or a record ordinal, below 2^53): 4 zero bytes,
 * then the position as a big-endian 64-bit integer. Injective in the position, so distinct positions
 * of one file never share a nonce (test/encryption/file-cipher.test.ts checks 10,000,000 of them).
 */
export function nonceFor(position: number, out: Buffer = Buffer.alloc(12)): Buffer {
  if (!Number.isSafeInteger(position) || position < 0) throw new InvalidArgumentError(`nonce position ${position} out of range`);
  out.fill(0, 0, 4);
  out.writeUInt32BE(Math.floor(position / 0x1_0000_0000), 4);
  out.writeUInt32BE(position >>> 0, 8);
  return out;
}

/**
 * One file's cipher: its header, and seal/open of units at positions. Reused for every unit of the
 * file; the nonce buffer is reused (node:crypto copies the IV when a cipher is created).
 */
export class FileCipher {
  private readonly key: KeyObject;
  private readonly iv = Buffer.alloc(12);
  private readonly aad = Buffer.alloc(1);
  private scratch = Buffer.allocUnsafe(0);

  private constructor(readonly header: EncryptionHeader, readonly headerBytes: Uint8Array, master: Uint8Array) {
    checkKeyLength(header.keyId, master);
    this.key = deriveFileKey(master, header.salt, header.kind);
  }

  /** A cipher for a new file: fresh salt. */
  static create(kind: FileKindValue, keyId: string, master: Uint8Array): FileCipher {
    checkKeyLength(keyId, master);
    const salt = randomBytes(SALT_SIZE);
    const keyCheck = keyCheckOf(master);
    const bytes = encodeEncryptionHeader(kind, keyId, salt, keyCheck);
    return new FileCipher({ kind, keyId, salt, keyCheck, size: bytes.length }, bytes, master);
  }

  /**
   * A cipher for an existing file, from its decoded header. A key whose check value differs from the
   * header's is the wrong key for that key id: ERR_INVALID_ARGUMENT saying so (`fileName` names the
   * file), not corruption: the data is fine, the configuration is not.
   */
  static forHeader(header: EncryptionHeader, master: Uint8Array, fileName = 'file'): FileCipher {
    checkKeyLength(header.keyId, master);
    if (header.keyCheck && !timingSafeEqual(keyCheckOf(master), header.keyCheck)) {
      throw new InvalidArgumentError(`${fileName}: the key given for key id ${JSON.stringify(header.keyId)} is not the key this file was written with (its key check value differs)`);
    }
    return new FileCipher(header, encodeEncryptionHeader(header.kind, header.keyId, header.salt, header.keyCheck), master);
  }

  get keyId(): string { return this.header.keyId; }

  /** Ciphertext of the parts' concatenation followed by the 16-byte tag. `aadByte` is authenticated too. */
  seal(position: number, parts: readonly Uint8Array[], aadByte = 0): Buffer {
    const [body, tag] = this.sealParts(position, parts, aadByte);
    return Buffer.concat([body, tag]);
  }

  /**
   * The same as [ciphertext, tag], without joining them (log records and table blocks are written as
   * parts). Small parts are gathered into one scratch buffer first: each cipher.update() is a native
   * call of ~2.5 µs, more than AES itself costs for a WAL record.
   */
  sealParts(position: number, parts: readonly Uint8Array[], aadByte = 0): [Buffer, Buffer] {
    const c = createCipheriv('aes-256-gcm', this.key, nonceFor(position, this.iv), { authTagLength: TAG_SIZE });
    if (aadByte !== 0) { // AAD 0 is the empty AAD: one native call less on the WAL's path
      this.aad[0] = aadByte;
      c.setAAD(this.aad);
    }
    let total = 0;
    for (const p of parts) total += p.length;
    let body: Buffer;
    if (parts.length === 1) {
      body = c.update(parts[0]!);
    } else if (total <= GATHER_LIMIT) {
      if (this.scratch.length < total) this.scratch = Buffer.allocUnsafe(Math.max(total, this.scratch.length * 2));
      let at = 0;
      for (const p of parts) { this.scratch.set(p, at); at += p.length; }
      body = c.update(this.scratch.subarray(0, total));
      this.scratch.fill(0, 0, total); // no plaintext left behind in a long-lived buffer
    } else {
      const out: Buffer[] = [];
      for (const p of parts) if (p.length > 0) out.push(c.update(p));
      body = Buffer.concat(out);
    }
    c.final(); // GCM emits nothing here; it computes the tag
    return [body, c.getAuthTag()];
  }

  /**
   * The plaintext of a sealed unit (ciphertext + tag), or CorruptionError(file, offset) when the tag
   * does not verify: tampering, damage, or a wrong key. No plaintext byte is returned before that.
   */
  open(position: number, sealed: Uint8Array, fileName: string, fileOffset: number, aadByte = 0): Buffer {
    if (sealed.length < TAG_SIZE) throw new CorruptionError(fileName, fileOffset, `encrypted unit of ${sealed.length} bytes is shorter than its tag`);
    const d = createDecipheriv('aes-256-gcm', this.key, nonceFor(position, this.iv), { authTagLength: TAG_SIZE });
    this.aad[0] = aadByte;
    if (aadByte !== 0) d.setAAD(this.aad);
    d.setAuthTag(sealed.subarray(sealed.length - TAG_SIZE));
    const body = d.update(sealed.subarray(0, sealed.length - TAG_SIZE));
    try {
      const tail = d.final();
      return tail.length === 0 ? body : Buffer.concat([body, tail]);
    } catch {
      body.fill(0);
      throw new CorruptionError(fileName, fileOffset, `authentication failed (tampered or damaged data, or the wrong key for key id ${JSON.stringify(this.header.keyId)})`);
    }
  }
}

/** The refusal of an encrypted file when no key provider was given: names the key id it needs. */
export function keysRequired(fileName: string, keyId: string, what = 'it'): InvalidArgumentError {
  return new InvalidArgumentError(`${fileName} is encrypted (key id ${JSON.stringify(keyId)}): open ${what} with the encryption key provider`);
}

/**
 * The cipher of an existing file from its decoded header: every reader's one way in (tables, logs,
 * whole files). Without keys: keysRequired; a wrong key: forHeader's key check refusal.
 */
export async function cipherFor(h: EncryptionHeader, fileName: string, keys: KeyResolver | undefined, what?: string): Promise<FileCipher> {
  if (!keys) throw keysRequired(fileName, h.keyId, what);
  return FileCipher.forHeader(h, await keys.keyFor(h.keyId, fileName), fileName);
}

/** Whole small files (OPTIONS, backup metadata): header, then the content sealed at position 0. */
export function sealWholeFile(kind: FileKindValue, keyId: string, master: Uint8Array, content: Uint8Array): Uint8Array {
  const c = FileCipher.create(kind, keyId, master);
  return Buffer.concat([c.headerBytes, c.seal(0, [content])]);
}

/** The content of a sealed whole file (tag checked first); `what` words the no-keys refusal. */
export async function openWholeFile(bytes: Uint8Array, kind: FileKindValue, fileName: string, keys: KeyResolver | undefined, what?: string): Promise<Uint8Array> {
  const h = decodeEncryptionHeader(bytes, 0, fileName, 0, kind);
  const c = await cipherFor(h, fileName, keys, what);
  return c.open(0, bytes.subarray(h.size), fileName, h.size);
}

/** Key lookup by id for readers (src/encryption/keyring.ts implements it). */
export interface KeyResolver {
  keyFor(id: string, fileName: string): Promise<Uint8Array>;
  /** Whether files without encryption are read too (else they are refused as corruption). Default true. */
  readonly allowPlaintext?: boolean;
}

/** The refusal of a plaintext file where an encrypted one is required. */
export function plaintextRefused(fileName: string, offset = 0): CorruptionError {
  return new CorruptionError(fileName, offset, 'file is not encrypted, but the database is (set encryption.allowPlaintext to read files written before encryption was turned on)');
}
