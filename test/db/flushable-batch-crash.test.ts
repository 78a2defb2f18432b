/**
 * Crashes around large batches (flushable batches: src/memtable/flushable-batch.ts). A seeded
 * workload of small writes from one writer and large batches and large transaction commits from
 * another (each of writeBufferSize / 2 bytes or more, so each is held as a flushable batch, alone in
 * its WAL) runs on a FaultFileSystem that clones the file system before EVERY mutating operation:
 * the switch before a batch, its WAL append and sync, the roll to the next WAL after it, the table
 * its flush writes, the MANIFEST edit that moves the log number past its WAL, the removal of that
 * WAL, and the close. Each clone is a power cut keeping 0 %, 100 % or a random share of unsynced
 * bytes, or a process crash keeping everything (taken in turn).
 * Each clone must open to the state after SOME prefix of the commit order holding every write
 * acknowledged as durable before the clone (every acknowledged write, after a process crash); half
 * of them then take a write and must survive a clean reopen unchanged.
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { DB, MemFileSystem, WriteBatch, type Options } from '../../src/index.js';
import { FaultFileSystem, type FaultOp } from '../../src/fs/fault-fs.js';
import { CommitLog, hex, readAll, type LoggedOp } from '../support/db-check.js';
import { checkCrashClone, type CrashClone } from '../support/crash-clone.js';
import { type Rng, withSeed } from '../support/rng.js';

const DIR = '/db';
const WBS = 16 * 1024;
const options: Options = { writeBufferSize: WBS, blockSize: 512, maxWriteBufferNumber: 3 };
const MODES = [0, 100, 'random', 'process'] as const;
type Mode = (typeof MODES)[number];
const READS = new Set(['read', 'list', 'exists', 'stat', 'lock']);

type Clone = CrashClone & { mode: Mode };

const hx = (s: string): string => hex(Buffer.from(s));

async function workload(rng: Rng): Promise<{ log: CommitLog; clones: Clone[]; bypassed: number }> {
  const mem = new MemFileSystem();
  const log = new CommitLog();
  const clones: Clone[] = [];
  let armed = false;
  const clone = (where: string): void => {
    if (!armed) return;
    const mode = MODES[clones.length % MODES.length]!;
    const fs = mem.crashClone(mode === 'random' ? { keepUnsyncedPercent: 100, rng: () => rng.next() }
      : mode === 'process' ? { keepUnsyncedPercent: 100, keepUnsyncedEntries: true }
      : { keepUnsyncedPercent: mode });
    clones.push({ fs, mode, where, acked: log.length, durable: log.durablePrefix() });
  };
  const fs = new FaultFileSystem(mem, {
    injector: (op: FaultOp) => {
      if (!READS.has(op.kind)) clone(`before ${op.kind} ${op.path.slice(DIR.length + 1)}`);
      return undefined;
    },
  });
  const db = await DB.open(DIR, { ...options, fs });
  armed = true;
  let id = 0;
  const key = (): string => `k${String(rng.int(200)).padStart(4, '0')}`;
  const value = (): string => `${(id++).toString(36)}:${'v'.repeat(rng.int(80))}`;
  const track = async (p: Promise<void>, ops: LoggedOp[], sync: boolean): Promise<void> => {
    // Registered at once: resolution order is commit order.
    void p.then(() => log.commit({ ops, sync }));
    await p;
    clone(`after acknowledged write ${log.length}`);
  };
  const small = async (): Promise<void> => {
    for (let i = 0; i < 40; i++) {
      const k = key(), v = value(), sync = rng.int(4) === 0;
      await track(db.put(k, v, { sync }), [{ key: hx(k), value: hx(v) }], sync);
    }
  };
  const large = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) {
      const sync = rng.int(2) === 0;
      const ops: LoggedOp[] = [];
      if (i % 2 === 0) {
        const b = new WriteBatch();
        while (b.byteLength < WBS / 2 + rng.int(WBS / 2)) {
          const k = key();
          if (rng.int(6) === 0) { b.delete(k); ops.push({ key: hx(k), value: undefined }); }
          else { const v = value(); b.put(k, v); ops.push({ key: hx(k), value: hx(v) }); }
        }
        await track(db.write(b, { sync }), ops, sync);
      } else {
        const tx = db.beginTransaction({ sync });
        // Distinct keys, so the commit's batch is the transaction's write log itself.
        for (let n = 0; n < 300; n++) {
          const k = `t${i}.${n}`, v = value();
          tx.put(k, v);
          ops.push({ key: hx(k), value: hx(v) });
        }
        await track(tx.commit(), ops, sync);
      }
      const k = key(), v = value();
      await track(db.put(k, v), [{ key: hx(k), value: hx(v) }], false);
    }
  };
  await Promise.all([small(), large()]);
  expect(await readAll(db)).toEqual(log.stateAfter(log.length));
  await db.close();
  armed = false;
  const text = Buffer.from(await mem.readFile(`${DIR}/LOG`)).toString();
  return { log, clones, bypassed: text.split('\n').filter((l) => l.includes('flushable batch of')).length };
}

function check(c: Clone, log: CommitLog, index: number): Promise<void> {
  return checkCrashClone(DIR, c, log, options, index);
}

describe('crashes around large batches', () => {
  it('every clone, before every mutating fs operation, recovers a prefix holding every durable write', async () => {
    await withSeed('flushable crash', async (rng) => {
      const { log, clones, bypassed } = await workload(rng);
      expect(bypassed).toBe(5);
      expect(clones.length).toBeGreaterThan(50);
      const failures: string[] = [];
      for (let i = 0; i < clones.length; i++) {
        try { await check(clones[i]!, log, i); } catch (e) { failures.push((e as Error).message); }
      }
      expect(failures, `${failures.length} of ${clones.length} clones failed`).toEqual([]);
    });
  }, 240_000);
});
