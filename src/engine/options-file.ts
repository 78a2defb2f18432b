/**
 * The OPTIONS-NNNNNN file (RocksDB's name): the options a database was last opened with, as text, so
 * a person or a tool can see how it was configured. Written at every read-write open (temp file,
 * fsynced, then rename; the directory is not synced: it is information, not state, and nothing at
 * open depends on it, but a crash must not leave an empty OPTIONS file behind a rename), the newest two kept. An encrypted database seals it whole (src/encryption/CRYPT-FORMAT.md, kind 4): the
 * text holds no key material (describeOptions never prints the provider), but paths and sizes are
 * the database's business. Format: the lines "# StrataDB options" and "format=1", then one
 * `name=value` per option.
 */
import * as path from 'node:path';
import type { FileSystem } from '../fs/file-system.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { FileKind, hasCryptMagic, openWholeFile, sealWholeFile, plaintextRefused } from '../encryption/file-cipher.js';
import type { KeyRing } from '../encryption/keyring.js';
import { optionsFileName, parseFileName, tempFileName } from '../manifest/file-names.js';
import { CorruptionError } from '../errors.js';

const HEADER = '# StrataDB options\nformat=1\n';
const KEEP = 2;

/** Writes OPTIONS-<number> holding `text` and removes all but the newest two. Returns its path. */
export async function writeOptionsFile(fs: FileSystem, dir: string, number: number, text: string, keys?: KeyRing): Promise<string> {
  let bytes: Uint8Array = Buffer.from(HEADER + text + '\n', 'utf8');
  if (keys) {
    const id = keys.currentKeyId();
    bytes = sealWholeFile(FileKind.OPTIONS, id, await keys.keyFor(id), bytes);
  }
  const target = optionsFileName(dir, number);
  // The temp file shares the number: it is renamed away at once. Not synced: see the header.
  await writeFileAtomic(fs, target, bytes, { tempPath: tempFileName(dir, number), syncFile: true, syncDir: false });
  const old = (await fs.list(dir))
    .map((name) => ({ name, p: parseFileName(name) }))
    .filter((x) => x.p?.type === 'options' && x.p.number < number)
    .sort((a, b) => b.p!.number - a.p!.number)
    .slice(KEEP - 1);
  for (const o of old) await fs.remove(path.join(dir, o.name)).catch(() => undefined);
  return target;
}

/** The options text of an OPTIONS file (decrypted when sealed); ERR_CORRUPTION when malformed or tampered. */
export async function readOptionsFile(fs: FileSystem, file: string, keys?: KeyRing): Promise<string> {
  let bytes = await fs.readFile(file);
  if (hasCryptMagic(bytes)) {
    bytes = await openWholeFile(bytes, FileKind.OPTIONS, file, keys);
  } else if (keys && !keys.allowPlaintext) {
    throw plaintextRefused(file);
  }
  const text = Buffer.from(bytes).toString('utf8');
  if (!text.startsWith(HEADER)) throw new CorruptionError(file, 0, 'not a StrataDB OPTIONS file (format=1)');
  return text.slice(HEADER.length).replace(/\n$/, '');
}
