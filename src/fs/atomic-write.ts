/**
 * Replacing a file all at once: fill a temp file, fsync it, rename it over the target, fsync the
 * target's directory (LevelDB's SetCurrentFile, plus the directory sync it leaves to the Env). A reader
 * sees the old file or the complete new one, never a part; after a crash, with the default
 * durability, the target is the old file or the complete new one too.
 * Used for CURRENT, OPTIONS files, backup metadata and the tables a backup or restore copies.
 * Contract: the temp path is the caller's (each format names its own temp files, and its sweep removes
 * leftovers) and lies in the target's directory, so the rename is one directory's atomic replace.
 * On any failure before the rename completes, the temp file is removed (best effort) and the error
 * rethrown; the target is then untouched. A failed directory sync rejects with the rename done.
 * Not here: files written in place and synced (WAL, MANIFEST, tables), the in-progress markers.
 */
import * as path from 'node:path';
import type { FileSystem, WritableFile } from './file-system.js';

export interface AtomicWriteOptions {
  /** The temp file, in the target's directory. */
  tempPath: string;
  /**
   * fsync the temp file before the rename (default true). false only for files that are information,
   * not state (OPTIONS): without it a crash may leave the new name with missing bytes.
   */
  syncFile?: boolean;
  /**
   * fsync the target's directory after the rename (default true). false when the caller syncs that
   * directory itself, once for a batch of files, before anything depends on them.
   */
  syncDir?: boolean;
}

/**
 * Replaces `target` with the bytes `content` appends (or the bytes given), atomically and, by default,
 * durably (see the header). `content` may throw: the temp file is then removed and the target untouched.
 */
export async function writeFileAtomic(fs: FileSystem, target: string,
  content: Uint8Array | ((file: WritableFile) => Promise<void> | void), options: AtomicWriteOptions): Promise<void> {
  const tmp = options.tempPath;
  try {
    const file = await fs.openWritable(tmp);
    try {
      if (typeof content === 'function') await content(file);
      else file.append(content);
      if (options.syncFile !== false) await file.sync();
    } finally {
      await file.close();
    }
    await fs.rename(tmp, target);
  } catch (e) {
    // Best effort: a leftover temp file is harmless (each format's sweep removes its own).
    await fs.remove(tmp).catch(() => undefined);
    throw e;
  }
  if (options.syncDir !== false) await fs.syncDir(path.dirname(target));
}
