/**
 * Child process for the bank crash test (run from dist/test/support/bank-writer.js; Node runs no
 * TypeScript). argv: dir, seed, round, clients, accounts, isolation, locking.
 * Opens the database (creating the accounts in one synced batch on first use), reports { ready },
 * then runs `clients` concurrent loops of transfers, each a db.transaction with sync: true that also
 * writes its ledger record (bank-accounts.ts). After a commit resolves it reports
 * { c, i, from, to, amount } (amount = what moved) to the parent over IPC. Runs until killed.
 * Tiny memtables so flushes, and worker compactions, are under way when the SIGKILL lands.
 */
import { DB, WriteBatch, type Isolation, type Locking } from '../../src/index.js';
import { makeRng } from './rng.js';
import { INITIAL_BALANCE, accountKey, encodeBalance, ledgerKey, runTransfer } from './bank-accounts.js';

const [dir, seedText, roundText, clientsText, accountsText, isolationText, lockingText] = process.argv.slice(2);
const seed = Number(seedText);
const round = Number(roundText);
const clients = Number(clientsText);
const accounts = Number(accountsText);
const isolation = (isolationText ?? 'snapshot') as Isolation;
const locking = (lockingText ?? 'optimistic') as Locking;

async function main(): Promise<void> {
  const db = await DB.open(dir!, {
    writeBufferSize: 16 * 1024, blockSize: 1024, targetFileSize: 16 * 1024, maxBytesForLevelBase: 64 * 1024,
    level0CompactionTrigger: 2,
  });
  if ((await db.get('meta:init')) === undefined) {
    const b = new WriteBatch();
    for (let i = 0; i < accounts; i++) b.put(accountKey(i), encodeBalance(INITIAL_BALANCE));
    b.put('meta:init', String(accounts));
    await db.write(b, { sync: true });
  }
  process.send!({ ready: true });
  const loops: Promise<void>[] = [];
  for (let c = 0; c < clients; c++) {
    const rng = makeRng(seed * 31 + c);
    loops.push((async () => {
      for (let i = 0; ; i++) {
        const from = rng.int(accounts);
        const to = (from + 1 + rng.int(accounts - 1)) % accounts;
        const amount = 1 + rng.int(300);
        const moved = await runTransfer(db, { from, to, amount }, isolation, { sync: true, ledger: ledgerKey(round, c, i), locking });
        process.send!({ c, i, from, to, amount: moved });
      }
    })());
  }
  await Promise.all(loops);
}

if (process.send) {
  main().catch((e: unknown) => {
    process.send!({ error: String((e as Error)?.stack ?? e) });
    process.exit(1);
  });
}
