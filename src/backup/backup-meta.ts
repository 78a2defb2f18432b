/**
 * Backup metadata: one file per backup, `meta/<id>`, written last and atomically (temp, fsync,
 * rename, fsync-directory): a backup without it was interrupted and is never listed.
 * Content: line 1 the JSON document, line 2 `crc32c <8 hex>` over line 1's bytes. Format and
 * invariants: src/backup/FORMAT.md. Decoding treats the file as hostile: any unexpected field, type,
 * range or name is ERR_CORRUPTION naming the file, and table paths are never taken from the file:
 * they are re-derived from (fileNumber, crc32c, size), so `..`, absolute paths, separators or NUL bytes
 * in a name can never reach the file system.
 * Encryption at rest (issue #9): a backup of an encrypted database has its metadata file sealed whole
 * (src/encryption/file-cipher.ts sealWholeFile, kind BACKUP_META) under the database's current key, and
 * records each table's key id; such a document is version 2. A plaintext backup stays version 1,
 * byte for byte as before, and version 1 files are read as always.
 */
import { Buffer } from 'node:buffer';
import { crc32c } from '../base/crc32c.js';
import { checkKeyId, FileKind, hasCryptMagic, plaintextRefused, sealWholeFile, openWholeFile, TAG_SIZE, type KeyResolver } from '../encryption/file-cipher.js';
import { CorruptionError, NotSupportedError, isStrataError } from '../errors.js';
import { makeFileMetadata, fileMetadataProblem, type FileMetadata } from '../manifest/file-metadata.js';

export const BACKUP_FORMAT = 'stratadb-backup';
/** The highest version this build reads; it writes 1 for a plaintext backup, 2 for an encrypted one. */
export const BACKUP_FORMAT_VERSION = 2;
/** Version 2: the file may be sealed (an encrypted backup) and files[] carry `keyId`. */
export const BACKUP_FORMAT_VERSION_ENCRYPTED = 2;

export interface BackupFile { level: number; file: FileMetadata }

export interface BackupMeta {
  id: number;
  sequence: number;
  timestamp: number;
  nextFileNumber: number;
  files: BackupFile[];
}

/** `shared/000012_1a2b3c4d_4096.sst`: file numbers repeat across databases, so identity is all three. */
export function sharedName(f: FileMetadata): string {
  return `shared/${String(f.fileNumber).padStart(6, '0')}_${f.crc32c.toString(16).padStart(8, '0')}_${f.fileSize}.sst`;
}

const SHARED_NAME = /^shared\/(\d{6,16})_([0-9a-f]{8})_(\d{1,16})\.sst$/;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/**
 * The two-line plaintext document. `sealed`: it is about to be sealed (an encrypted backup), so it is
 * version 2; so is any document whose tables carry key ids. Otherwise version 1, as ever.
 */
export function encodeBackupMeta(m: BackupMeta, options: { sealed?: boolean } = {}): Uint8Array {
  const v2 = options.sealed === true || m.files.some(({ file }) => file.keyId !== undefined);
  const doc = {
    format: BACKUP_FORMAT, version: v2 ? BACKUP_FORMAT_VERSION_ENCRYPTED : 1, id: m.id, sequence: m.sequence,
    timestamp: m.timestamp, nextFileNumber: m.nextFileNumber,
    files: m.files.map(({ level, file: f }) => ({
      name: sharedName(f), level, fileNumber: f.fileNumber, size: f.fileSize, crc32c: f.crc32c,
      smallest: hex(f.smallest), largest: hex(f.largest), smallestSeq: f.smallestSeq, largestSeq: f.largestSeq,
      entries: f.numEntries, deletions: f.numDeletions,
      ...(f.numRangeDeletions !== undefined ? { rangeDeletions: f.numRangeDeletions } : {}),
      ...(f.keyId !== undefined ? { keyId: f.keyId } : {}),
      ...(f.uniqueId !== undefined ? { uniqueId: hex(f.uniqueId) } : {}),
    })),
  };
  const line = Buffer.from(JSON.stringify(doc), 'utf8');
  return Buffer.concat([line, Buffer.from(`\ncrc32c ${crc32c(line).toString(16).padStart(8, '0')}\n`, 'utf8')]);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

export function decodeBackupMeta(data: Uint8Array, fileName: string): BackupMeta {
  return decodeBackupMetaVersioned(data, fileName).meta;
}

function decodeBackupMetaVersioned(data: Uint8Array, fileName: string): { meta: BackupMeta; version: number } {
  const fail = (offset: number, detail: string): never => { throw new CorruptionError(fileName, offset, detail); };
  const nl = data.indexOf(0x0a);
  if (nl < 0) fail(0, 'no checksum line');
  const line = data.subarray(0, nl);
  const rest = Buffer.from(data.subarray(nl + 1)).toString('latin1');
  const m = /^crc32c ([0-9a-f]{8})\n?$/.exec(rest);
  if (!m) fail(nl + 1, 'malformed checksum line');
  if (parseInt(m![1]!, 16) !== crc32c(line)) fail(0, 'metadata checksum mismatch');
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(Buffer.from(line).toString('utf8')) as Record<string, unknown>;
  } catch (e) {
    return fail(0, `metadata is not JSON: ${(e as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) fail(0, 'metadata is not an object');
  if (doc['format'] !== BACKUP_FORMAT) fail(0, `not a ${BACKUP_FORMAT} metadata file`);
  if (!isCount(doc['version'])) fail(0, 'bad version');
  if ((doc['version'] as number) > BACKUP_FORMAT_VERSION) {
    throw new NotSupportedError(`${fileName}: backup format version ${String(doc['version'])} is newer than this build reads (${BACKUP_FORMAT_VERSION})`);
  }
  for (const k of ['id', 'sequence', 'timestamp', 'nextFileNumber']) if (!isCount(doc[k])) fail(0, `bad ${k}`);
  if (!Array.isArray(doc['files'])) fail(0, 'files is not an array');
  const files: BackupFile[] = [];
  const seen = new Set<number>();
  for (const [i, raw] of (doc['files'] as unknown[]).entries()) {
    const x = raw as Record<string, unknown>;
    const where = `files[${i}]`;
    if (typeof x !== 'object' || x === null) fail(0, `${where} is not an object`);
    for (const k of ['level', 'fileNumber', 'size', 'crc32c', 'smallestSeq', 'largestSeq', 'entries', 'deletions']) {
      if (!isCount(x[k])) fail(0, `${where}.${k} is not a non-negative integer`);
    }
    if ((x['level'] as number) >= 64) fail(0, `${where}.level out of range`);
    if ((x['crc32c'] as number) > 0xffff_ffff) fail(0, `${where}.crc32c out of range`);
    for (const k of ['smallest', 'largest']) {
      if (typeof x[k] !== 'string' || !/^([0-9a-f]{2})*$/.test(x[k] as string) || (x[k] as string).length < 16) fail(0, `${where}.${k} is not a hex internal key`);
    }
    let keyId: string | undefined;
    if (x['keyId'] !== undefined) {
      if ((doc['version'] as number) < BACKUP_FORMAT_VERSION_ENCRYPTED) fail(0, `${where}.keyId in a version ${String(doc['version'])} file`);
      try {
        keyId = checkKeyId(x['keyId']);
      } catch {
        fail(0, `${where}.keyId is not a key id`);
      }
    }
    let uniqueId: Uint8Array | undefined;
    if (x['uniqueId'] !== undefined) {
      if (typeof x['uniqueId'] !== 'string' || !/^([0-9a-f]{2})+$/.test(x['uniqueId'])) fail(0, `${where}.uniqueId is not hex bytes`);
      uniqueId = new Uint8Array(Buffer.from(x['uniqueId'] as string, 'hex'));
    }
    if (x['rangeDeletions'] !== undefined && !isCount(x['rangeDeletions'])) fail(0, `${where}.rangeDeletions is not a non-negative integer`);
    const init = {
      ...(x['rangeDeletions'] !== undefined ? { numRangeDeletions: x['rangeDeletions'] as number } : {}),
      ...(keyId !== undefined ? { keyId } : {}),
      ...(uniqueId !== undefined ? { uniqueId } : {}),
      fileNumber: x['fileNumber'] as number, fileSize: x['size'] as number, crc32c: x['crc32c'] as number,
      smallest: new Uint8Array(Buffer.from(x['smallest'] as string, 'hex')), largest: new Uint8Array(Buffer.from(x['largest'] as string, 'hex')),
      smallestSeq: x['smallestSeq'] as number, largestSeq: x['largestSeq'] as number,
      numEntries: x['entries'] as number, numDeletions: x['deletions'] as number,
    };
    const problem = fileMetadataProblem(init);
    if (problem) fail(0, `${where}: ${problem}`);
    const file = makeFileMetadata(init);
    // The stored name must be exactly the derived one: anything else (.., /, absolute, NUL) is refused.
    if (typeof x['name'] !== 'string' || !SHARED_NAME.test(x['name']) || x['name'] !== sharedName(file)) {
      fail(0, `${where}.name ${JSON.stringify(x['name'])} is not the table's content name`);
    }
    if (seen.has(file.fileNumber)) fail(0, `${where}: file number ${file.fileNumber} listed twice`);
    seen.add(file.fileNumber);
    files.push({ level: x['level'] as number, file });
  }
  // A restore (and a point-in-time replay) numbers new files from nextFileNumber: it must be above
  // every listed table, or a replayed table would overwrite a restored one.
  for (const { file } of files) {
    if (file.fileNumber >= (doc['nextFileNumber'] as number)) fail(0, `nextFileNumber ${String(doc['nextFileNumber'])} is not above file number ${file.fileNumber}`);
  }
  const meta = {
    id: doc['id'] as number, sequence: doc['sequence'] as number, timestamp: doc['timestamp'] as number,
    nextFileNumber: doc['nextFileNumber'] as number, files,
  };
  return { meta, version: doc['version'] as number };
}

/** The key to seal a new metadata file with: the database's current key id and its key. */
export interface MetaSealKey { keyId: string; key: Uint8Array }

/** The bytes of `meta/<id>`: the document, sealed whole when `seal` is given (an encrypted backup). */
export function encodeBackupMetaFile(m: BackupMeta, seal: MetaSealKey | undefined): Uint8Array {
  if (!seal) return encodeBackupMeta(m);
  return sealWholeFile(FileKind.BACKUP_META, seal.keyId, seal.key, encodeBackupMeta(m, { sealed: true }));
}

/**
 * Reads `meta/<id>`, sealed or not. A sealed file needs `keys` (without them: ERR_INVALID_ARGUMENT
 * naming the key id); its tag is checked before its document is parsed (ERR_CORRUPTION otherwise).
 * A plaintext file is read when there are no keys, or the keys allow plaintext; else it is refused as
 * corruption (a plaintext file swapped into an encrypted backup must not pass). A sealed document must
 * say version 2 (the version is inside the authenticated bytes).
 */
export async function decodeBackupMetaFile(data: Uint8Array, fileName: string, keys: KeyResolver | undefined): Promise<BackupMeta> {
  if (!hasCryptMagic(data)) {
    if (keys && keys.allowPlaintext === false) throw plaintextRefused(fileName);
    return decodeBackupMeta(data, fileName);
  }
  let plain: Uint8Array;
  try {
    plain = await openWholeFile(data, FileKind.BACKUP_META, fileName, keys, 'the backup');
  } catch (e) {
    if (isStrataError(e)) throw e;
    throw new CorruptionError(fileName, 0, `cannot open the sealed metadata: ${(e as Error).message}`, { cause: e });
  }
  const { meta, version } = decodeBackupMetaVersioned(plain, fileName);
  if (version !== BACKUP_FORMAT_VERSION_ENCRYPTED) {
    const headerSize = data.length - plain.length - TAG_SIZE;
    throw new CorruptionError(fileName, headerSize, `a sealed metadata file must be version ${BACKUP_FORMAT_VERSION_ENCRYPTED}, it says ${version}`);
  }
  return meta;
}
