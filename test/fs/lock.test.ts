/**
 * The LOCK protocol of NodeFileSystem (src/fs/node-lock.ts) against real processes: children load
 * the compiled dist/src/fs/node-fs.js (tests run after `npm run build`), take and hold locks on
 * command, and report over stdout.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { LockedError } from '../../src/errors.js';
import { NodeFileSystem } from '../../src/fs/node-fs.js';
import {
  GARBAGE_GRACE_MS, currentOwner, formatLockContent, isOwnerAlive, parseLockContent, type LockOwner,
} from '../../src/fs/node-lock.js';
import { tempDir } from '../support/tmpdir.js';

const nfs = new NodeFileSystem();
const DIST_NODE_FS = fileURLToPath(new URL('../../dist/src/fs/node-fs.js', import.meta.url));
const DIST_NODE_LOCK = fileURLToPath(new URL('../../dist/src/fs/node-lock.js', import.meta.url));
/** Above this machine's pid_max (and Linux's hard limit of 2^22): never a live process. */
const DEAD_PID = 2 ** 22 - 1;

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

function staleOwner(over: Partial<LockOwner> = {}): LockOwner {
  return { ...currentOwner(), pid: DEAD_PID, ...over };
}

function readOwner(p: string): LockOwner | undefined {
  return parseLockContent(fs.readFileSync(p, 'latin1'));
}

/** Sets a file's mtime this many ms into the past. */
function age(p: string, ms: number): void {
  const t = (Date.now() - ms) / 1000;
  fs.utimesSync(p, t, t);
}

// A child that answers commands on stdin, one line each: `lock <startAtMs>` (busy-waits until then, so
// several children race for real), `release`. Replies: ready | won | locked <msg> | error <msg> | released.
const CHILD_SCRIPT = `
import { NodeFileSystem } from ${JSON.stringify(pathToFileURL(DIST_NODE_FS).href)};
import { formatLockContent, parseLockContent } from ${JSON.stringify(pathToFileURL(DIST_NODE_LOCK).href)};
import { createInterface } from 'node:readline';
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
const lockPath = process.env.LOCK_PATH;
const nfs = new NodeFileSystem();
let held;
console.log('ready');
for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, arg] = line.split(' ');
  if (cmd === 'lock') {
    while (Date.now() < Number(arg)) {}
    try { held = await nfs.lock(lockPath); console.log('won'); }
    catch (e) { console.log((e.code === 'ERR_LOCKED' ? 'locked ' : 'error ') + String(e.message).replace(/\\n/g, ' ')); }
  } else if (cmd === 'release') {
    await held.release(); held = undefined; console.log('released');
  } else if (cmd === 'stress') {
    // Until the deadline: take the lock, prove we are its only holder (an O_EXCL 'holder' file that
    // two simultaneous holders could not both create, and a LOCK still naming us after a moment),
    // then "die": leave a LOCK naming a dead pid.
    const st = { wins: 0, locked: 0, contended: 0, violations: 0, errors: [] };
    const holder = lockPath + '.holder';
    while (Date.now() < Number(arg)) {
      let l;
      try { l = await nfs.lock(lockPath); }
      catch (e) {
        if (e.code !== 'ERR_LOCKED') st.errors.push(e.message);
        else { st.locked++; if (e.message.includes('taken over')) st.contended++; }
        continue;
      }
      st.wins++;
      let mine = true;
      try { fs.closeSync(fs.openSync(holder, 'wx')); } catch { st.violations++; mine = false; }
      // Hold a moment (widens the window for a second holder), then check nobody replaced our LOCK.
      for (const t = Date.now() + 1; Date.now() < t;) {}
      if (parseLockContent(fs.readFileSync(lockPath, 'latin1'))?.pid !== process.pid) st.violations++;
      if (mine) fs.rmSync(holder);
      const dead = { pid: ${DEAD_PID}, start: undefined, boot: undefined, nonce: randomBytes(8).toString('hex') };
      fs.writeFileSync(lockPath + '.stress-' + process.pid, formatLockContent(dead));
      fs.renameSync(lockPath + '.stress-' + process.pid, lockPath);
      await l.release();
    }
    console.log('stress ' + JSON.stringify(st));
  }
}
`;

class Child {
  readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: string[] = [];
  private waiter: ((line: string) => void) | undefined;
  readonly exited: Promise<void>;

  constructor(lockPath: string) {
    this.proc = spawn(process.execPath, ['--input-type=module', '-e', CHILD_SCRIPT], {
      env: { ...process.env, LOCK_PATH: lockPath },
    });
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

  get pid(): number {
    return this.proc.pid!;
  }

  next(): Promise<string> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    return new Promise((resolve) => (this.waiter = resolve));
  }

  send(cmd: string): void {
    this.proc.stdin.write(`${cmd}\n`);
  }

  async kill(): Promise<void> {
    this.proc.kill('SIGKILL');
    await this.exited;
  }
}

const children: Child[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.kill()));
});

async function startChildren(n: number, lockPath: string): Promise<Child[]> {
  if (!fs.existsSync(DIST_NODE_FS)) throw new Error(`${DIST_NODE_FS} is missing: run npm run build first`);
  const cs = Array.from({ length: n }, () => new Child(lockPath));
  children.push(...cs);
  for (const c of cs) expect(await c.next()).toBe('ready');
  return cs;
}

describe('LOCK within one process', () => {
  it('refuses a second lock at once, by any spelling of the path, until release', async () => {
    const dir = await tempDir();
    fs.symlinkSync(dir, `${dir}-link`);
    try {
      const p = join(dir, 'LOCK');
      const first = nfs.lock(p);
      const second = nfs.lock(p); // issued before the first resolves: refused synchronously
      const viaLink = nfs.lock(join(`${dir}-link`, '.', 'LOCK'));
      const l = await first;
      const e = await rejection(second);
      expect(e).toBeInstanceOf(LockedError);
      expect(e.message).toContain(String(process.pid));
      expect(await rejection(viaLink)).toBeInstanceOf(LockedError);
      expect(readOwner(p)?.pid).toBe(process.pid);
      await l.release();
      await l.release(); // idempotent
      expect(fs.existsSync(p)).toBe(false);
      const again = await nfs.lock(join(`${dir}-link`, 'LOCK'));
      expect(again.path).toBe(join(fs.realpathSync(dir), 'LOCK'));
      await again.release();
      expect(fs.readdirSync(dir)).toEqual([]); // no temp files or markers left behind
    } finally {
      fs.unlinkSync(`${dir}-link`);
    }
  });

  it('writes the documented format and treats a LOCK naming this live process as held', async () => {
    const dir = await tempDir();
    const me = currentOwner();
    expect(parseLockContent(formatLockContent(me))).toEqual(me);
    expect(formatLockContent({ pid: 7, start: '99', boot: 'b-1', nonce: '0123456789abcdef' }))
      .toBe('stratadb-lock v1\npid 7\nstart 99\nboot b-1\nnonce 0123456789abcdef\n');
    expect(isOwnerAlive(me)).toBe(true);
    // Another thread (same pid, other registry) or a leftover of ours: never steal from a live pid.
    fs.writeFileSync(join(dir, 'LOCK'), formatLockContent(me));
    const e = await rejection(nfs.lock(join(dir, 'LOCK')));
    expect(e).toBeInstanceOf(LockedError);
    expect(e.message).toContain(`process ${process.pid} (this process)`);
  });

  it('a missing directory is an IOError, not a lock', async () => {
    const dir = await tempDir();
    const e = await rejection(nfs.lock(join(dir, 'nope', 'LOCK')));
    expect((e as { code?: string }).code).toBe('ERR_IO');
    const l = await nfs.lock(join(dir, 'LOCK')); // the failed attempt left no registry entry behind
    await l.release();
  });

  it('release leaves a LOCK that no longer holds our identity', async () => {
    const dir = await tempDir();
    const p = join(dir, 'LOCK');
    const l = await nfs.lock(p);
    const other = formatLockContent(staleOwner({ pid: 1 }));
    fs.writeFileSync(p, other);
    await l.release();
    expect(fs.readFileSync(p, 'latin1')).toBe(other);
  });
});

describe('LOCK takeover of dead owners', () => {
  it('takes over a LOCK whose pid does not exist, or belongs to a finished child', async () => {
    const dir = await tempDir();
    const p = join(dir, 'LOCK');
    fs.writeFileSync(p, formatLockContent(staleOwner()));
    const l = await nfs.lock(p);
    expect(readOwner(p)?.pid).toBe(process.pid);
    await l.release();

    const [c] = await startChildren(1, p);
    const finishedPid = c!.pid;
    await c!.kill();
    fs.writeFileSync(p, formatLockContent(staleOwner({ pid: finishedPid, start: undefined })));
    const l2 = await nfs.lock(p);
    await l2.release();
  });

  it('detects pid reuse by start time, and a reboot by boot id', async () => {
    const dir = await tempDir();
    const p = join(dir, 'LOCK');
    const me = currentOwner();
    // This process's pid is alive, but the recorded start time / boot is someone else's.
    for (const owner of [{ ...me, start: '1' }, { ...me, boot: '00000000-0000-0000-0000-000000000000' }]) {
      expect(isOwnerAlive(owner)).toBe(false);
      fs.writeFileSync(p, formatLockContent(owner));
      const l = await nfs.lock(p);
      expect(readOwner(p)?.nonce).not.toBe(owner.nonce);
      await l.release();
    }
  });

  it('treats garbage or an empty LOCK as held while young and stale once old', async () => {
    const dir = await tempDir();
    const p = join(dir, 'LOCK');
    for (const junk of ['', 'garbage\x00\xff', 'stratadb-lock v1\npid 12\n']) {
      fs.writeFileSync(p, junk, 'latin1');
      const e = await rejection(nfs.lock(p));
      expect(e).toBeInstanceOf(LockedError);
      expect(e.message).toContain('no readable owner');
      age(p, GARBAGE_GRACE_MS + 5000);
      const l = await nfs.lock(p);
      expect(readOwner(p)?.pid).toBe(process.pid);
      await l.release();
    }
  });

  it('passes a takeover on when the process holding the takeover marker died', async () => {
    const dir = await tempDir();
    const p = join(dir, 'LOCK');
    const stale = staleOwner();
    fs.writeFileSync(p, formatLockContent(stale));
    // A taker that died after creating its marker, and one that died before writing it (old garbage).
    fs.writeFileSync(`${p}.takeover-${stale.nonce}-0`, formatLockContent(staleOwner()));
    fs.writeFileSync(`${p}.takeover-${stale.nonce}-1`, '');
    age(`${p}.takeover-${stale.nonce}-1`, GARBAGE_GRACE_MS + 5000);
    fs.writeFileSync(`${p}.tmp-${DEAD_PID}-0123456789abcdef`, 'x');
    const l = await nfs.lock(p);
    expect(readOwner(p)?.pid).toBe(process.pid);
    expect(fs.readdirSync(dir)).toEqual(['LOCK']); // the dead takers' litter is gone
    await l.release();
  });

  it('refuses while a live process holds the takeover marker', async () => {
    const dir = await tempDir();
    const p = join(dir, 'LOCK');
    const stale = staleOwner();
    fs.writeFileSync(p, formatLockContent(stale));
    fs.writeFileSync(`${p}.takeover-${stale.nonce}-0`, formatLockContent(currentOwner()));
    const e = await rejection(nfs.lock(p));
    expect(e).toBeInstanceOf(LockedError);
    expect(e.message).toContain(`being taken over by process ${process.pid}`);
    expect(readOwner(p)?.nonce).toBe(stale.nonce);
  });
});

describe('LOCK across processes', () => {
  it('a child holding the lock refuses the parent; after SIGKILL the parent takes it over', async () => {
    const dir = await tempDir();
    const p = join(dir, 'LOCK');
    const [c] = await startChildren(1, p);
    c!.send('lock 0');
    expect(await c!.next()).toBe('won');
    const e = await rejection(nfs.lock(p));
    expect(e).toBeInstanceOf(LockedError);
    expect(e.message).toContain(`process ${c!.pid}`);
    await c!.kill();
    const l = await nfs.lock(p);
    expect(readOwner(p)?.pid).toBe(process.pid);
    await l.release();
  });

  it('many children racing to take over one stale lock: exactly one wins, every round', async () => {
    const dir = await tempDir();
    const p = join(dir, 'LOCK');
    const cs = await startChildren(4, p);
    for (let round = 0; round < 6; round++) {
      // Alternate a dead owner and old garbage: both generation-key kinds.
      if (round % 2 === 0) {
        fs.writeFileSync(p, formatLockContent(staleOwner()));
      } else {
        fs.writeFileSync(p, `junk ${round}`);
        age(p, GARBAGE_GRACE_MS + 5000);
      }
      const startAt = Date.now() + 50;
      for (const c of cs) c.send(`lock ${startAt}`);
      const replies = await Promise.all(cs.map((c) => c.next()));
      const winners = cs.filter((_, i) => replies[i] === 'won');
      expect(winners.length, replies.join(' | ')).toBe(1);
      for (const r of replies) expect(r === 'won' || r.startsWith('locked '), r).toBe(true);
      expect(readOwner(p)?.pid).toBe(winners[0]!.pid);
      winners[0]!.send('release');
      expect(await winners[0]!.next()).toBe('released');
      expect(fs.readdirSync(dir)).toEqual([]);
    }
  });

  it('stress: children repeatedly take over each other\'s stale locks, never two holders at once', async () => {
    const dir = await tempDir();
    const p = join(dir, 'LOCK');
    const cs = await startChildren(4, p);
    // LOCK_STRESS_MS=60000 turns this into a soak run.
    const until = Date.now() + Number(process.env['LOCK_STRESS_MS'] ?? 1500);
    for (const c of cs) c.send(`stress ${until}`);
    const stats = (await Promise.all(cs.map((c) => c.next()))).map((line) => {
      expect(line.startsWith('stress '), line).toBe(true);
      return JSON.parse(line.slice(7)) as { wins: number; locked: number; contended: number; violations: number; errors: string[] };
    });
    const total = (k: 'wins' | 'locked' | 'contended' | 'violations'): number => stats.reduce((n, s) => n + s[k], 0);
    console.log(`lock stress: ${total('wins')} takeovers, ${total('locked')} refusals, ` +
      `${total('contended')} met a live taker, ${total('violations')} violations`);
    expect(stats.flatMap((s) => s.errors)).toEqual([]);
    expect(total('violations')).toBe(0);
    expect(total('wins')).toBeGreaterThan(20);
  });
});
