/**
 * The bank workload shared by test/mvcc/bank.test.ts and its crash child (bank-writer.ts): account
 * keys and balance encoding, the transfer transaction, the ledger record each transfer writes beside
 * the balances, and the checks of a database state (total unchanged, no negative balance, ledger
 * replay equal to the balances).
 * Contract: a transfer moves `amount` from one account to another only if the source can pay; it
 * always writes its ledger record (amount 0 when refused), in the same transaction, so the ledger
 * replayed from the initial balances must reproduce the balances exactly: a torn or lost transfer
 * shows up as a mismatch. Pure helpers plus one transaction body; no I/O of their own.
 */
import { Buffer } from 'node:buffer';
import type { DB, Isolation, Locking, Snapshot, Transaction } from '../../src/index.js';

export const INITIAL_BALANCE = 1000;
/** Values carry padding so that a few hundred transfers fill several tiny memtables. */
const PAD = '.'.repeat(96);

export const accountKey = (i: number): string => `acct:${String(i).padStart(4, '0')}`;
export const ACCOUNT_RANGE = { gte: 'acct:', lt: 'acct;' } as const;
export const ledgerKey = (round: number, client: number, i: number): string =>
  `ledger:${String(round).padStart(3, '0')}:${String(client).padStart(3, '0')}:${String(i).padStart(8, '0')}`;
export const LEDGER_RANGE = { gte: 'ledger:', lt: 'ledger;' } as const;

export function encodeBalance(n: number): string { return `${n}|${PAD}`; }

export function decodeBalance(v: Uint8Array | undefined, what: string): number {
  if (v === undefined) throw new Error(`${what}: missing`);
  const s = Buffer.from(v).toString();
  const bar = s.indexOf('|');
  const n = Number(s.slice(0, bar));
  if (bar < 0 || !Number.isInteger(n)) throw new Error(`${what}: malformed balance ${JSON.stringify(s.slice(0, 40))}`);
  return n;
}

export interface Transfer { from: number; to: number; amount: number }

/**
 * Reads both balances and moves the money if the source can pay. Resolves to the amount moved.
 * A pessimistic transaction reads them with getForUpdate (locked, newest values: no retry needed).
 */
export async function transferBody(tx: Transaction, t: Transfer, ledger: string | undefined, pause?: () => Promise<void>): Promise<number> {
  const read = (k: string): Promise<Uint8Array | undefined> => (tx.locking === 'pessimistic' ? tx.getForUpdate(k) : tx.get(k));
  const a = decodeBalance(await read(accountKey(t.from)), accountKey(t.from));
  if (pause) await pause();
  const b = decodeBalance(await read(accountKey(t.to)), accountKey(t.to));
  const moved = a >= t.amount ? t.amount : 0;
  if (moved > 0) {
    tx.put(accountKey(t.from), encodeBalance(a - moved));
    tx.put(accountKey(t.to), encodeBalance(b + moved));
  }
  if (ledger !== undefined) tx.put(ledger, `${t.from},${t.to},${moved}`);
  return moved;
}

export function runTransfer(db: DB, t: Transfer, isolation: Isolation,
  opts: { sync?: boolean; ledger?: string; pause?: () => Promise<void>; locking?: Locking } = {}): Promise<number> {
  return db.transaction((tx) => transferBody(tx, t, opts.ledger, opts.pause), {
    isolation, locking: opts.locking ?? 'optimistic', retries: 10_000, ...(opts.sync ? { sync: true } : {}),
  });
}

/** Sums every account through an iterator (at `snapshot` when given); throws if the books are wrong. */
export async function auditIterator(it: AsyncIterable<[Uint8Array, Uint8Array]>, accounts: number, where: string): Promise<number[]> {
  const balances: number[] = [];
  for await (const [k, v] of it) {
    const key = Buffer.from(k).toString();
    if (key !== accountKey(balances.length)) throw new Error(`${where}: expected ${accountKey(balances.length)}, found ${key}`);
    balances.push(decodeBalance(v, `${where} ${key}`));
  }
  checkBooks(balances, accounts, where);
  return balances;
}

export async function auditGetMany(db: DB, accounts: number, snapshot: Snapshot, where: string): Promise<number[]> {
  const keys = Array.from({ length: accounts }, (_, i) => accountKey(i));
  const got = await db.getMany(keys, { snapshot });
  const balances = got.map((v, i) => decodeBalance(v, `${where} ${keys[i]}`));
  checkBooks(balances, accounts, where);
  return balances;
}

export function checkBooks(balances: number[], accounts: number, where: string): void {
  if (balances.length !== accounts) throw new Error(`${where}: ${balances.length} accounts, expected ${accounts}`);
  let total = 0;
  for (const [i, b] of balances.entries()) {
    if (b < 0) throw new Error(`${where}: ${accountKey(i)} is negative (${b})`);
    total += b;
  }
  if (total !== accounts * INITIAL_BALANCE) throw new Error(`${where}: total ${total}, expected ${accounts * INITIAL_BALANCE}`);
}

export interface LedgerEntry { round: number; client: number; i: number; transfer: Transfer }

export function parseLedger(key: Uint8Array, value: Uint8Array): LedgerEntry {
  const [, round, client, i] = Buffer.from(key).toString().split(':');
  const [from, to, amount] = Buffer.from(value).toString().split(',').map(Number);
  return { round: Number(round), client: Number(client), i: Number(i), transfer: { from: from!, to: to!, amount: amount! } };
}

/** The balances the ledger implies, from the initial ones. */
export function replayLedger(entries: LedgerEntry[], accounts: number): number[] {
  const b = new Array<number>(accounts).fill(INITIAL_BALANCE);
  for (const { transfer: t } of entries) {
    b[t.from] = b[t.from]! - t.amount;
    b[t.to] = b[t.to]! + t.amount;
  }
  return b;
}
