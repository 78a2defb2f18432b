/**
 * The bank invariant (issue #5 "Tests"): many accounts, many concurrent transfer transactions
 * (db.transaction with retries), concurrent auditors summing every balance at a snapshot (db.snapshot
 * + iterator, db.snapshot + getMany, read-only transactions, implicit iterator snapshots) while tiny
 * memtables flush and compactions run: the total never changes and no balance goes negative, under
 * both isolation levels and both locking modes. Each transfer also writes a ledger record in the same transaction; replaying
 * the ledger must give the balances exactly (atomicity).
 * The crash variant forks dist/test/support/bank-writer.js (synced transfers), SIGKILLs it at random
 * moments, reopens and checks the books, the ledger, and that every acknowledged transfer is there.
 * Seeded (printed on failure; SEED= replays the choices, not the interleaving of real I/O).
 */
import { describe, expect, it } from 'vitest';
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DB, MemFileSystem, WriteBatch, type Isolation, type Locking } from '../../src/index.js';
import { makeRng, testSeed, withSeed, type Rng } from '../support/rng.js';
import { tempDir } from '../support/tmpdir.js';
import {
  ACCOUNT_RANGE, INITIAL_BALANCE, LEDGER_RANGE, accountKey, auditGetMany, auditIterator, encodeBalance,
  ledgerKey, parseLedger, replayLedger, runTransfer, type LedgerEntry,
} from '../support/bank-accounts.js';

const CHILD = fileURLToPath(new URL('../../dist/test/support/bank-writer.js', import.meta.url));

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function pauser(rng: Rng): () => Promise<void> {
  return async () => {
    const n = rng.int(4);
    for (let i = 0; i < n; i++) await (i % 2 === 0 ? tick() : Promise.resolve());
  };
}

async function readLedger(db: DB): Promise<LedgerEntry[]> {
  const out: LedgerEntry[] = [];
  for await (const [k, v] of db.iterator(LEDGER_RANGE)) out.push(parseLedger(k, v));
  return out;
}

async function balancesNow(db: DB, accounts: number, where: string): Promise<number[]> {
  return auditIterator(db.iterator(ACCOUNT_RANGE), accounts, where);
}

async function bankRun(isolation: Isolation, locking: Locking, rng: Rng): Promise<void> {
  const ACCOUNTS = 40;
  const CLIENTS = 10;
  const TRANSFERS = 30;
  const db = await DB.open('/db', {
    fs: new MemFileSystem(), writeBufferSize: 4096, blockSize: 256, targetFileSize: 4096,
    maxBytesForLevelBase: 16 * 1024, level0CompactionTrigger: 2,
  });
  try {
    const init = new WriteBatch();
    for (let i = 0; i < ACCOUNTS; i++) init.put(accountKey(i), encodeBalance(INITIAL_BALANCE));
    await db.write(init);

    let running = CLIENTS;
    let transfers = 0;
    const maintenance: Promise<void>[] = [];
    const audits = { snapshotIterator: 0, snapshotGetMany: 0, readOnlyTxn: 0, implicitIterator: 0 };
    const clients = Array.from({ length: CLIENTS }, async (_, c) => {
      const r = makeRng(rng.int(2 ** 31) + c);
      const pause = pauser(r);
      for (let i = 0; i < TRANSFERS; i++) {
        const from = r.int(ACCOUNTS);
        const to = (from + 1 + r.int(ACCOUNTS - 1)) % ACCOUNTS;
        await runTransfer(db, { from, to, amount: 1 + r.int(400) }, isolation, { ledger: ledgerKey(0, c, i), pause, locking });
        // explicit flushes and full compactions now and then, on top of the automatic ones
        if (++transfers % 50 === 0) {
          const m = transfers % 100 === 0 ? db.compactRange() : db.flush();
          m.catch(() => undefined); // awaited (and reported) after the run
          maintenance.push(m);
        }
      }
      running--;
    });
    const auditor = async (kind: keyof typeof audits): Promise<void> => {
      const pause = pauser(makeRng(rng.int(2 ** 31)));
      while (running > 0) {
        const where = `${kind} audit #${audits[kind]}`;
        if (kind === 'snapshotIterator' || kind === 'snapshotGetMany') {
          const snap = db.snapshot();
          try {
            await pause(); // transfers, flushes and compactions go on under the snapshot
            await pause();
            if (kind === 'snapshotIterator') await auditIterator(db.iterator({ ...ACCOUNT_RANGE, snapshot: snap }), ACCOUNTS, where);
            else await auditGetMany(db, ACCOUNTS, snap, where);
          } finally {
            snap.release();
          }
        } else if (kind === 'readOnlyTxn') {
          await db.transaction(async (tx) => {
            await pause();
            const viaIterator = await auditIterator(tx.iterator(ACCOUNT_RANGE), ACCOUNTS, where);
            await pause();
            const viaGet: number[] = [];
            for (let i = 0; i < ACCOUNTS; i++) viaGet.push(Number((await tx.get(accountKey(i)))!.toString().split('|')[0]));
            expect(viaGet).toEqual(viaIterator);
          }, { isolation, locking, retries: 0 }); // read-only: never conflicts, so never retried
        } else {
          await balancesNow(db, ACCOUNTS, where);
        }
        audits[kind]++;
        await tick();
      }
    };
    await Promise.all([...clients, ...Object.keys(audits).map((k) => auditor(k as keyof typeof audits))]);
    await Promise.all(maintenance);

    const final = await balancesNow(db, ACCOUNTS, "final");
    const ledger = await readLedger(db);
    expect(ledger.length).toBe(CLIENTS * TRANSFERS);
    expect(replayLedger(ledger, ACCOUNTS)).toEqual(final);
    const st = db.stats();
    for (const [kind, n] of Object.entries(audits)) expect(n, `${kind} audits`).toBeGreaterThan(0);
    expect(st.transactions.open).toBe(0);
    // Real contention, not a serial run: optimistic transfers conflict; pessimistic ones wait in line
    // and deadlock now and then (the victims retry), but never conflict at commit.
    if (locking === 'optimistic') {
      expect(st.transactions.conflicts).toBeGreaterThan(0);
    } else {
      expect(st.transactions.lockWaits).toBeGreaterThan(0);
      expect(st.transactions.conflicts).toBe(0);
      expect(st.transactions.retries).toBe(st.transactions.deadlocks + st.transactions.lockTimeouts);
      expect(st.transactions.locksHeld).toBe(0);
    }
    expect(st.flushes.count).toBeGreaterThan(5);
    expect(st.compactions.count).toBeGreaterThan(0);
    expect(db.engine.writes.tracker.remembered).toBe(0);
  } finally {
    await db.close();
  }
}

describe('bank invariant', () => {
  it.each([
    ['snapshot', 'optimistic'], ['serializable', 'optimistic'], ['snapshot', 'pessimistic'], ['serializable', 'pessimistic'],
  ] as const)('%s, %s: the total never changes under concurrent transfers, audits, flushes, compactions', async (isolation, locking) => {
    await withSeed(`bank ${isolation} ${locking}`, (rng) => bankRun(isolation, locking, rng));
  });
});

interface Ack { c: number; i: number; from: number; to: number; amount: number }

async function runChild(dir: string, seed: number, round: number, clients: number, accounts: number,
  isolation: Isolation, locking: Locking, killAfterMs: number): Promise<Ack[]> {
  const child = fork(CHILD, [dir, String(seed), String(round), String(clients), String(accounts), isolation, locking],
    { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const acks: Ack[] = [];
  let childError: string | undefined;
  await new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    child.on('message', (m: Partial<Ack> & { ready?: boolean; error?: string }) => {
      if (m.ready) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      else if (m.error) childError = m.error;
      else acks.push(m as Ack);
    });
    child.on('exit', () => { if (timer) clearTimeout(timer); resolve(); });
    child.on('error', reject);
  });
  if (childError) throw new Error(`child failed: ${childError}\n${stderr}`);
  return acks;
}

describe('bank invariant across SIGKILL', () => {
  it('books balance, the ledger replays, acknowledged transfers survive (rounds go through both levels and both locking modes)', async () => {
    expect(existsSync(CHILD), `${CHILD} missing: run npm run build`).toBe(true);
    const seed = testSeed();
    const rng = makeRng(seed);
    const dir = await tempDir();
    const ACCOUNTS = 30;
    const CLIENTS = 6;
    try {
      let acknowledged = 0;
      const ROUNDS: [Isolation, Locking][] = [
        ['snapshot', 'optimistic'], ['serializable', 'pessimistic'], ['snapshot', 'pessimistic'], ['serializable', 'optimistic'],
      ];
      for (const [round, [isolation, locking]] of ROUNDS.entries()) {
        const acks = await runChild(dir, seed + round, round, CLIENTS, ACCOUNTS, isolation, locking, 150 + rng.int(350));
        acknowledged += acks.length;
        const db = await DB.open(dir);
        try {
          const balances = await balancesNow(db, ACCOUNTS, `after kill ${round}`);
          const ledger = await readLedger(db);
          expect(replayLedger(ledger, ACCOUNTS)).toEqual(balances);
          // per client and round, transfers are sequential: the ledger holds a gap-free prefix
          const byClient = new Map<string, LedgerEntry[]>();
          for (const e of ledger) {
            const k = `${e.round}:${e.client}`;
            if (!byClient.has(k)) byClient.set(k, []);
            byClient.get(k)!.push(e);
          }
          for (const [k, es] of byClient) es.forEach((e, idx) => expect(e.i, `ledger ${k}`).toBe(idx));
          const mine = new Map(ledger.filter((e) => e.round === round).map((e) => [`${e.client}:${e.i}`, e.transfer]));
          for (const a of acks) {
            expect(mine.get(`${a.c}:${a.i}`), `acknowledged transfer ${a.c}:${a.i}`).toEqual({ from: a.from, to: a.to, amount: a.amount });
          }
        } finally {
          await db.close();
        }
      }
      expect(acknowledged).toBeGreaterThan(0);
    } catch (e) {
      (e as Error).message = `SEED=${seed}: ${(e as Error).message}`;
      throw e;
    }
  });
});
