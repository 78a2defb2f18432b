/**
 * The DB's events (README "Events"; src/engine/engine-events.ts): each fires with its payload in a
 * deterministic scenario — flush (db.flush()), compaction (compactRange), stall (L0 stop and slowdown
 * with compaction parked at a gate, every memtable full with the flush parked), background-error
 * (FaultFileSystem: a retried flush, then a sticky WAL failure), close — begin before end with the
 * same jobId, nothing after 'close', and a throwing or rejecting listener reported as 'error' while the
 * engine goes on. MemFileSystem throughout; no sleeps (waits are on events and gates).
 */
import { describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { DB, MemFileSystem, type CompactionEvent, type FlushEvent, type Options, type StallEvent } from '../../src/index.js';
import { FaultFileSystem, failKind, failNth, none } from '../../src/fs/fault-fs.js';
import { GateFileSystem } from '../support/gate-fs.js';

const DIR = '/db';
const SMALL: Options = { writeBufferSize: 64 * 1024, compression: 'none', blockSize: 512 };
const STALLY: Options = {
  ...SMALL, writeBufferSize: 1024 * 1024, maxWriteBufferNumber: 2, level0CompactionTrigger: 2,
  level0SlowdownTrigger: 3, level0StopTrigger: 5, delayedWriteRate: 1024 * 1024,
};

/** Every event of `names` in the order emitted, as [name, payload]. */
function record(db: DB, names: readonly ('flush' | 'compaction' | 'stall' | 'background-error' | 'close')[]): [string, unknown][] {
  const seen: [string, unknown][] = [];
  for (const n of names) db.on(n, (...args: unknown[]) => { seen.push([n, args[0]]); });
  return seen;
}

/** Each end follows the begin with its jobId (or reason, for stalls), and every begin has its end. */
function expectPaired(events: { phase: 'begin' | 'end' }[], keyOf: (e: never) => unknown): void {
  const open = new Set<unknown>();
  for (const e of events) {
    const k = keyOf(e as never);
    if (e.phase === 'begin') {
      expect(open.has(k), `begin twice for ${String(k)}`).toBe(false);
      open.add(k);
    } else {
      expect(open.has(k), `end without begin for ${String(k)}`).toBe(true);
      open.delete(k);
    }
  }
  expect([...open]).toEqual([]);
}

/** Resolves at the next stall begin for `reason`. */
function stallBegin(db: DB, reason: StallEvent['reason']): Promise<void> {
  return new Promise((resolve) => {
    const on = (e: StallEvent): void => {
      if (e.phase === 'begin' && e.reason === reason) { db.off('stall', on); resolve(); }
    };
    db.on('stall', on);
  });
}

const gateSst = (mem: MemFileSystem, exclusive: boolean): GateFileSystem =>
  new GateFileSystem(mem, (p, o) => p.endsWith('.sst') && (o?.exclusive === true) === exclusive);

describe('events', () => {
  it('flush: begin then end with the memtable, the L0 table and the duration; stats already count it', async () => {
    const db = await DB.open(DIR, { ...SMALL, fs: new MemFileSystem() });
    const flushes: FlushEvent[] = [];
    let countedAtEnd = -1;
    db.on('flush', (e) => {
      flushes.push(e);
      if (e.phase === 'end') countedAtEnd = db.stats().flushes.count;
    });
    for (let i = 0; i < 50; i++) await db.put(`k${String(i).padStart(3, '0')}`, 'v'.repeat(100));
    await db.flush();
    expect(flushes.map((e) => e.phase)).toEqual(['begin', 'end']);
    const [begin, end] = flushes as [FlushEvent, FlushEvent & { phase: 'end' }];
    expect(end.jobId).toBe(begin.jobId);
    expect(begin.entries).toBe(50);
    expect(begin.bytes).toBeGreaterThan(50 * 100);
    expect(end.bytes).toBe(begin.bytes);
    expect(end.fileNumber).toBeTypeOf('number');
    expect(end.fileSize).toBeGreaterThan(50 * 100);
    expect(end.fileSize).toBe(db.stats().flushes.bytes);
    expect(end.durationMs).toBeGreaterThanOrEqual(0);
    expect(end.error).toBeUndefined();
    expect(countedAtEnd).toBe(1);
    await db.close();
  });

  it('compaction: compactRange emits begin and end per job with inputs, output level, bytes and reason', async () => {
    const db = await DB.open(DIR, { ...SMALL, fs: new MemFileSystem(), level0CompactionTrigger: 10, level0SlowdownTrigger: 20, level0StopTrigger: 30 });
    const compactions: CompactionEvent[] = [];
    db.on('compaction', (e) => { compactions.push(e); });
    for (let t = 0; t < 3; t++) {
      for (let i = 0; i < 20; i++) await db.put(`k${String(i).padStart(3, '0')}`, `${t}`.repeat(200));
      await db.flush();
    }
    const l0 = db.stats().levels[0]!.files;
    expect(l0).toBe(3);
    await db.compactRange();
    expectPaired(compactions, (e: CompactionEvent) => e.jobId);
    const ends = compactions.filter((e): e is CompactionEvent & { phase: 'end' } => e.phase === 'end');
    expect(ends.length).toBeGreaterThan(0);
    const first = ends[0]!;
    expect(first.reason).toBe('manual');
    expect(first.inputs[0]!.level).toBe(0);
    expect(first.inputs[0]!.files.length).toBe(3);
    expect(first.outputLevel).toBeGreaterThanOrEqual(1);
    expect(first.inputBytes).toBeGreaterThan(0);
    expect(first.bytesRead).toBeGreaterThan(0);
    expect(first.bytesWritten).toBeGreaterThan(0);
    expect(first.outputs.length).toBeGreaterThan(0);
    expect(first.error).toBeUndefined();
    const stats = db.stats().compactions;
    expect(ends.reduce((s, e) => s + e.bytesWritten, 0)).toBe(stats.bytesWritten);
    await db.close();
  });

  it('stall at the stop trigger: begin while the write waits, end once compaction drained L0', async () => {
    const mem = new MemFileSystem();
    const gate = gateSst(mem, true); // compaction outputs are opened exclusively: parked
    const db = await DB.open(DIR, { ...STALLY, fs: gate });
    const stalls: StallEvent[] = [];
    db.on('stall', (e) => { stalls.push(e); });
    try {
      for (let i = 0; i < 5; i++) { await db.put(`t${i}`, `v${i}`); await db.flush(); }
      await gate.whenWaiting();
      expect(db.stats().levels[0]!.files).toBe(5);
      const began = stallBegin(db, 'l0-stop');
      const write = db.put('late', 'value');
      await began;
      const stopAt = stalls.length - 1;
      gate.letThrough();
      await write;
      await db.compactRange(); // L0 empty: any L0 stall left has ended
      expectPaired(stalls, (e: StallEvent) => e.reason);
      expect(stalls[stopAt]).toEqual({ phase: 'begin', reason: 'l0-stop' });
      const end = stalls.find((e) => e.phase === 'end' && e.reason === 'l0-stop') as StallEvent & { phase: 'end' };
      expect(end.durationMs).toBeGreaterThan(0);
    } finally {
      gate.letThrough();
      await db.close();
    }
  });

  it('stall at the slowdown trigger ends when a compaction clears it, with no write waiting', async () => {
    const mem = new MemFileSystem();
    const gate = gateSst(mem, true);
    const db = await DB.open(DIR, { ...STALLY, fs: gate });
    const stalls: StallEvent[] = [];
    db.on('stall', (e) => { stalls.push(e); });
    try {
      for (let i = 0; i < 3; i++) { await db.put(`t${i}`, `v${i}`); await db.flush(); }
      await gate.whenWaiting();
      await db.put('slow', 'x');
      expect(stalls).toEqual([{ phase: 'begin', reason: 'l0-slowdown' }]);
      const ended = once(db, 'stall');
      gate.letThrough();
      const [end] = await ended as [StallEvent & { phase: 'end' }];
      expect(end.phase).toBe('end');
      expect(end.reason).toBe('l0-slowdown');
      expect(db.stats().levels[0]!.files).toBeLessThan(3);
    } finally {
      gate.letThrough();
      await db.close();
    }
  });

  it('stall with every memtable full: begin while the flush is parked, end when it made room', async () => {
    const mem = new MemFileSystem();
    const gate = gateSst(mem, false); // flush outputs are not exclusive: parked
    const db = await DB.open(DIR, { ...SMALL, writeBufferSize: 16 * 1024, maxWriteBufferNumber: 2, fs: gate });
    const stalls: StallEvent[] = [];
    db.on('stall', (e) => { stalls.push(e); });
    try {
      const began = stallBegin(db, 'memtables-full');
      let blocked: Promise<void> | undefined;
      for (let i = 0; i < 200 && !blocked; i++) {
        const p = db.put(`k${String(i).padStart(3, '0')}`, 'v'.repeat(1024));
        if (await Promise.race([p.then(() => false), began.then(() => true)])) blocked = p;
      }
      expect(blocked, 'no write met full memtables').toBeDefined();
      expect(stalls).toEqual([{ phase: 'begin', reason: 'memtables-full' }]);
      gate.letThrough();
      await blocked;
      expectPaired(stalls, (e: StallEvent) => e.reason);
      expect(stalls.map((e) => `${e.phase} ${e.reason}`)).toEqual(['begin memtables-full', 'end memtables-full']);
    } finally {
      gate.letThrough();
      await db.close();
    }
  });

  it('background-error: a retried flush failure (readOnly false), then a sticky WAL failure (readOnly true)', async () => {
    const ffs = new FaultFileSystem(new MemFileSystem());
    const db = await DB.open(DIR, { ...SMALL, fs: ffs });
    const seen = record(db, ['background-error', 'flush']);
    ffs.setInjector(failNth(0, { kinds: ['open'], path: '*.sst' }));
    await db.put('a', '1');
    await db.flush(); // the second attempt succeeds
    const errors = seen.filter(([n]) => n === 'background-error').map(([, e]) => e as { readOnly: boolean; reason: string; error: Error });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.readOnly).toBe(false);
    expect(errors[0]!.reason).toMatch(/flush attempt 1/);
    expect(errors[0]!.error.message).toMatch(/EIO/);
    const flushEnd = seen.filter(([n]) => n === 'flush').map(([, e]) => e as FlushEvent);
    expect(flushEnd.map((e) => e.phase)).toEqual(['begin', 'end']);
    expect((flushEnd[1] as FlushEvent & { phase: 'end' }).error).toBeUndefined();

    ffs.setInjector(failKind('sync', { path: '*.log' }));
    await expect(db.put('b', '2', { sync: true })).rejects.toMatchObject({ code: 'ERR_IO' });
    ffs.setInjector(none);
    const sticky = seen.filter(([n]) => n === 'background-error').slice(1).map(([, e]) => e as { readOnly: boolean; reason: string });
    expect(sticky).toHaveLength(1);
    expect(sticky[0]!.readOnly).toBe(true);
    expect(sticky[0]!.reason).toMatch(/WAL/);
    await expect(db.put('c', '3')).rejects.toMatchObject({ code: 'ERR_READ_ONLY' });
    await db.close();
  });

  it("close: the flush at close comes first, 'close' last and once; nothing after it", async () => {
    const db = await DB.open(DIR, { ...SMALL, fs: new MemFileSystem() });
    const seen = record(db, ['flush', 'compaction', 'stall', 'background-error', 'close']);
    await db.put('a', '1');
    await Promise.all([db.close(), db.close()]);
    await db.close();
    expect(seen.map(([n, e]) => (n === 'flush' ? `flush ${(e as FlushEvent).phase}` : n))).toEqual(['flush begin', 'flush end', 'close']);
    expect(db.listenerCount('close')).toBe(1);
  });

  it("a listener that throws (or rejects) is reported as 'error'; the other listeners and the engine go on", async () => {
    const db = await DB.open(DIR, { ...SMALL, fs: new MemFileSystem() });
    const boom = new Error('listener bug');
    const reported: unknown[] = [];
    // `boom` at begin and at end, the async listener's rejection at end.
    const threeErrors = new Promise<void>((resolve) => {
      db.on('error', (e) => { reported.push(e); if (reported.length === 3) resolve(); });
    });
    const later: string[] = [];
    db.on('flush', () => { throw boom; });
    db.on('flush', async (e) => { if (e.phase === 'end') throw new Error('async listener bug'); });
    db.on('flush', (e) => { later.push(e.phase); });
    await db.put('a', '1');
    await db.flush();
    await threeErrors;
    expect(later).toEqual(['begin', 'end']);
    expect(reported.filter((e) => e === boom)).toHaveLength(2);
    expect(reported.filter((e) => (e as Error).message === 'async listener bug')).toHaveLength(1);
    expect(db.stats().flushes.count).toBe(1);
    await db.put('b', '2');
    expect((await db.get('a'))?.toString()).toBe('1');
    expect((await db.get('b'))?.toString()).toBe('2');
    await db.close();
  });

  it('events are typed: the payload of each name is known', async () => {
    const db = await DB.open(DIR, { ...SMALL, fs: new MemFileSystem() });
    db.on('flush', (e) => e.bytes + e.entries + e.jobId);
    db.on('stall', (e) => e.reason);
    db.on('background-error', (e) => e.readOnly && e.error.message);
    // @ts-expect-error: a flush event has no `reason`
    db.on('flush', (e) => e.reason);
    await db.close();
    expect(db.listenerCount('flush')).toBe(2);
  });
});
