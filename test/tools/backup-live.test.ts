/**
 * `stratadb backup create` beside a live writer: a child process (dist/test/support/crash-writer.js)
 * commits synced batches continuously, with tiny tables so flushes and compactions run during the
 * copies, while the CLI takes backups from its read-only view. Each backup must verify, and once
 * restored hold only what the writer wrote (right values, batches whole), per writer a prefix of its
 * commits that contains every commit acknowledged before that backup started.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DB, type BackupInfo, type Options } from '../../src/index.js';
import { valueFor } from '../support/crash-values.js';
import { withSeed } from '../support/rng.js';
import { tempDir } from '../support/tmpdir.js';
import { runCli } from './cli-helpers.js';

const CHILD = fileURLToPath(new URL('../../dist/test/support/crash-writer.js', import.meta.url));
const WRITERS = 2;
const BACKUPS = 3;
const CHILD_OPTIONS: Options = {
  targetFileSize: 4 * 1024, maxBytesForLevelBase: 8 * 1024, levelMultiplier: 3, numLevels: 4,
  level0CompactionTrigger: 2, compactionExecutor: 'inline',
};

/** The writer's progress: per writer, how many commits it has acknowledged (i is 0-based, in order). */
class Writer {
  readonly acked = new Array<number>(WRITERS).fill(0);
  private waiters: Array<{ total: number; resolve: () => void; reject: (e: Error) => void }> = [];
  private failure: Error | undefined;
  readonly exited: Promise<void>;

  constructor(readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      this.fail(new Error(`writer exited early (code ${code}, signal ${signal})`));
      resolve();
    }));
    child.on('message', (m: { w?: number; i?: number; error?: string }) => {
      if (m.error) this.fail(new Error(`writer failed: ${m.error}`));
      if (m.w === undefined || m.i === undefined) return;
      this.acked[m.w] = Math.max(this.acked[m.w]!, m.i + 1);
      const total = this.total();
      this.waiters = this.waiters.filter((w) => (total >= w.total ? (w.resolve(), false) : true));
    });
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiters) w.reject(this.failure);
    this.waiters = [];
  }

  total(): number { return this.acked.reduce((a, b) => a + b, 0); }

  /** Resolves once `n` more commits than now have been acknowledged. */
  more(n: number): Promise<void> {
    const total = this.total() + n;
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ total, resolve, reject }));
  }
}

/** Every key of a restored backup, checked against what writer w commits as its i-th batch. */
async function checkRestored(dir: string, ackedBefore: number[], info: BackupInfo): Promise<void> {
  const db = await DB.open(dir, { readOnly: true });
  const seen = Array.from({ length: WRITERS }, () => new Set<number>());
  const companions = Array.from({ length: WRITERS }, () => new Set<number>());
  try {
    for await (const [k, v] of db.iterator()) {
      const key = Buffer.from(k).toString();
      const m = /^([wc])(\d+)-(\d{8})$/.exec(key);
      expect(m, `key ${key} was never written`).not.toBeNull();
      const w = Number(m![2]);
      const i = Number(m![3]);
      expect(w).toBeLessThan(WRITERS);
      const expected = valueFor(w, i, m![1] === 'c' ? 7 : v.length);
      expect(Buffer.from(v).equals(expected), `value of ${key}`).toBe(true);
      (m![1] === 'w' ? seen : companions)[w]!.add(i);
    }
  } finally {
    await db.close();
  }
  for (let w = 0; w < WRITERS; w++) {
    const n = seen[w]!.size;
    // Commits of one writer are sequential: the backup holds a prefix of them...
    for (let i = 0; i < n; i++) expect(seen[w]!.has(i), `backup ${info.id}: w${w}-${i} missing below ${n}`).toBe(true);
    // ...that reaches every commit acknowledged before the backup started (each was synced).
    expect(n, `backup ${info.id}: writer ${w}`).toBeGreaterThanOrEqual(ackedBefore[w]!);
    // A companion key exists only with its batch's main key (batches are atomic).
    for (const i of companions[w]!) expect(seen[w]!.has(i), `c${w}-${i} without w${w}-${i}`).toBe(true);
  }
}

describe('stratadb backup create beside a live writer', () => {
  it('backs up from a read-only view while the writer commits; every backup verifies and restores', async () => {
    await withSeed('backup-live', async (rng) => {
      const root = await tempDir('strata-bklive-');
      const dir = path.join(root, 'db');
      const bk = path.join(root, 'bk');
      const child = fork(CHILD, [dir, String(rng.int(1 << 30)), String(WRITERS), 'sync', String(8 * 1024), JSON.stringify(CHILD_OPTIONS)],
        { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      const writer = new Writer(child);
      const infos: BackupInfo[] = [];
      const ackedBefore: number[][] = [];
      try {
        await writer.more(100);
        for (let b = 0; b < BACKUPS; b++) {
          ackedBefore.push([...writer.acked]);
          const before = writer.total();
          const r = await runCli(['backup', 'create', dir, bk, '--json']);
          expect(r.stderr).toBe('');
          expect(r.code).toBe(0);
          infos.push(JSON.parse(r.stdout) as BackupInfo);
          // The writer really was writing during this backup; the next one starts on newer data.
          if (writer.total() === before) await writer.more(1);
          await writer.more(20);
        }
      } finally {
        child.kill('SIGKILL');
        await writer.exited;
      }
      expect(infos.map((i) => i.id)).toEqual([1, 2, 3]);
      for (let b = 1; b < BACKUPS; b++) expect(infos[b]!.sequence).toBeGreaterThan(infos[b - 1]!.sequence);
      const verify = await runCli(['backup', 'verify', bk]);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      for (let b = 0; b < BACKUPS; b++) {
        const target = path.join(root, `restored-${b + 1}`);
        const r = await runCli(['backup', 'restore', bk, String(infos[b]!.id), target]);
        expect(r.code, r.stderr).toBe(0);
        await checkRestored(target, ackedBefore[b]!, infos[b]!);
      }
    });
  }, 30_000);
});
