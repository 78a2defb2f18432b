/**
 * The LOCK of NodeFileSystem (src/fs/node-lock.ts, a kernel open-file-description lock) against real
 * opens and real processes: children load the compiled dist/src/fs/node-fs.js (tests run after
 * `npm run build`), take and hold the lock on command, and report over stdout. Covers: a second open
 * in this process, a second process, a SIGKILLed holder, a holder in another pid namespace (unshare,
 * skipped with a printed reason where not permitted), and a failed open on a full disk (tmpfs).
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DB } from '../../src/index.js';
import { LockedError } from '../../src/errors.js';
import { NodeFileSystem } from '../../src/fs/node-fs.js';
import { tempDir } from '../support/tmpdir.js';
import { fillDisk, smallTmpfs, tmpfsSupport } from '../support/tmpfs.js';

const nfs = new NodeFileSystem();
const DIST_NODE_FS = fileURLToPath(new URL('../../dist/src/fs/node-fs.js', import.meta.url));

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

// A child answering one command per stdin line: `lock` -> `won` | `locked <msg>` | `error <msg>`;
// `release` -> `released`. It prints `ready <pid as it sees it>` first.
const CHILD_SCRIPT = `
import { NodeFileSystem } from ${JSON.stringify(pathToFileURL(DIST_NODE_FS).href)};
import { createInterface } from 'node:readline';
const nfs = new NodeFileSystem();
let held;
console.log('ready ' + process.pid);
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'lock') {
    try { held = await nfs.lock(process.env.LOCK_PATH); console.log('won'); }
    catch (e) { console.log((e.code === 'ERR_LOCKED' ? 'locked ' : 'error ') + String(e.message).replace(/\\n/g, ' ')); }
  } else if (line === 'release') {
    await held.release(); held = undefined; console.log('released');
  }
}
`;

class Child {
  readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: string[] = [];
  private waiter: ((line: string) => void) | undefined;
  readonly exited: Promise<void>;

  constructor(lockPath: string, wrapper: string[] = []) {
    const argv = [...wrapper, process.execPath, '--input-type=module', '-e', CHILD_SCRIPT];
    this.proc = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, LOCK_PATH: lockPath } });
    let stderr = '';
    this.proc.stderr.on('data', (d) => (stderr += String(d)));
    this.exited = new Promise((resolve) => this.proc.on('exit', () => resolve()));
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      const w = this.waiter;
      this.waiter = undefined;
      if (w) w(line);
      else this.lines.push(line);
    });
    this.proc.on('exit', (code, signal) => {
      const w = this.waiter;
      this.waiter = undefined;
      w?.(`exit ${code ?? signal} ${stderr.trim()}`);
    });
  }

  next(): Promise<string> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    return new Promise((resolve) => (this.waiter = resolve));
  }

  async ask(cmd: string): Promise<string> {
    this.proc.stdin.write(`${cmd}\n`);
    return this.next();
  }

  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    await this.exited;
  }
}

const children: Child[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.kill()));
});

/** Starts a child and returns it with the pid it sees for itself. */
async function startChild(lockPath: string, wrapper: string[] = []): Promise<{ child: Child; pid: number }> {
  if (!fs.existsSync(DIST_NODE_FS)) throw new Error(`${DIST_NODE_FS} is missing: run npm run build first`);
  const child = new Child(lockPath, wrapper);
  children.push(child);
  const line = await child.next();
  expect(line, line).toMatch(/^ready \d+$/);
  return { child, pid: Number(line.slice('ready '.length)) };
}

const UNSHARE = ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child'];
function probeUnshare(): { ok: boolean; reason: string } {
  try {
    execFileSync(UNSHARE[0]!, [...UNSHARE.slice(1), process.execPath, '-e', '0'], { stdio: 'pipe', timeout: 20_000 });
    return { ok: true, reason: '' };
  } catch (e) {
    return { ok: false, reason: `unshare --pid is not permitted here (${String((e as Error).message).split('\n')[0]})` };
  }
}
const unshareSupport = probeUnshare();
if (!unshareSupport.ok) console.log(`pid-namespace lock test skips: ${unshareSupport.reason}`);

describe('LOCK within one process', () => {
  it('refuses a second lock at once, by any spelling of the path, until release', async () => {
    const dir = await tempDir();
    const p = join(dir, 'LOCK');
    fs.symlinkSync(dir, join(dir, 'alias'));
    const l = await nfs.lock(p);
    for (const q of [p, join(dir, '.', 'LOCK'), join(dir, 'alias', 'LOCK')]) {
      const e = await rejection(nfs.lock(q));
      expect(e).toBeInstanceOf(LockedError);
      expect(e.message).toContain(`process ${process.pid} on `);
    }
    await l.release();
    await l.release(); // idempotent
    const again = await nfs.lock(p);
    await again.release();
  });

  it('a second DB.open of the same directory is ERR_LOCKED; a read-only open beside it is allowed', async () => {
    const dir = await tempDir();
    const db = await DB.open(dir);
    await db.put('k', 'v');
    await expect(DB.open(dir)).rejects.toMatchObject({ code: 'ERR_LOCKED' });
    const ro = await DB.open(dir, { readOnly: true });
    await ro.close();
    await db.close();
    const db2 = await DB.open(dir);
    expect((await db2.get('k'))?.toString()).toBe('v');
    await db2.close();
  });

  it('writes one owner line, clears it at release, and never makes another file', async () => {
    const dir = await tempDir();
    const p = join(dir, 'LOCK');
    const l = await nfs.lock(p);
    expect(fs.readFileSync(p, 'utf8')).toMatch(new RegExp(`^process ${process.pid} on \\S+ since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\n$`));
    await rejection(nfs.lock(p));
    expect(fs.readdirSync(dir)).toEqual(['LOCK']);
    await l.release();
    expect(fs.readdirSync(dir)).toEqual(['LOCK']);
    expect(fs.readFileSync(p, 'utf8')).toBe('');
  });

  it('a LOCK left by anyone, with any content, does not block: only a live holder does', async () => {
    const dir = await tempDir();
    const p = join(dir, 'LOCK');
    fs.writeFileSync(p, 'process 1 on some-other-host since 2020-01-01T00:00:00.000Z\n');
    const l = await nfs.lock(p);
    await l.release();
  });

  it('a missing directory is an IOError, not a lock', async () => {
    const dir = await tempDir();
    const e = await rejection(nfs.lock(join(dir, 'missing', 'LOCK')));
    expect(e.code).toBe('ERR_IO');
  });
});

describe('LOCK across processes', () => {
  it('a child holding the lock refuses the parent (naming it); after SIGKILL the parent takes it at once', async () => {
    const dir = await tempDir();
    const p = join(dir, 'LOCK');
    const { child, pid } = await startChild(p);
    expect(await child.ask('lock')).toBe('won');
    const e = await rejection(nfs.lock(p));
    expect(e).toBeInstanceOf(LockedError);
    expect(e.message).toContain(`process ${pid} on `);
    await child.kill();
    const l = await nfs.lock(p);
    await l.release();
    expect(fs.readdirSync(dir)).toEqual(['LOCK']);
  });

  it('the parent holding the lock refuses a child; after release the child takes it', async () => {
    const dir = await tempDir();
    const p = join(dir, 'LOCK');
    const l = await nfs.lock(p);
    const { child } = await startChild(p);
    expect(await child.ask('lock')).toMatch(new RegExp(`^locked .*process ${process.pid} on `));
    await l.release();
    expect(await child.ask('lock')).toBe('won');
    expect(await child.ask('release')).toBe('released');
  });

  it.skipIf(!unshareSupport.ok)('a process in another pid namespace is refused, and refuses us', async () => {
    const dir = await tempDir();
    const p = join(dir, 'LOCK');
    const l = await nfs.lock(p);
    const { child, pid } = await startChild(p, UNSHARE);
    // The child is init of its own namespace: its pids mean nothing here, and ours nothing there.
    expect(pid).toBe(1);
    expect(await child.ask('lock')).toMatch(/^locked /);
    await l.release();
    expect(await child.ask('lock')).toBe('won');
    const e = await rejection(nfs.lock(p));
    expect(e).toBeInstanceOf(LockedError);
    expect(e.message).toContain('process 1 on ');
    expect(await child.ask('release')).toBe('released');
    const again = await nfs.lock(p);
    await again.release();
  });
});

describe('LOCK on a full disk', () => {
  it.skipIf(!tmpfsSupport.ok)('a failed open on a full disk leaves no stray file, and the next open works once there is space', async () => {
    const root = smallTmpfs(256 * 1024);
    const dir = join(root, 'db');
    fs.mkdirSync(dir);
    const filler = fillDisk(root);
    const e = await rejection(DB.open(dir));
    expect(e.code).toBe('ERR_IO');
    // LOCK (and the event log) are the directory's own files; nothing else may be left.
    expect(fs.readdirSync(dir).filter((n) => !['LOCK', 'LOG', 'LOG.old'].includes(n))).toEqual([]);
    fs.rmSync(filler);
    const db = await DB.open(dir);
    await db.put('k', 'v');
    await db.close();
  });
});
