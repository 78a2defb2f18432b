/**
 * CURRENT: the one-line file naming the live MANIFEST (`MANIFEST-000005\n`), and its crash-safe switch.
 * Format: src/manifest/FORMAT.md "CURRENT".
 * Contract: setCurrentFile() writes the line to `NNNNNN.dbtmp` (NNNNNN = the MANIFEST's number),
 * syncs it, renames it over CURRENT and syncs the directory (LevelDB's SetCurrentFile plus the
 * directory sync it leaves to the Env). A crash at any point leaves CURRENT naming either the old
 * or the new MANIFEST, both complete and synced: the caller syncs the new MANIFEST and its
 * directory entry first. readCurrentFile() treats the content as untrusted.
 * Not here: which MANIFEST to name (version-set.ts); the temp-file dance itself (src/fs/atomic-write.ts).
 */
import { CorruptionError } from '../errors.js';
import type { FileSystem } from '../fs/file-system.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { currentFileName, manifestBaseName, parseFileName, tempFileName } from './file-names.js';

/** A CURRENT longer than this is not ours (`MANIFEST-` + 16 digits + newline is 26 bytes). */
const MAX_CURRENT_SIZE = 64;

const encoder = new TextEncoder();

/** Points CURRENT at MANIFEST-<manifestNumber>, durably. Rejects with the fs error; CURRENT is then old or new. */
export async function setCurrentFile(fs: FileSystem, dir: string, manifestNumber: number): Promise<void> {
  await writeFileAtomic(fs, currentFileName(dir), encoder.encode(`${manifestBaseName(manifestNumber)}\n`),
    { tempPath: tempFileName(dir, manifestNumber) });
}

/**
 * The MANIFEST number CURRENT names. A missing CURRENT rejects with the fs's IOError (ENOENT,
 * see isNotFound): the caller decides whether that means "no database here". Malformed content
 * is a CorruptionError naming CURRENT.
 */
export async function readCurrentFile(fs: FileSystem, dir: string): Promise<number> {
  const path = currentFileName(dir);
  const data = await fs.readFile(path);
  if (data.length === 0) throw new CorruptionError(path, 0, 'CURRENT is empty');
  if (data.length > MAX_CURRENT_SIZE) throw new CorruptionError(path, 0, `CURRENT holds ${data.length} bytes, more than a MANIFEST name`);
  if (data[data.length - 1] !== 0x0a) throw new CorruptionError(path, data.length - 1, 'CURRENT does not end with a newline');
  let name = '';
  for (let i = 0; i < data.length - 1; i++) {
    const c = data[i]!;
    if (c < 0x21 || c > 0x7e) throw new CorruptionError(path, i, `CURRENT holds a non-printable byte 0x${c.toString(16)}`);
    name += String.fromCharCode(c);
  }
  const parsed = parseFileName(name);
  if (parsed?.type !== 'manifest') throw new CorruptionError(path, 0, `CURRENT names '${name}', which is not a MANIFEST`);
  return parsed.number;
}
