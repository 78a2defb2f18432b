/**
 * Lost-write torture with real processes: a child (dist/test/support/torture-writer.js) runs the
 * torture workload (writers, transactions, flush/compactRange/checkpoint/backup, rotateKey on
 * encrypted runs) on the real file system behind seeded latency, reporting every acknowledged write;
 * the parent SIGKILLs it once a seeded number of acknowledgements arrived, reopens the database
 * without latency and checks with RecoveryOracle that every acknowledged write survived (a process
 * crash keeps what write(2) gave the kernel, synced or not) as a prefix of commit order.
 * Default suite: a short slice. TORTURE=1 (npm run test:torture): hundreds of kills. SEED=n replays one.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DB, staticKeyProvider, type Options } from '../../src/index.js';
import { makeRng } from '../support/rng.js';
import { tempDir } from '../support/tmpdir.js';
import { RecoveryOracle, readState } from '../support/recovery-oracle.js';
import { writeFor } from '../support/torture-workload.js';
import { TORTURE, failureLine, newTotals, runCount, seedsFor, summary, type Totals } from '../support/torture-runs.js';

const FILE = 'test/torture/latency-process-kill.test.ts';
const CHILD = fileURLToPath(new URL('../../dist/test/support/torture-writer.js', import.meta.url));
const KEYS = { k1: 'c'.repeat(64), k2: 'd'.repeat(64) };
/** Writes the child may have submitted beyond the last index we heard of (their acks died with it). */
const SLACK = 2000;
/** A child that stops acknowledging for this long is hung: a failure, not a wait condition. */
const WATCHDOG_MS = 30_000;

interface ChildReport { acks: number[]; conflicts: number[]; failed: string[]; errors: string[]; killed: boolean; maxIndex: number }

async function runChild(root: string, seed: number, killAfterAcks: number, encrypted: boolean): Promise<ChildReport> {
  const child = fork(CHILD, [root, String(seed), '3'], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, ...(encrypted ? { STRATA_TORTURE_KEYS: JSON.stringify(KEYS) } : {}) },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const r: ChildReport = { acks: [], conflicts: [], failed: [], errors: [], killed: false, maxIndex: -1 };
  await new Promise<void>((resolve, reject) => {
    const kill = (): void => {
      if (r.killed) return;
      r.killed = true;
      child.kill('SIGKILL');
    };
    const watchdog = setTimeout(() => { r.errors.push(`no kill point within ${WATCHDOG_MS} ms (hung?)`); kill(); }, WATCHDOG_MS);
    child.on('message', (m: { ready?: boolean; ack?: number; conflict?: number; failed?: number; error?: string }) => {
      if (m.ack !== undefined) {
        r.acks.push(m.ack);
        r.maxIndex = Math.max(r.maxIndex, m.ack);
        if (r.acks.length >= killAfterAcks) kill();
      } else if (m.conflict !== undefined) {
        r.conflicts.push(m.conflict);
        r.maxIndex = Math.max(r.maxIndex, m.conflict);
      } else if (m.failed !== undefined) {
        r.failed.push(`write ${m.failed}: ${m.error}`);
        r.maxIndex = Math.max(r.maxIndex, m.failed);
      } else if (m.error) {
        // A failed writer or maintenance call is a finding of its own; the state is still checked.
        r.errors.push(m.error);
        kill();
      }
    });
    child.on('exit', () => { clearTimeout(watchdog); resolve(); });
    child.on('error', reject);
  });
  if (!r.killed) r.errors.push(`child exited before the kill: ${stderr.slice(-2000)}`);
  return r;
}

async function oneKill(seed: number, totals: Totals): Promise<string[]> {
  const rng = makeRng(seed);
  const encrypted = rng.int(3) === 0;
  const killAfterAcks = 5 + rng.int(TORTURE ? 800 : 300);
  const root = await tempDir('strata-torture-');
  const report = await runChild(root, seed, killAfterAcks, encrypted);
  totals.kills++;
  const failures = [...report.errors.map((e) => `child: ${e}`), ...report.failed.map((f) => `child: ${f}`)];
  // The parent rebuilds every write from its index; acks in the order they arrived.
  const oracle = new RecoveryOracle();
  for (let i = 0; i <= report.maxIndex + SLACK; i++) oracle.record(writeFor(seed, i));
  for (const i of report.acks) oracle.ack(i);
  for (const i of report.conflicts) oracle.conflict(i);
  const options: Options = encrypted ? { encryption: { keyProvider: staticKeyProvider(KEYS, 'k1') } } : {};
  let db: DB;
  try {
    db = await DB.open(`${root}/db`, options);
  } catch (e) {
    totals.lost++;
    return [...failures, `reopen after SIGKILL failed: ${(e as Error).message}`];
  }
  try {
    const v = oracle.check(await readState(db), oracle.mark(), 'process');
    totals.checked += v.mustSurvive;
    totals.lost += v.lost;
    if (!v.ok) failures.push(`SIGKILL after ${report.acks.length} acks${encrypted ? ' (encrypted)' : ''}: ${v.message}`);
  } finally {
    await db.close();
  }
  totals.runs++;
  return failures;
}

describe('lost-write torture under seeded latency (real processes, SIGKILL)', () => {
  const totals = newTotals();
  afterAll(() => { console.log(summary('latency-process-kill', totals)); });

  const runs = runCount(6, 300);
  it(`${runs} SIGKILLs of a child under latency: every acknowledged write survives`, async () => {
    expect(existsSync(CHILD), `${CHILD} missing: run npm run build`).toBe(true);
    for (const seed of seedsFor(runs)) {
      let found: string[];
      try {
        found = await oneKill(seed, totals);
      } catch (e) {
        found = [`threw: ${(e as Error).stack ?? e}`];
      }
      if (found.length > 0) totals.failures.push(failureLine(FILE, seed, found.join('\n  ')));
    }
    expect(totals.failures, `${totals.failures.length} of ${runs} kills failed:\n${totals.failures.join('\n')}`).toEqual([]);
  }, TORTURE ? 6 * 3600_000 : 120_000);
});
