/**
 * WritePath alone (src/engine/write-path.ts) with a fake host: a MemtableSet-like object holding a
 * real MemTable and a recording WAL writer, a WriteStall stub, and a BackgroundError. One write goes
 * stall check → (switch) → WAL append → (sync, only when asked) → memtable insert and publish;
 * refusals (closed, after a failure); a full memtable switches, or waits for a flush when the
 * immutables are at their limit; writes in flight are recorded for a transaction that opens
 * meanwhile. Slow steps are promises the test settles: no sleeps.
 */
import { describe, expect, it } from 'vitest';
import { MemTable, MISS } from '../../src/memtable/memtable.js';
import { ValueKind } from '../../src/base/internal-key.js';
import { ByteWriter } from '../../src/base/coding.js';
import { encodeSingleOp } from '../../src/wal/write-batch.js';
import { keyHash52 } from '../../src/mvcc/key-set.js';
import { ErrorCode, IOError, StrataError } from '../../src/errors.js';
import { BackgroundError } from '../../src/engine/background-error.js';
import { StatsCounters } from '../../src/engine/stats.js';
import { WritePath, type WritePathHost } from '../../src/engine/write-path.js';
import type { MemtableSet, MemTableEntry } from '../../src/engine/memtable-set.js';
import type { WriteStall } from '../../src/engine/write-stall.js';
import type { Options } from '../../src/options.js';
import { deferred, testOptions, type Deferred } from './fakes.js';

const enc = new TextEncoder();

class FakeWal {
  logNumber = 1;
  /** When set, the next sync waits for it. */
  heldSync: Deferred | undefined;
  failAppend: Error | undefined;
  constructor(private readonly events: string[]) {}
  appendGroupParts(parts: readonly Uint8Array[]): void {
    if (this.failAppend) throw this.failAppend;
    this.events.push(`append wal${this.logNumber} ${parts.reduce((n, p) => n + p.length, 0) > 0}`);
  }
  async sync(): Promise<void> {
    this.events.push(`sync wal${this.logNumber}`);
    if (this.heldSync) await this.heldSync.promise;
  }
}

class FakeMemtables {
  mem = new MemTable();
  immutable: MemTableEntry[] = [];
  readonly currentWal: FakeWal;
  constructor(private readonly events: string[]) { this.currentWal = new FakeWal(events); }
  async switch(): Promise<void> {
    this.events.push('switch');
    this.immutable.push({ mem: this.mem, walNumber: this.currentWal.logNumber });
    this.mem = new MemTable();
    this.currentWal.logNumber++;
  }
}

interface Fake {
  host: WritePathHost;
  events: string[];
  memtables: FakeMemtables;
  flush: Deferred | undefined;
  isClosed: boolean;
  /** What the stall stub returns for the next check. */
  stallWith: Promise<void> | undefined;
}

function fake(options: Options = {}): Fake {
  const events: string[] = [];
  const memtables = new FakeMemtables(events);
  const f: Fake = {
    events, memtables, flush: undefined, isClosed: false, stallWith: undefined,
    host: {
      o: testOptions(options),
      memtables: memtables as unknown as MemtableSet,
      failure: new BackgroundError(() => undefined),
      stall: { check: (bytes: number) => { events.push(`stall ${bytes}`); const s = f.stallWith; f.stallWith = undefined; return s; }, proceed: () => undefined, enter: () => undefined } as unknown as WriteStall,
      counters: new StatsCounters(),
      closed: () => f.isClosed,
      waitForFlush: () => { events.push('waitForFlush'); f.flush = deferred(); return f.flush.promise; },
      onPublished: (seq) => events.push(`publish ${seq}`),
    },
  };
  return f;
}

function put(w: WritePath, key: string, value: string, sync = false): Promise<void> {
  return w.submitSingle(ValueKind.Put, enc.encode(key), enc.encode(value), sync);
}

/** Resolves once `cond` holds, letting the event loop turn between checks (bounded). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  expect(cond()).toBe(true);
}

describe('WritePath: one write', () => {
  it('goes stall → WAL append → memtable, without a sync unless asked; publish and counters move', async () => {
    const f = fake();
    const w = new WritePath(f.host, 10);
    await put(w, 'k', 'value');
    expect(f.events).toEqual(['stall 6', 'append wal1 true', 'publish 11']);
    expect(w.lastSequence()).toBe(11);
    expect(f.memtables.mem.get(enc.encode('k'), 11)).toBe(ValueKind.Put);
    expect(f.memtables.mem.get(enc.encode('k'), 10)).toBe(MISS);
    expect(f.host.counters.writes).toBe(1);
    expect(f.host.counters.userBytesWritten).toBe(6);
    expect(f.host.counters.walBytesWritten).toBeGreaterThan(6);
  });

  it('syncs the WAL between append and apply when the write asks for it', async () => {
    const f = fake();
    const w = new WritePath(f.host, 0);
    f.memtables.currentWal.heldSync = deferred();
    const p = put(w, 'k', 'v', true);
    await until(() => f.events.includes('sync wal1'));
    expect(f.events).toEqual(['stall 2', 'append wal1 true', 'sync wal1']);
    expect(w.lastSequence()).toBe(0); // not visible before it is durable
    expect(f.memtables.mem.entries).toBe(0);
    f.memtables.currentWal.heldSync.resolve();
    await p;
    expect(f.events.at(-1)).toBe('publish 1');
    expect(w.lastSequence()).toBe(1);
  });

  it('a batch of n operations advances the published sequence by n', async () => {
    const f = fake();
    const w = new WritePath(f.host, 100);
    const b = new ByteWriter();
    for (const k of ['a', 'b', 'c']) encodeSingleOp(b, ValueKind.Put, enc.encode(k), enc.encode('v'));
    encodeSingleOp(b, ValueKind.Delete, enc.encode('a'), new Uint8Array(0));
    await w.submit(b.toBytes(), 4, 7, false);
    expect(w.lastSequence()).toBe(104);
    expect(f.host.counters.writes).toBe(4);
    expect(f.memtables.mem.get(enc.encode('c'), 104)).toBe(ValueKind.Put);
    expect(f.memtables.mem.get(enc.encode('a'), 104)).toBe(ValueKind.Delete);
    expect(f.memtables.mem.get(enc.encode('a'), 103)).toBe(ValueKind.Put);
  });
});

describe('WritePath: refusals', () => {
  it('refuses as closed once the host is closed, writing nothing', async () => {
    const f = fake();
    const w = new WritePath(f.host, 0);
    f.isClosed = true;
    await expect(put(w, 'k', 'v')).rejects.toMatchObject({ code: ErrorCode.CLOSED });
    expect(w.writeError()).toMatchObject({ code: ErrorCode.CLOSED });
    expect(f.events).toEqual([]);
  });

  it('refuses as read-only after a background failure, with it as the cause', async () => {
    const f = fake();
    const w = new WritePath(f.host, 0);
    const cause = new Error('disk on fire');
    f.host.failure.set(cause, 'test');
    const e = await put(w, 'k', 'v').then(() => undefined, (x: unknown) => x);
    expect(e).toMatchObject({ code: ErrorCode.READ_ONLY });
    expect((e as Error).cause).toBe(cause);
    expect(f.events).toEqual([]);
  });

  it('a failed WAL append rejects the write, becomes the sticky failure, and later writes are refused', async () => {
    const f = fake();
    const w = new WritePath(f.host, 0);
    const io = new IOError('append failed');
    f.memtables.currentWal.failAppend = io;
    await expect(put(w, 'k', 'v')).rejects.toBe(io);
    expect(f.host.failure.error).toBe(io);
    expect(w.lastSequence()).toBe(0);
    expect(f.memtables.mem.entries).toBe(0);
    f.memtables.currentWal.failAppend = undefined;
    const later = await put(w, 'k2', 'v').then(() => undefined, (x: unknown) => x);
    expect(later).toBeInstanceOf(StrataError);
    expect(later).toMatchObject({ code: ErrorCode.READ_ONLY });
  });
});

describe('WritePath: a full memtable', () => {
  function fill(m: MemTable, bytes: number): void {
    let seq = 1;
    while (m.approximateMemoryUsage() < bytes) m.add(seq++, ValueKind.Put, enc.encode(`f${seq}`), new Uint8Array(64));
  }

  it('is switched before the write is appended (the write lands in the new memtable)', async () => {
    const f = fake({ writeBufferSize: 4096, maxWriteBufferNumber: 3 });
    const w = new WritePath(f.host, 1000);
    fill(f.memtables.mem, 4096);
    const full = f.memtables.mem;
    await put(w, 'k', 'v');
    expect(f.events).toEqual(['stall 2', 'switch', 'stall 2', 'append wal2 true', 'publish 1001']);
    expect(f.memtables.immutable.map((e) => e.mem)).toEqual([full]);
    expect(f.memtables.mem.get(enc.encode('k'), 1001)).toBe(ValueKind.Put);
    expect(full.get(enc.encode('k'), 1001)).toBe(MISS);
  });

  it('with maxWriteBufferNumber - 1 immutables, waits for a flush instead, then switches', async () => {
    const f = fake({ writeBufferSize: 4096, maxWriteBufferNumber: 2 });
    const w = new WritePath(f.host, 1000);
    f.memtables.immutable.push({ mem: new MemTable(), walNumber: 0 });
    fill(f.memtables.mem, 4096);
    let done = false;
    const p = put(w, 'k', 'v').then(() => { done = true; });
    await until(() => f.flush !== undefined);
    expect(f.events).toEqual(['stall 2', 'waitForFlush']);
    expect(done).toBe(false);
    // The flush finishes: the oldest immutable goes, and the write may switch.
    f.memtables.immutable.shift();
    f.flush!.resolve();
    await p;
    expect(f.events).toEqual(['stall 2', 'waitForFlush', 'stall 2', 'switch', 'stall 2', 'append wal2 true', 'publish 1001']);
  });

  it('a stall is waited out before anything else', async () => {
    const f = fake();
    const w = new WritePath(f.host, 0);
    const stall = deferred();
    f.stallWith = stall.promise;
    const p = put(w, 'k', 'v');
    await until(() => f.events.length > 0);
    expect(f.events).toEqual(['stall 2']);
    stall.resolve();
    await p;
    expect(f.events).toEqual(['stall 2', 'stall 2', 'append wal1 true', 'publish 1']);
  });
});

describe('WritePath: conflict records for transactions', () => {
  it('recordInFlight records a write accepted before a transaction opened, still in flight', async () => {
    const f = fake();
    const w = new WritePath(f.host, 5);
    f.memtables.currentWal.heldSync = deferred();
    const p = put(w, 'hot', 'v', true); // accepted with no transaction open; parked in its sync
    await until(() => f.events.includes('sync wal1'));
    expect(w.tracker.remembered).toBe(0);

    w.tracker.open(w.lastSequence()); // a transaction's snapshot at 5, below the write in flight
    w.recordInFlight();
    expect(w.tracker.remembered).toBe(1);
    expect(w.tracker.writtenAfter(keyHash52(enc.encode('hot')), 5)).toBe(true);
    expect(w.tracker.writtenAfter(keyHash52(enc.encode('cold')), 5)).toBe(false);
    w.recordInFlight(); // once only
    expect(w.tracker.remembered).toBe(1);

    f.memtables.currentWal.heldSync.resolve();
    await p;
    expect(w.lastSequence()).toBe(6);
  });

  it('with a transaction open, a write is recorded when accepted; with none, not at all', async () => {
    const f = fake();
    const w = new WritePath(f.host, 0);
    await put(w, 'a', 'v');
    expect(w.tracker.remembered).toBe(0);
    w.recordInFlight(); // nothing in flight: the published write is not recorded late
    expect(w.tracker.remembered).toBe(0);
    w.tracker.open(w.lastSequence());
    await put(w, 'b', 'v');
    expect(w.tracker.remembered).toBe(1);
    expect(w.tracker.writtenAfter(keyHash52(enc.encode('b')), 1)).toBe(true);
  });
});
