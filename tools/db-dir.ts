/**
 * What the command line says about a DIR argument before the engine sees it, and how it rewords the
 * engine's messages for a person at a shell. The engine speaks to programmers ("createIfMissing is
 * false", a raw ENOENT from the MANIFEST reader, ENOTDIR from the lock file); a CLI user gave a path,
 * so the answer names what that path is: missing, a file, an empty directory, a directory with no
 * database in it.
 * Contract: checkDatabaseDir() throws InvalidArgumentError (exit 2) or returns; it reads, never writes.
 * plainMessage() maps only the engine's option-name wording; every other message passes unchanged.
 * Not here: opening (tools/open-db.ts), exit codes (tools/program.ts).
 */
import { readdir, stat } from 'node:fs/promises';
import { InvalidArgumentError } from '../src/index.js';

/** The name of the file that makes a directory a database (src/manifest/FORMAT.md "CURRENT"). */
const CURRENT = 'CURRENT';

function errnoCode(e: unknown): unknown {
  return (e as { code?: unknown } | null)?.code;
}

/**
 * Refuses a DIR that holds no database, saying what it is instead. With `createIfMissing` a missing
 * path or any directory is accepted (the open creates the database there); a file never is.
 */
export async function checkDatabaseDir(dir: string, options: { createIfMissing?: boolean } = {}): Promise<void> {
  const create = options.createIfMissing === true;
  let isDir: boolean;
  try {
    isDir = (await stat(dir)).isDirectory();
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT') {
      if (create) return;
      throw new InvalidArgumentError(`${dir} does not exist`);
    }
    // A path through a file ("db.txt/sub") is the same mistake as naming the file itself.
    if (code === 'ENOTDIR') throw new InvalidArgumentError(`${dir} is not a database directory (a part of the path is a file)`);
    throw e;
  }
  if (!isDir) throw new InvalidArgumentError(`${dir} is a file, not a database directory`);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    // Unreadable (EACCES): the open reports it with the OS's own words.
    if (errnoCode(e) === 'EACCES' || errnoCode(e) === 'EPERM') return;
    throw e;
  }
  // With createIfMissing the engine creates the database in any directory, as DB.open does (also
  // one a crash left half-created: a LOCK or a WAL, no CURRENT yet).
  if (names.includes(CURRENT) || create) return;
  if (names.length === 0) throw new InvalidArgumentError(`${dir} is an empty directory, not a database`);
  throw new InvalidArgumentError(`${dir} holds no StrataDB database (no ${CURRENT} file)`);
}

/**
 * The engine's messages with option names turned into plain words, e.g. "database X does not exist
 * (createIfMissing is true, readOnly)" -> "database X does not exist (a read-only command never creates
 * one)". The CLI's flags are named where one exists.
 */
export function plainMessage(message: string): string {
  return message
    .replace(/ \(createIfMissing is (?:true|false), readOnly\)| \(readOnly open\)/, ' (a read-only command never creates one)')
    .replace(/ \(createIfMissing is false\)/, ' (put --create-if-missing creates one)')
    .replace(/ \(errorIfExists is set\)/, '')
    .replace(/set encryption\.allowPlaintext to read/, 'give --allow-plaintext to read');
}
