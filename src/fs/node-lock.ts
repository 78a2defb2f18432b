/**
 * The database LOCK on the real file system (NodeFileSystem.lock). Node has no flock(2), so the lock
 * is a file naming its owner, and an owner that died is detected and taken over (DESIGN.md "Build
 * and runtime facts"). Opens within one process are refused by a process-wide set of real paths.
 *
 * LOCK format (ASCII text, '\n' after every line; the manifest FORMAT.md repeats it):
 *     stratadb-lock v1
 *     pid <decimal process id>
 *     start <process start time: field 22 of /proc/<pid>/stat, clock ticks since boot | ->
 *     boot <contents of /proc/sys/kernel/random/boot_id | ->
 *     nonce <16 lowercase hex digits, random per acquisition>
 * '-' means "unknown on this system" (no /proc): liveness then rests on the pid alone.
 *
 * Protocol (every name below lives in the LOCK's directory, `LOCK` standing for its base name):
 * 1. Write our identity to a private temp file `LOCK.tmp-<pid>-<nonce>`.
 * 2. Create: link(temp, LOCK). link(2) fails with EEXIST when LOCK exists, so this is O_EXCL
 *    creation, and a LOCK is never visible half-written. (File systems without hard links fall back
 *    to open(O_CREAT|O_EXCL) and a write, which has a short empty window: see "garbage" below.)
 * 3. On EEXIST read LOCK. Its owner is alive -> LockedError naming the pid. The owner is dead when
 *    kill(pid, 0) says ESRCH, the pid is a zombie, its start time differs (pid reuse), or the boot
 *    id differs (a reboot). Dead -> 4.
 * 4. Takeover of a stale LOCK whose generation key is K (its nonce; for garbage, its inode and
 *    mtime). Two processes must not both replace it: a plain "rename our temp over LOCK" lets the
 *    later rename silently win while both believe they hold the lock. So the right to replace a LOCK
 *    of generation K belongs to whoever creates the marker `LOCK.takeover-K-0` (link(2), exclusive).
 *    Exactly one process can create that name; it re-reads LOCK, and only if LOCK still has key K
 *    renames its temp over LOCK, then removes the marker. The re-check cannot race: a LOCK of
 *    generation K is replaced only by the holder of K's marker, released only by its (dead) owner,
 *    and new LOCKs are only created where none exists. A loser finding the marker held by a live
 *    process gets LockedError (that process is about to own the lock); one that finds LOCK changed
 *    starts again at 2. Nonces are random, so a generation never comes back, and a late process that
 *    creates an old generation's marker fails its re-check harmlessly.
 *    A taker that dies while holding its marker must not block everyone forever: markers hold their
 *    creator's identity, and a marker whose creator is dead passes the right on to
 *    `LOCK.takeover-K-1`, and so on. Markers and temp files of dead processes are removed after a
 *    successful acquisition.
 * Garbage (a LOCK or marker that does not parse): with link-based creation this is damage (a power
 * cut before the contents reached the disk, a foreign writer), or, on the no-link fallback, a creator
 * between its O_EXCL create and its write, or one that crashed there. Treating garbage as held would
 * block forever with no owner to wait for; treating it as stale at once could steal the fallback's
 * microsecond window. So garbage is stale once it is GARBAGE_GRACE_MS old, measured against the
 * mtime of our own just-written temp file (the same file-system clock, so no clock skew), and held
 * (LockedError, retry later) before that.
 * Limits: a LOCK on a file system shared by different hosts or pid namespaces cannot be checked
 * (the pid means nothing there); do not share a database directory that way.
 * release() removes LOCK only if it still holds our nonce. Threads of one process share a pid but
 * not the registry: a second thread's lock() sees a live owner (us) and gets LockedError.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { IOError, LockedError } from '../errors.js';
import type { FileLock } from './file-system.js';

const MAGIC_LINE = 'stratadb-lock v1';
/** An unparseable LOCK or marker younger than this may be one being written (no-link fallback). */
export const GARBAGE_GRACE_MS = 2000;
/** Bounds on retries: each round needs another process to change LOCK or die in between. */
const MAX_ROUNDS = 16;
const MAX_MARKERS = 16;
/** A LOCK file is tiny; never read more of a damaged one. */
const MAX_LOCK_BYTES = 4096;
const LINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

export interface LockOwner {
  pid: number;
  /** /proc start time in clock ticks, as a decimal string; undefined without /proc. */
  start: string | undefined;
  boot: string | undefined;
  nonce: string;
}

/** What a LOCK (or marker) file holds: a parsed owner, or garbage with its age reference. */
interface LockContent {
  key: string;
  owner: LockOwner | undefined;
  mtimeMs: number;
}

const REGISTRY_KEY = Symbol.for('stratadb.fs.lockRegistry');

/** Real paths locked by this thread; on globalThis so two copies of this module share it. */
function registry(): Set<string> {
  const g = globalThis as { [REGISTRY_KEY]?: Set<string> };
  return (g[REGISTRY_KEY] ??= new Set<string>());
}

export function formatLockContent(o: LockOwner): string {
  return `${MAGIC_LINE}\npid ${o.pid}\nstart ${o.start ?? '-'}\nboot ${o.boot ?? '-'}\nnonce ${o.nonce}\n`;
}

/** Parses LOCK text; undefined when it is not exactly the v1 format. */
export function parseLockContent(text: string): LockOwner | undefined {
  const m = /^stratadb-lock v1\npid ([1-9][0-9]{0,9})\nstart (-|[0-9]{1,20})\nboot (-|[0-9a-f-]{1,64})\nnonce ([0-9a-f]{16})\n$/
    .exec(text);
  if (!m) return undefined;
  return {
    pid: Number(m[1]),
    start: m[2] === '-' ? undefined : m[2],
    boot: m[3] === '-' ? undefined : m[3],
    nonce: m[4]!,
  };
}

let cachedBoot: string | undefined | null = null;
function bootId(): string | undefined {
  if (cachedBoot === null) {
    try {
      cachedBoot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
    } catch {
      cachedBoot = undefined;
    }
  }
  return cachedBoot;
}

let procMounted: boolean | undefined;
function hasProc(): boolean {
  return (procMounted ??= fs.existsSync('/proc/self/stat'));
}

/** State letter and start time of pid from /proc, or undefined if there is no such process. */
function procStat(pid: number): { state: string; start: string } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Field 2 is "(comm)" and comm may contain spaces and ')': fields resume after the LAST ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = rest[0];
  const start = rest[19]; // field 22; rest[0] is field 3
  if (state === undefined || start === undefined) return undefined;
  return { state, start };
}

/** This process's identity with a fresh nonce. */
export function currentOwner(): LockOwner {
  return {
    pid: process.pid,
    start: hasProc() ? procStat(process.pid)?.start : undefined,
    boot: bootId(),
    nonce: randomBytes(8).toString('hex'),
  };
}

/** Whether the owner recorded in a LOCK may still be running. */
export function isOwnerAlive(o: LockOwner): boolean {
  const boot = bootId();
  if (o.boot !== undefined && boot !== undefined && o.boot !== boot) return false;
  try {
    process.kill(o.pid, 0);
  } catch (e) {
    // EPERM: the pid exists but belongs to another user; only ESRCH proves it gone.
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  if (!hasProc()) return true;
  const st = procStat(o.pid);
  if (st === undefined) return false;
  // A zombie has exited; it only waits for its parent to reap it.
  if (st.state === 'Z' || st.state === 'X') return false;
  return o.start === undefined || o.start === st.start;
}

function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

function ioError(op: string, p: string, e: unknown): IOError {
  return new IOError(`lock: ${op} failed for ${p}: ${e instanceof Error ? e.message : String(e)}`, {
    cause: e, path: p,
  });
}

function lockedError(p: string, pid: number, what = 'is locked by'): LockedError {
  const self = pid === process.pid ? ' (this process)' : '';
  return new LockedError(`${p} ${what} process ${pid}${self}`);
}

/** Reads a LOCK or marker; undefined if it does not exist. */
function readLockFile(p: string): LockContent | undefined {
  let fd: number;
  try {
    fd = fs.openSync(p, 'r');
  } catch (e) {
    if (errCode(e) === 'ENOENT') return undefined;
    throw ioError('open', p, e);
  }
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    const buf = Buffer.alloc(Math.min(MAX_LOCK_BYTES, Number(st.size)));
    const n = buf.length === 0 ? 0 : fs.readSync(fd, buf, 0, buf.length, 0);
    const owner = parseLockContent(buf.toString('latin1', 0, n));
    // A garbage file has no nonce; its inode and mtime name this particular instance of garbage.
    const key = owner ? owner.nonce : `g${st.ino}.${st.mtimeNs}`;
    return { key, owner, mtimeMs: Number(st.mtimeMs) };
  } catch (e) {
    throw ioError('read', p, e);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Creates `target` holding our identity iff it does not exist; false on EEXIST.
 * link(2) where the file system has it (never visible half-written), else O_EXCL + write.
 */
function createExclusive(tmp: string, target: string, content: string): boolean {
  try {
    fs.linkSync(tmp, target);
    return true;
  } catch (e) {
    if (errCode(e) === 'EEXIST') return false;
    if (!LINK_UNSUPPORTED.has(errCode(e) ?? '')) throw ioError('link', target, e);
  }
  let fd: number;
  try {
    fd = fs.openSync(target, 'wx', 0o644);
  } catch (e) {
    if (errCode(e) === 'EEXIST') return false;
    throw ioError('create', target, e);
  }
  try {
    fs.writeSync(fd, content);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(target, { force: true });
    throw ioError('write', target, e);
  }
  fs.closeSync(fd);
  return true;
}

class Acquirer {
  readonly me = currentOwner();
  readonly content = formatLockContent(this.me);
  readonly tmp: string;
  /** mtime of our temp file: "now" on the file system's clock, for garbage ages. */
  nowMs = 0;

  constructor(readonly lockPath: string) {
    this.tmp = `${lockPath}.tmp-${this.me.pid}-${this.me.nonce}`;
  }

  run(): void {
    try {
      fs.writeFileSync(this.tmp, this.content, { flag: 'wx', mode: 0o644 });
      this.nowMs = fs.statSync(this.tmp).mtimeMs;
    } catch (e) {
      throw ioError('write', this.tmp, e);
    }
    try {
      for (let round = 0; round < MAX_ROUNDS; round++) {
        if (createExclusive(this.tmp, this.lockPath, this.content)) return;
        const seen = readLockFile(this.lockPath);
        if (seen === undefined) continue; // released meanwhile: try to create again
        this.refuseIfHeld(seen, this.lockPath);
        if (this.takeOver(seen.key)) return;
      }
      throw new LockedError(`${this.lockPath}: gave up after ${MAX_ROUNDS} rounds; the lock keeps changing hands`);
    } finally {
      fs.rmSync(this.tmp, { force: true });
    }
  }

  /** Throws LockedError unless the file's writer is dead (or it is old garbage). */
  private refuseIfHeld(c: LockContent, p: string, what?: string): void {
    if (c.owner === undefined) {
      if (this.nowMs - c.mtimeMs < GARBAGE_GRACE_MS) {
        throw new LockedError(`${p} has no readable owner yet (being created, or damaged); retry later`);
      }
      return;
    }
    if (isOwnerAlive(c.owner)) throw lockedError(this.lockPath, c.owner.pid, what);
  }

  /** Step 4 of the protocol; true if LOCK is now ours, false if it changed under us. */
  private takeOver(key: string): boolean {
    let marker: string | undefined;
    for (let k = 0; k < MAX_MARKERS && marker === undefined; k++) {
      const name = `${this.lockPath}.takeover-${key}-${k}`;
      if (createExclusive(this.tmp, name, this.content)) {
        marker = name;
        break;
      }
      const holder = readLockFile(name);
      if (holder === undefined) return false; // finished or abandoned meanwhile: look again
      this.refuseIfHeld(holder, name, 'is being taken over by');
    }
    if (marker === undefined) {
      throw new LockedError(`${this.lockPath}: ${MAX_MARKERS} takeover attempts died; remove ${this.lockPath}.takeover-* by hand`);
    }
    try {
      const now = readLockFile(this.lockPath);
      if (now === undefined || now.key !== key) return false;
      try {
        fs.renameSync(this.tmp, this.lockPath);
      } catch (e) {
        throw ioError('rename', this.lockPath, e);
      }
      this.removeLitter();
      return true;
    } finally {
      fs.rmSync(marker, { force: true });
    }
  }

  /** Best effort: markers of finished generations and temp files of dead processes. */
  private removeLitter(): void {
    const dir = path.dirname(this.lockPath);
    const base = path.basename(this.lockPath);
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      let dead = false;
      if (name.startsWith(`${base}.takeover-`)) {
        // LOCK now has our fresh nonce, so every marker names a finished generation.
        dead = !name.startsWith(`${base}.takeover-${this.me.nonce}-`);
      } else if (name.startsWith(`${base}.tmp-`)) {
        const pid = Number(name.slice(base.length + 5).split('-')[0]);
        dead = Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !pidExists(pid);
      }
      if (dead) fs.rmSync(path.join(dir, name), { force: true });
    }
  }
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errCode(e) !== 'ESRCH';
  }
}

/** NodeFileSystem.lock: see the protocol above. */
export async function acquireLock(p: string): Promise<FileLock> {
  const abs = path.resolve(p);
  let lockPath: string;
  try {
    lockPath = path.join(fs.realpathSync(path.dirname(abs)), path.basename(abs));
  } catch (e) {
    throw ioError('realpath', path.dirname(abs), e);
  }
  const held = registry();
  // Checked and claimed synchronously, so a concurrent second open in this thread fails at once.
  if (held.has(lockPath)) throw lockedError(lockPath, process.pid, 'is already locked by another open in');
  held.add(lockPath);
  let acq: Acquirer;
  try {
    acq = new Acquirer(lockPath);
    acq.run();
  } catch (e) {
    held.delete(lockPath);
    throw e;
  }
  const nonce = acq.me.nonce;
  let released = false;
  return {
    path: lockPath,
    release: async () => {
      if (released) return;
      released = true;
      try {
        const cur = readLockFile(lockPath);
        if (cur?.owner?.nonce === nonce) fs.unlinkSync(lockPath);
      } catch (e) {
        throw e instanceof IOError ? e : ioError('remove', lockPath, e);
      } finally {
        held.delete(lockPath);
      }
    },
  };
}
