/**
 * The oracle for a database cloned at a crash point (a process crash, or a power cut keeping some of
 * the unsynced writes): it must open, hold a prefix of the commit log that reaches every write the
 * crash had to keep (acknowledged ones for a process crash, synced ones for a power cut), and, on every
 * other clone, take a write and come back unchanged from a clean reopen. One place for the rule that the
 * power-loss tests and the large-batch crash test both check.
 */
import { Buffer } from 'node:buffer';
import { expect } from 'vitest';
import { DB, type MemFileSystem, type Options } from '../../src/index.js';
import { type CommitLog, diffStates, hex, readAll } from './db-check.js';

/**
 * 'process': a process crash (the OS keeps every write); a number: a power cut keeping that % of the
 * unsynced writes; 'random': a power cut keeping a random subset of them.
 */
export type CrashMode = 'process' | 'random' | number;

export interface CrashClone {
  fs: MemFileSystem;
  mode: CrashMode;
  /** Where the clone was taken (for the failure message). */
  where: string;
  /** Writes acknowledged (in the log) when the clone was taken. */
  acked: number;
  /** The prefix of the log a power cut must keep: up to the last synced acknowledged write. */
  durable: number;
}

/** Opens clone `index` of `dir` and checks it against `log` (see the header); throws with the details. */
export async function checkCrashClone(dir: string, c: CrashClone, log: CommitLog, options: Options, index: number): Promise<void> {
  const what = `clone ${index} (${c.where}, ${c.mode === 'process' ? 'process crash' : `power cut keeping ${c.mode}%`}, ` +
    `${c.acked} acknowledged, ${c.durable} durable)`;
  let db: DB;
  try {
    db = await DB.open(dir, { ...options, fs: c.fs });
  } catch (e) {
    throw new Error(`${what}: open failed: ${(e as Error).message}`, { cause: e });
  }
  const state = await readAll(db);
  const prefixes = log.matchingPrefixes(state);
  const need = c.mode === 'process' ? c.acked : c.durable;
  if (!prefixes.some((p) => p >= need)) {
    const closest = prefixes.length > 0 ? `matches only prefixes ${prefixes.slice(-3).join(', ')}` : 'matches no prefix';
    await db.close();
    throw new Error(`${what}: recovered state ${closest}; needs >= ${need}: ${diffStates(state, log.stateAfter(need))}`);
  }
  // The recovered database is a working one: it takes a write and survives a clean reopen.
  if (index % 2 === 0) {
    const marker = hex(Buffer.from('marker'));
    await db.put('marker', String(index), { sync: true });
    await db.close();
    const re = await DB.open(dir, { ...options, fs: c.fs });
    const again = await readAll(re);
    expect(again.get(marker)).toBe(hex(Buffer.from(String(index))));
    again.delete(marker);
    expect(again, `${what}: state changed across a clean reopen`).toEqual(state);
    await re.close();
  } else {
    await db.close();
  }
}
