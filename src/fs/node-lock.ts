/**
 * The database LOCK on the real file system (NodeFileSystem.lock): an exclusive kernel lock on the
 * LOCK file, taken through fs-native-extensions' tryLock (DESIGN.md "Build and runtime facts").
 * On Linux that is an open-file-description lock (fcntl F_OFD_SETLK), on macOS flock(2): both belong
 * to the open file, not to the process, so
 * - the kernel drops it when the holder dies, however it dies (SIGKILL, OOM): nothing to take over;
 * - a second open in the same process (another DB.open, a worker thread) conflicts like any other;
 * - it conflicts across pid namespaces: containers sharing a volume see one lock, where a pid could
 *   not be checked from the other namespace.
 * Network file systems: NFSv4 carries the lock to the server; NFSv3 needs the lock manager (lockd);
 * others (SMB/CIFS, FUSE) are untested. A file system that refuses locks (ENOLCK) is ERR_IO.
 *
 * The file keeps one human-readable line naming the holder (`process <pid> on <host> since <ISO time>`),
 * rewritten after each acquisition and only for the ERR_LOCKED message: the lock never depends on it,
 * so failing to write it (a full disk) does not fail the lock. Format: src/manifest/FORMAT.md "LOCK".
 * The LOCK file is never removed: a lock lives on an inode, and unlinking LOCK while a waiter holds
 * the old inode open would let two processes lock two different files. No temp files are ever made.
 * Not here: the in-process MemFileSystem lock (mem-fs.ts).
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { IOError, LockedError } from '../errors.js';
import type { FileLock } from './file-system.js';

interface NativeLocks {
  /** True when granted, false while another open file description holds it; throws on other errors. */
  tryLock(fd: number): boolean;
  unlock(fd: number): void;
}

// A CommonJS native addon without type declarations: loaded through require, typed here.
const native = createRequire(import.meta.url)('fs-native-extensions') as NativeLocks;

/** Owner lines are one short line; never read more of a damaged LOCK. */
const MAX_OWNER_BYTES = 512;

/** The line written into LOCK after acquiring it. */
export function ownerLine(): string {
  // NB: wall-clock time for people reading the message; nothing compares it.
  return `process ${process.pid} on ${hostname()} since ${new Date().toISOString()}\n`;
}

function ioError(op: string, p: string, e: unknown): IOError {
  const detail = e instanceof Error ? e.message : String(e);
  return new IOError(`${op} failed for ${p}: ${detail}`, { cause: e, path: p });
}

function readOwner(fd: number): string | undefined {
  try {
    const buf = Buffer.alloc(MAX_OWNER_BYTES);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString('utf8').split('\n')[0]!.trim();
    return text.length > 0 ? text : undefined;
  } catch {
    return undefined;
  }
}

function writeOwner(fd: number, line: string): void {
  try {
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, line, 0, 'utf8');
  } catch {
    // Best effort (see the header): the kernel lock is held either way.
  }
}

/** Takes the lock at `p`, creating the file if needed. Rejects with LockedError when it is held. */
export async function acquireLock(p: string): Promise<FileLock> {
  let fd: number;
  try {
    fd = fs.openSync(p, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
  } catch (e) {
    throw ioError('open', p, e);
  }
  let granted: boolean;
  try {
    granted = native.tryLock(fd);
  } catch (e) {
    fs.closeSync(fd);
    throw ioError('lock', p, e);
  }
  if (!granted) {
    const owner = readOwner(fd);
    fs.closeSync(fd);
    throw new LockedError(`${p} is locked by ${owner ?? 'another open (owner unknown)'}: ` +
      'another process, or another open in this one, holds the database; close it first, or open with readOnly: true');
  }
  writeOwner(fd, ownerLine());
  let released = false;
  return {
    path: p,
    release: async () => {
      if (released) return;
      released = true;
      // Clear the line while still holding the lock, so a LOCK never names a holder that has gone.
      writeOwner(fd, '');
      fs.closeSync(fd); // closing the last descriptor of the description drops the lock
    },
  };
}
