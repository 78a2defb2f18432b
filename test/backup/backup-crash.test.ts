/**
 * Crash (SIGKILL) during a backup, with real processes on the real file system: a child writes
 * and takes backups in a loop (test/support/backup-writer.ts, compiled to dist/ by npm test); the
 * parent kills it, usually in the middle of a backup's copy. Afterwards: every backup the child
 * reported complete is listed, verifies and restores to a consistent database (each writer's keys a
 * gap-free prefix with the right values, batches atomic, the recorded sequence); the partial
 * backup is not listed; and the next backup (taken by the parent) removes the leftovers: no `*.tmp`
 * and no shared table that no backup lists.
 */
import { fork } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BackupEngine, DB, NodeFileSystem } from '../../src/index.js';
import { decodeBackupMeta, sharedName } from '../../src/backup/backup-meta.js';
import { valueFor } from '../support/crash-values.js';
import { backupValueLength } from '../support/backup-values.js';
import { makeRng, testSeed } from '../support/rng.js';
import { tempDir } from '../support/tmpdir.js';

const CHILD = fileURLToPath(new URL('../../dist/test/support/backup-writer.js', import.meta.url));

interface ChildRun { completed: Map<number, number>; progressCalls: number }

/** Runs the child until it is killed: at the `killAtProgress`-th progress call, or after `killAfterMs`. */
async function runChild(dir: string, backupDir: string, kill: { atProgress?: number; afterMs?: number }): Promise<ChildRun> {
  const child = fork(CHILD, [dir, backupDir], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const completed = new Map<number, number>();
  let progressCalls = 0;
  let childError: string | undefined;
  await new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    child.on('message', (m: { ready?: boolean; progress?: boolean; backup?: number; sequence?: number; error?: string }) => {
      if (m.error) childError = m.error;
      else if (m.backup !== undefined) {
        completed.set(m.backup, m.sequence!);
        // The delayed kill starts once a backup exists, so there is always one to check.
        if (kill.afterMs !== undefined && !timer) timer = setTimeout(() => child.kill('SIGKILL'), kill.afterMs);
      } else if (m.progress && completed.size > 0 && ++progressCalls === kill.atProgress) child.kill('SIGKILL');
    });
    child.on('exit', () => { if (timer) clearTimeout(timer); resolve(); });
    child.on('error', reject);
  });
  if (childError) throw new Error(`child failed: ${childError}\n${stderr}`);
  return { completed, progressCalls };
}

/** A restored database is one consistent state: per writer a gap-free prefix, values exact, batches whole. */
async function checkRestored(dir: string, sequence: number): Promise<number> {
  const db = await DB.open(dir);
  try {
    expect(db.stats().sequence).toBe(sequence);
    let keys = 0;
    for (let w = 0; w < 2; w++) {
      let i = 0;
      for await (const [k, v] of db.iterator({ gte: `w${w}-`, lt: `w${w}.` })) {
        expect(k.toString()).toBe(`w${w}-${String(i).padStart(8, '0')}`);
        expect(v.equals(valueFor(w, i, backupValueLength(i)))).toBe(true);
        const companion = await db.get(`c${w}-${String(i).padStart(8, '0')}`);
        if (i % 3 === 0) expect(companion).toBeUndefined();
        else expect(companion?.equals(valueFor(w, i, 7)), `companion of w${w}-${i}`).toBe(true);
        i++;
      }
      keys += i;
    }
    return keys;
  } finally {
    await db.close();
  }
}

function leftovers(backupDir: string): string[] {
  return ['shared', 'meta'].flatMap((d) => readdirSync(path.join(backupDir, d)).filter((n) => n.endsWith('.tmp')).map((n) => `${d}/${n}`));
}

async function unreferenced(backupDir: string): Promise<string[]> {
  const fs = new NodeFileSystem();
  const used = new Set<string>();
  for (const id of readdirSync(path.join(backupDir, 'meta')).filter((n) => /^\d+$/.test(n))) {
    const file = path.join(backupDir, 'meta', id);
    for (const f of decodeBackupMeta(await fs.readFile(file), file).files) used.add(sharedName(f.file));
  }
  return readdirSync(path.join(backupDir, 'shared')).map((n) => `shared/${n}`).filter((n) => !used.has(n));
}

describe('crash during backup (SIGKILL)', () => {
  it('earlier backups verify and restore, the partial one is not listed, the next backup cleans up', async () => {
    expect(existsSync(CHILD), `${CHILD} missing: run npm run build`).toBe(true);
    const seed = testSeed();
    const rng = makeRng(seed);
    const root = await tempDir('strata-bkcrash-');
    const dir = path.join(root, 'db');
    const backupDir = path.join(root, 'bk');
    const allCompleted = new Map<number, number>();
    try {
      for (let round = 0; round < 2; round++) {
        // Round 0 dies at a progress call (inside a backup's copy), round 1 at a random time.
        const run = await runChild(dir, backupDir, round === 0 ? { atProgress: 1 + rng.int(4) } : { afterMs: rng.int(300) });
        for (const [id, s] of run.completed) allCompleted.set(id, s);
        const engine = await BackupEngine.open(backupDir);
        const listed = await engine.list();
        const ids = listed.map((b) => b.id);
        // Every completed backup is listed with its sequence; at most one more (completed, then killed
        // before it could report) and never a partial one (each listed backup verifies below).
        for (const [id, s] of allCompleted) expect(listed.find((b) => b.id === id)?.sequence, `backup ${id}`).toBe(s);
        expect(ids.filter((id) => !allCompleted.has(id)).length).toBeLessThanOrEqual(1);
        for (const id of ids) await engine.verify(id);
        // Restore the newest listed (every listed one verified above).
        const newest = listed[listed.length - 1]!;
        const target = path.join(root, `restore-${round}`);
        await engine.restore(newest.id, target);
        expect(await checkRestored(target, newest.sequence)).toBeGreaterThan(0);
        // The parent's next backup removes what the killed one left behind.
        const db = await DB.open(dir);
        const next = await db.backup(backupDir);
        await db.close();
        expect(leftovers(backupDir)).toEqual([]);
        expect(await unreferenced(backupDir)).toEqual([]);
        expect(next.id).toBeGreaterThan(Math.max(...ids));
        allCompleted.set(next.id, next.sequence);
      }
    } catch (e) {
      (e as Error).message = `SEED=${seed}: ${(e as Error).message}`;
      throw e;
    }
  });
});
