/**
 * How the key-value commands open a database: read-only for get/scan/stats/check (no LOCK taken,
 * so they run beside a live process, and they can never change the files they inspect), read-write
 * for put/delete/compact/rotate-key (ERR_LOCKED when another process holds the database). The
 * database is always closed, also when the command fails, so a put's WAL record is synced and the
 * LOCK released. An encrypted database opens with the key options (tools/key-options.ts):
 * read-only opens also read plaintext files (a database half-way through being encrypted).
 * A DIR that holds no database is refused first, in plain words (tools/db-dir.ts).
 * Not here: printing (the commands), turning errors into exit codes (tools/program.ts).
 */
import { DB } from '../src/index.js';
import { encryptionOption, type KeyOptions } from './key-options.js';
import { checkDatabaseDir } from './db-dir.js';

export async function withReadOnlyDb<T>(dir: string, fn: (db: DB) => Promise<T>, keys: KeyOptions = {}): Promise<T> {
  await checkDatabaseDir(dir);
  const db = await DB.open(dir, { readOnly: true, ...encryptionOption(keys, true) });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** createIfMissing only when asked (a typo in DIR must not create an empty database). */
export async function withWritableDb<T>(dir: string, createIfMissing: boolean, fn: (db: DB) => Promise<T>, keys: KeyOptions = {}): Promise<T> {
  await checkDatabaseDir(dir, { createIfMissing });
  const db = await DB.open(dir, { createIfMissing, ...encryptionOption(keys, false) });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}
