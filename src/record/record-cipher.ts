/**
 * Finds out whether a record-framed log (WAL, MANIFEST) is encrypted and builds its cipher: the
 * first logical record of an encrypted log starts with the file's encryption header
 * (src/record/FORMAT.md §8). Kept apart from RecordReader because the key lookup may be
 * asynchronous (a KMS) while reading records is not.
 * A first record that cannot be read (torn, damaged) says nothing either way: the reader then
 * reports that same problem, and no record is ever returned without its tag checked (a log with
 * a readable first record but no header is a plain one).
 */
import { cipherFor, decodeEncryptionHeader, hasCryptMagic, plaintextRefused, type FileCipher, type FileKindValue, type KeyResolver } from '../encryption/file-cipher.js';
import { RecordReader } from './record-reader.js';

export async function recordCipherFor(data: Uint8Array, fileName: string, kind: FileKindValue, keys: KeyResolver | undefined, logNumber?: number): Promise<FileCipher | undefined> {
  const r = new RecordReader(data, fileName, undefined, logNumber).readReporting();
  if (r.kind !== 'record') return undefined;
  if (!hasCryptMagic(r.data)) {
    if (keys && keys.allowPlaintext === false) throw plaintextRefused(fileName, r.offset);
    return undefined;
  }
  const h = decodeEncryptionHeader(r.data, 0, fileName, r.offset, kind);
  return cipherFor(h, fileName, keys);
}

/**
 * A RecordReader over `data`, decrypting when the log is encrypted. `logNumber`: the number a
 * recyclable log's records must carry (from the file name).
 */
export async function openRecordReader(data: Uint8Array, fileName: string, kind: FileKindValue, keys: KeyResolver | undefined, logNumber?: number): Promise<RecordReader> {
  return new RecordReader(data, fileName, await recordCipherFor(data, fileName, kind, keys, logNumber), logNumber);
}
