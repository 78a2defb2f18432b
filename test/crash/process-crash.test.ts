/**
 * Crash test with real processes: a child commits writes from several concurrent writers (synced,
 * unsynced, or both), reporting each acknowledged write; the parent SIGKILLs it at a random moment,
 * reopens the database and checks that every acknowledged write is present with its value, that
 * each writer's keys form a gap-free prefix (writes are sequential per writer), and that batches
 * are atomic. A process crash keeps what reached the OS, so unsynced writes count too. The same
 * holds for an encrypted database (the child gets its key by environment), whose files after the
 * kills hold no written key in plaintext.
 * The child is the compiled dist/test/support/crash-writer.js (npm test builds first).
 */
import { describe, expect, it } from 'vitest';
import { fork } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DB, staticKeyProvider } from '../../src/index.js';
import { tempDir } from '../support/tmpdir.js';
import { makeRng, testSeed } from '../support/rng.js';
import { valueFor } from '../support/crash-values.js';

const CHILD = fileURLToPath(new URL('../../dist/test/support/crash-writer.js', import.meta.url));

interface Ack { w: number; i: number }

async function runOnce(dir: string, seed: number, mode: string, killAfterMs: number, writers: number, keyHex?: string): Promise<Map<number, number>> {
  const child = fork(CHILD, [dir, String(seed), String(writers), mode, String(32 * 1024)], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    ...(keyHex ? { env: { ...process.env, STRATA_CRASH_KEY: keyHex } } : {}),
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const acked = new Map<number, number>();
  let childError: string | undefined;
  await new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    child.on('message', (m: { ready?: boolean; w?: number; i?: number; error?: string }) => {
      if (m.ready) {
        timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      } else if (m.error) {
        childError = m.error;
      } else if (m.w !== undefined && m.i !== undefined) {
        const prev = acked.get(m.w) ?? -1;
        if (m.i > prev) acked.set(m.w, m.i);
      }
    });
    child.on('exit', () => { if (timer) clearTimeout(timer); resolve(); });
    child.on('error', reject);
  });
  if (childError) throw new Error(`child failed: ${childError}\n${stderr}`);
  return acked;
}

async function checkDb(dir: string, acked: Map<number, number>, writers: number, keyHex?: string): Promise<number> {
  const db = await DB.open(dir, keyHex ? { encryption: { keyProvider: staticKeyProvider({ crash: keyHex }, 'crash') } } : {});
  try {
    let total = 0;
    for (let w = 0; w < writers; w++) {
      const keys: string[] = [];
      for await (const k of db.keys({ gte: `w${w}-`, lt: `w${w}.` })) keys.push(k.toString());
      // gap-free prefix
      keys.forEach((k, idx) => expect(k).toBe(`w${w}-${String(idx).padStart(8, '0')}`));
      const max = acked.get(w) ?? -1;
      expect(keys.length).toBeGreaterThanOrEqual(max + 1);
      for (let i = 0; i < keys.length; i++) {
        const v = await db.get(keys[i]!);
        expect(v).toBeDefined();
        expect(v!.equals(valueFor(w, i, v!.length))).toBe(true);
        const companion = await db.get(`c${w}-${String(i).padStart(8, '0')}`);
        if (companion) expect(companion.equals(valueFor(w, i, 7))).toBe(true);
      }
      total += keys.length;
    }
    return total;
  } finally {
    await db.close();
  }
}

describe('process crash (SIGKILL)', () => {
  it.each(['sync', 'nosync', 'mixed'])('every acknowledged write survives (%s), over repeated kills', async (mode) => {
    expect(existsSync(CHILD), `${CHILD} missing: run npm run build`).toBe(true);
    const seed = testSeed();
    const rng = makeRng(seed);
    const dir = await tempDir();
    const writers = 4;
    const allAcked = new Map<number, number>();
    try {
      for (let round = 0; round < 4; round++) {
        const acked = await runOnce(dir, seed + round * 101, mode, 80 + rng.int(400), writers);
        // the child restarts from i = 0 each round, overwriting the same keys with the same values
        for (const [w, i] of acked) allAcked.set(w, Math.max(allAcked.get(w) ?? -1, i));
        const n = await checkDb(dir, acked, writers);
        expect(n).toBeGreaterThan(0);
      }
    } catch (e) {
      (e as Error).message = `SEED=${seed}: ${(e as Error).message}`;
      throw e;
    }
  });

  it('an encrypted database: every acknowledged write survives repeated kills, and no key is on disk in plaintext', async () => {
    expect(existsSync(CHILD), `${CHILD} missing: run npm run build`).toBe(true);
    const seed = testSeed();
    const rng = makeRng(seed);
    const dir = await tempDir();
    const keyHex = randomBytes(32).toString('hex');
    try {
      for (let round = 0; round < 3; round++) {
        const acked = await runOnce(dir, seed + round * 101, 'mixed', 80 + rng.int(400), 4, keyHex);
        expect(await checkDb(dir, acked, 4, keyHex)).toBeGreaterThan(0);
        for (const name of readdirSync(dir)) {
          expect(readFileSync(join(dir, name)).includes(Buffer.from('w0-00000000')), name).toBe(false);
        }
      }
      await expect(DB.open(dir)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    } catch (e) {
      (e as Error).message = `SEED=${seed}: ${(e as Error).message}`;
      throw e;
    }
  });
});
