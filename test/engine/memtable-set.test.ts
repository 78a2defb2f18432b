/**
 * MemtableSet alone (src/engine/memtable-set.ts), over a MemFileSystem with a fake host: the first
 * WAL, the switch (freeze, sync the old WAL before the new one is current, onFrozen, retire the old
 * WAL off the write path), a failed rollover, the empty-switch rule, the log-number bookkeeping the
 * flush relies on, the one "full" rule, and a flushable batch (queued with its WAL, which is sealed
 * until the next switch rolls it over). Parked operations (HoldFileSystem) stand in for slow
 * disks: no sleeps.
 */
import { describe, expect, it } from 'vitest';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import type { FileSystem } from '../../src/fs/file-system.js';
import { FaultFileSystem, failKind } from '../../src/fs/fault-fs.js';
import { MemTable } from '../../src/memtable/memtable.js';
import { ValueKind } from '../../src/base/internal-key.js';
import { walFileName } from '../../src/manifest/file-names.js';
import { BackgroundError } from '../../src/engine/background-error.js';
import { MemtableSet, type MemTableEntry, type MemtableSetHost } from '../../src/engine/memtable-set.js';
import { memtableFull } from '../../src/memtable/memtable.js';
import { FlushableBatch, indexOps } from '../../src/memtable/flushable-batch.js';
import { WriteBatch } from '../../src/wal/write-batch.js';
import type { Options } from '../../src/options.js';
import { HoldFileSystem } from '../support/hold-fs.js';
import { withSeed } from '../support/rng.js';
import { RecordingFileSystem, deferred, recordingLog, testOptions, type RecordingLog } from './fakes.js';

const DIR = '/db';
const enc = new TextEncoder();

interface Fake {
  host: MemtableSetHost;
  log: RecordingLog;
  frozen: number;
  /** Resolves at the next onWalRetired. */
  nextRetired(): Promise<void>;
  numbersTaken: number;
}

function fakeHost(fs: FileSystem, options: Options = {}, onFrozen?: () => void): Fake {
  const log = recordingLog();
  let next = 1;
  let retired = deferred();
  const fake: Fake = {
    log,
    frozen: 0,
    numbersTaken: 0,
    nextRetired: () => retired.promise,
    host: {
      fs, dir: DIR, o: testOptions(options), keys: undefined, log,
      failure: new BackgroundError((line) => log.write(line)),
      newFileNumber: () => { fake.numbersTaken++; return next++; },
      onFrozen: () => { fake.frozen++; onFrozen?.(); },
      onWalRetired: () => { const r = retired; retired = deferred(); r.resolve(); },
    },
  };
  return fake;
}

async function memFs(): Promise<MemFileSystem> {
  const fs = new MemFileSystem();
  await fs.mkdir(DIR, { recursive: true });
  return fs;
}

/** What the write path does for one put: a WAL record, then the memtable insert. */
function put(set: MemtableSet, seq: number, key: string): void {
  set.currentWal!.appendGroup(enc.encode(`record ${key}`));
  set.mem.add(seq, ValueKind.Put, enc.encode(key), enc.encode('v'));
}

describe('MemtableSet.start', () => {
  it('creates WAL n (the host\'s next file number) and an empty active memtable logged in it', async () => {
    const fs = await memFs();
    const f = fakeHost(fs);
    const set = new MemtableSet(f.host, []);
    await set.start();
    expect(set.currentWal?.logNumber).toBe(1);
    expect(await fs.exists(walFileName(DIR, 1))).toBe(true);
    expect(set.mem.entries).toBe(0);
    expect(set.oldestWalNeeded).toBe(1);
    expect(f.log.lines).toContain('new WAL 1');
  });
});

describe('MemtableSet.switch', () => {
  it('syncs the old WAL before the new one becomes current, then freezes and calls onFrozen', async () => {
    const mem = await memFs();
    const rec = new RecordingFileSystem(mem);
    const hold = new HoldFileSystem(rec, (kind, p) => kind === 'sync' && p === walFileName(DIR, 1));
    const f = fakeHost(hold);
    const set = new MemtableSet(f.host, []);
    await set.start();
    put(set, 1, 'a');
    put(set, 2, 'b');
    const before = set.mem;

    const switching = set.switch();
    let syncHeld = false;
    await Promise.race([hold.reached.then(() => { syncHeld = true; }), switching]);
    expect(syncHeld, 'the switch syncs the old WAL').toBe(true);
    // The old WAL's sync is in flight: nothing has moved yet.
    expect(set.currentWal?.logNumber).toBe(1);
    expect(set.mem).toBe(before);
    expect(set.immutable).toHaveLength(0);
    expect(f.frozen).toBe(0);
    hold.release();
    await switching;

    expect(set.currentWal?.logNumber).toBe(2);
    expect(set.mem).not.toBe(before);
    expect(set.immutable.map((e) => [e.mem, e.walNumber])).toEqual([[before, 1]]);
    expect(f.frozen).toBe(1);
    // Every byte of the rolled-over WAL is durable: a power cut now keeps it whole.
    const walBytes = (await mem.stat(walFileName(DIR, 1))).size;
    expect(walBytes).toBeGreaterThan(0);
    expect((await mem.crashClone().readFile(walFileName(DIR, 1))).length).toBe(walBytes);
    // The next write goes to the new WAL, after the old one's sync.
    put(set, 3, 'c');
    expect(rec.indexOf('sync 000001.log')).toBeGreaterThan(rec.indexOf('open 000002.log'));
    expect(rec.indexOf('append 000002.log')).toBeGreaterThan(rec.indexOf('sync 000001.log'));
    expect(f.log.lines).toContain('new WAL 2; memtable of 2 entries frozen');
  });

  it('retires the old WAL: held back (isRetiring) until its archive copy exists, then onWalRetired', async () => {
    const mem = await memFs();
    const hold = new HoldFileSystem(mem, (kind) => kind === 'link');
    let retiringAtFreeze: boolean | undefined;
    const f = fakeHost(hold, { walArchiveDir: '/archive' }, () => { retiringAtFreeze = set.isRetiring(1); });
    const set = new MemtableSet(f.host, []);
    await set.start();
    put(set, 1, 'a');
    const retired = f.nextRetired();
    let retiredYet = false;
    void retired.then(() => { retiredYet = true; });

    await set.switch();
    expect(retiringAtFreeze).toBe(true);
    await hold.reached; // the archive link of WAL 1 is parked
    expect(set.isRetiring(1)).toBe(true);
    expect(set.isRetiring(2)).toBe(false);
    expect(retiredYet).toBe(false);

    hold.release();
    await retired;
    expect(set.isRetiring(1)).toBe(false);
    expect((await mem.list('/archive')).filter((n) => n.startsWith('000001-'))).toHaveLength(1);
  });

  it('a failed rollover sync sets the BackgroundError and leaves the active memtable and WAL in place', async () => {
    const mem = await memFs();
    const fault = new FaultFileSystem(mem, { injector: failKind('sync', { path: '000001.log' }) });
    const f = fakeHost(fault);
    const set = new MemtableSet(f.host, []);
    await set.start();
    put(set, 1, 'a');
    const active = set.mem;

    const err = await set.switch().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(f.host.failure.error).toBe(err);
    expect(set.mem).toBe(active);
    expect(set.currentWal?.logNumber).toBe(1);
    expect(set.immutable).toHaveLength(0);
    expect(set.oldestWalNeeded).toBe(1);
    expect(f.frozen).toBe(0);
    expect(f.log.lines.some((l) => l.startsWith('ERROR sync of WAL 1 at rollover failed'))).toBe(true);
    expect(f.host.failure.refusal()?.code).toBe('ERR_READ_ONLY');
  });

  it('a failed WAL creation sets the BackgroundError and changes nothing', async () => {
    const mem = await memFs();
    const fault = new FaultFileSystem(mem, { injector: failKind('open', { path: '000002.log' }) });
    const f = fakeHost(fault);
    const set = new MemtableSet(f.host, []);
    await set.start();
    put(set, 1, 'a');
    const active = set.mem;
    await expect(set.switch()).rejects.toThrow();
    expect(f.host.failure.error).toBeDefined();
    expect(f.log.lines.some((l) => l.startsWith('ERROR creating WAL 2 failed'))).toBe(true);
    expect(set.mem).toBe(active);
    expect(set.currentWal?.logNumber).toBe(1);
    expect(set.immutable).toHaveLength(0);
  });

  it('an empty memtable is not switched unless forced', async () => {
    const fs = await memFs();
    const f = fakeHost(fs);
    const set = new MemtableSet(f.host, []);
    await set.start();
    const active = set.mem;
    await set.switch();
    expect(set.mem).toBe(active);
    expect(set.currentWal?.logNumber).toBe(1);
    expect(f.numbersTaken).toBe(1);
    expect(f.frozen).toBe(0);
    expect(await fs.list(DIR)).toEqual(['000001.log']);

    await set.switch(true);
    expect(set.currentWal?.logNumber).toBe(2);
    expect(set.immutable.map((e) => e.walNumber)).toEqual([1]);
    expect(set.immutable[0]!.mem.entries).toBe(0);
    expect(f.frozen).toBe(1);
  });
});

describe('MemtableSet log numbers', () => {
  it('oldestWalNeeded / walAfterOldest follow the immutables, oldest first, through dropOldest', async () => {
    const fs = await memFs();
    const f = fakeHost(fs);
    const set = new MemtableSet(f.host, []);
    await set.start();
    for (let i = 1; i <= 3; i++) {
      put(set, i, `k${i}`);
      await set.switch();
    }
    // WALs 1, 2, 3 hold the immutables; WAL 4 the active memtable.
    expect(set.immutable.map((e) => e.walNumber)).toEqual([1, 2, 3]);
    expect(set.forRead().map((m) => m.entries)).toEqual([1, 1, 1, 0]);
    expect([set.oldestWalNeeded, set.walAfterOldest]).toEqual([1, 2]);
    set.dropOldest();
    expect([set.oldestWalNeeded, set.walAfterOldest]).toEqual([2, 3]);
    set.dropOldest();
    expect([set.oldestWalNeeded, set.walAfterOldest]).toEqual([3, 4]);
    set.dropOldest();
    expect([set.oldestWalNeeded, set.walAfterOldest]).toEqual([4, 4]);
    expect(set.forRead()).toEqual([set.mem]);
  });

  it('forGet is forRead, kept between changes and rebuilt after start, switch, dropOldest and replace', async () => {
    const fs = await memFs();
    const f = fakeHost(fs);
    const set = new MemtableSet(f.host, []);
    const same = (): void => {
      expect(set.forGet()).toEqual(set.forRead());
      expect(set.forGet()).toBe(set.forGet());
    };
    same();
    await set.start();
    same();
    put(set, 1, 'k1');
    await set.switch();
    same();
    expect(set.forGet().length).toBe(2);
    set.dropOldest();
    same();
    expect(set.forGet()).toEqual([set.mem]);
    set.replace([]);
    same();
  });

  it('seeded runs of puts, switches and flushes agree with a model of the WAL numbers', async () => {
    await withSeed('memtable-set log numbers', async (rng) => {
      const fs = await memFs();
      const f = fakeHost(fs);
      const set = new MemtableSet(f.host, []);
      await set.start();
      // The model: WAL numbers of the immutables (oldest first) and of the active memtable.
      const frozen: number[] = [];
      let active = 1;
      let activeEntries = 0;
      let next = 2;
      let seq = 1;
      for (let step = 0; step < 300; step++) {
        const r = rng.int(10);
        if (r < 5) {
          put(set, seq++, `k${rng.int(50)}`);
          activeEntries++;
        } else if (r < 8) {
          const force = rng.int(4) === 0;
          await set.switch(force);
          if (activeEntries > 0 || force) { frozen.push(active); active = next++; activeEntries = 0; }
        } else if (frozen.length > 0) {
          set.dropOldest();
          frozen.shift();
        }
        expect(set.immutable.map((e) => e.walNumber)).toEqual(frozen);
        expect(set.currentWal?.logNumber).toBe(active);
        expect(set.oldestWalNeeded).toBe(frozen[0] ?? active);
        expect(set.walAfterOldest).toBe(frozen[1] ?? active);
        expect(set.mem.entries).toBe(activeEntries);
      }
      expect(f.frozen).toBe(next - 2);
    });
  });

  it('recovered memtables come first, and count in memoryUsage', async () => {
    const fs = await memFs();
    const f = fakeHost(fs);
    const old = new MemTable();
    old.add(1, ValueKind.Put, enc.encode('r'), enc.encode('v'));
    const recovered: MemTableEntry[] = [{ mem: old, walNumber: 7 }];
    const set = new MemtableSet(f.host, recovered);
    await set.start(); // the host's numbers start at 1 here; only the order matters
    expect(set.oldestWalNeeded).toBe(7);
    expect(set.walAfterOldest).toBe(1);
    expect(set.forRead()[0]).toBe(old);
    expect(set.memoryUsage()).toBe(old.approximateMemoryUsage() + set.mem.approximateMemoryUsage());
  });
});

describe('memtableFull', () => {
  it('is true from writeBufferSize bytes on, and only then', () => {
    const m = new MemTable();
    let seq = 1;
    while (m.approximateMemoryUsage() < 8192) m.add(seq++, ValueKind.Put, enc.encode(`key${seq}`), new Uint8Array(100));
    const used = m.approximateMemoryUsage();
    expect(memtableFull(m, { writeBufferSize: used })).toBe(true);
    expect(memtableFull(m, { writeBufferSize: used - 1 })).toBe(true);
    expect(memtableFull(m, { writeBufferSize: used + 1 })).toBe(false);
  });
});

describe('MemtableSet and a flushable batch', () => {
  it('queues the batch with its WAL, seals that WAL, and the next switch only rolls over: the batch\'s WAL goes once it is flushed', async () => {
    const fs = await memFs();
    const f = fakeHost(fs);
    const set = new MemtableSet(f.host, []);
    await set.start();
    set.currentWal!.appendGroup(enc.encode('record of the batch'));
    const b = new WriteBatch().put('a', '1').put('b', '2');
    const ops = Uint8Array.from(b.encodedOps());
    set.addFlushable(new FlushableBatch(ops, indexOps(ops, 2, (o, d) => { throw new Error(`${o}: ${d}`); })!, 1));
    expect(set.sealed).toBe(true);
    expect(f.frozen).toBe(1);
    expect(set.immutable.map((e) => e.walNumber)).toEqual([1]);
    // Flushing it now would record log number 1 and keep its WAL, to be replayed again.
    expect(set.walAfterOldest).toBe(1);
    let woke = false;
    const waiting = set.whenUnsealed().then(() => { woke = true; });
    await set.switch();
    await waiting;
    expect(woke).toBe(true);
    expect(set.sealed).toBe(false);
    expect(f.frozen).toBe(1); // the empty active memtable was not frozen
    expect(set.immutable).toHaveLength(1);
    expect(set.currentWal!.logNumber).toBe(2);
    expect(set.walAfterOldest).toBe(2);
    // Unsealed and empty: a plain switch does nothing again.
    await set.switch();
    expect(set.currentWal!.logNumber).toBe(2);
    await set.close(async (fn) => { await fn(); });
  });

  it('refuses a batch that would not be alone in its WAL (the active memtable holds entries)', async () => {
    const fs = await memFs();
    const set = new MemtableSet(fakeHost(fs).host, []);
    await set.start();
    put(set, 1, 'x');
    const ops = Uint8Array.from(new WriteBatch().put('a', '1').encodedOps());
    expect(() => set.addFlushable(new FlushableBatch(ops, indexOps(ops, 1, (o, d) => { throw new Error(`${o}: ${d}`); })!, 2)))
      .toThrow(/alone in its WAL/);
    await set.close(async (fn) => { await fn(); });
  });
});
