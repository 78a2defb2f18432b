import { describe, expect, it } from 'vitest';
import { IOError } from '../../src/errors.js';
import {
  FaultFileSystem, failKind, failNth, failPath, failRandom, globToRegExp, isInjected, none, seededLatency,
  type FaultKind, type FaultOp, type LatencyFn,
} from '../../src/fs/fault-fs.js';
import type { FileSystem } from '../../src/fs/file-system.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { withSeed } from '../support/rng.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

/**
 * A small "commit" workload in the shape the engine uses: write a temp file, sync it, rename it over
 * CURRENT, sync the directory. Returns normally only if every step succeeded.
 */
async function commitWorkload(fs: FileSystem, content: string): Promise<void> {
  await fs.mkdir('/db', { recursive: true });
  const w = await fs.openWritable('/db/CURRENT.tmp');
  try {
    w.append(bytes(content));
    await w.sync();
  } finally {
    await w.close();
  }
  await fs.rename('/db/CURRENT.tmp', '/db/CURRENT');
  await fs.syncDir('/db');
  const r = await fs.openReadable('/db/CURRENT');
  const got = text(await r.read(0, r.size));
  await r.close();
  if (got !== content) throw new Error(`read back ${got}`);
}

describe('FaultFileSystem', () => {
  it('passes everything through with the none injector and counts operations', async () => {
    const fs = new FaultFileSystem(new MemFileSystem());
    expect(fs.operationCount).toBe(0);
    await commitWorkload(fs, 'MANIFEST-000001\n');
    // mkdir, open, append, sync, close, rename, syncDir, open, read, close
    expect(fs.operationCount).toBe(10);
    fs.setInjector(none);
    expect(await fs.list('/db')).toEqual(['CURRENT']);
  });

  it('shows the injector every operation kind with its paths', async () => {
    const seen: FaultOp[] = [];
    const fs = new FaultFileSystem(new MemFileSystem(), { injector: (op) => { seen.push(op); return undefined; } });
    await fs.mkdir('/d');
    const w = await fs.openWritable('/d/a');
    w.append(bytes('x'));
    await w.sync();
    await w.close();
    await fs.link('/d/a', '/d/b');
    await fs.rename('/d/b', '/d/c');
    await fs.readFile('/d/c');
    await fs.exists('/d/c');
    await fs.stat('/d/c');
    await fs.list('/d');
    await fs.syncDir('/d');
    await fs.truncate('/d/c', 0);
    const r = await fs.openReadable('/d/c');
    r.readSync(0, 1);
    await r.close();
    await fs.remove('/d/c');
    await fs.remove('/d/a');
    await fs.removeDir('/d');
    const l = await fs.lock('/LOCK');
    await l.release();
    const kinds = seen.map((o) => o.kind);
    const all: FaultKind[] = ['open', 'append', 'sync', 'close', 'read', 'list', 'exists', 'stat', 'rename',
      'remove', 'removeDir', 'mkdir', 'syncDir', 'link', 'lock', 'truncate'];
    for (const k of all) expect(kinds).toContain(k);
    expect(seen).toContainEqual({ kind: 'rename', path: '/d/b', target: '/d/c' });
    expect(seen).toContainEqual({ kind: 'open', path: '/d/a', write: true });
    expect(seen).toContainEqual({ kind: 'open', path: '/d/c', write: false });
    expect(fs.operationCount).toBe(seen.length);
  });

  it('injects a truncate failure: the file keeps its bytes', async () => {
    const mem = new MemFileSystem();
    const fs = new FaultFileSystem(mem, { injector: failKind('truncate', { code: 'ENOSPC' }) });
    const w = await mem.openWritable('/a');
    w.append(bytes('abcdef'));
    await w.close();
    expect(isInjected(await caught(() => fs.truncate('/a', 2)))).toBe(true);
    expect(text(await mem.readFile('/a'))).toBe('abcdef');
  });

  it('injects IOErrors whose cause carries the code and the injected mark', async () => {
    const fs = new FaultFileSystem(new MemFileSystem(), { injector: failKind('mkdir', { code: 'ENOSPC' }) });
    const e = await caught(() => fs.mkdir('/x'));
    expect(e).toBeInstanceOf(IOError);
    expect((e as IOError).code).toBe('ERR_IO');
    expect((e as IOError).cause).toMatchObject({ code: 'ENOSPC', injected: true });
    expect((e as Error).message).toContain('/x');
    expect(isInjected(e)).toBe(true);
    // Wrapped again (as the DB does with its sticky ERR_READ_ONLY), still recognisable.
    expect(isInjected(new Error('outer', { cause: new Error('mid', { cause: e }) }))).toBe(true);
    // A real error is not injected.
    const real = await caught(() => fs.readFile('/missing'));
    expect(real).toBeInstanceOf(IOError);
    expect(isInjected(real)).toBe(false);
    expect(isInjected(undefined)).toBe(false);
    expect(isInjected('EIO')).toBe(false);
  });

  it('failNth fails exactly the nth matching operation, or all from it with sticky', async () => {
    const inner = new MemFileSystem();
    const fs = new FaultFileSystem(inner, { injector: failNth(2, { kinds: ['mkdir'] }) });
    const results: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      results.push((await caught(() => fs.mkdir(`/d${i}`))) === undefined);
      await fs.list('/'); // not a mkdir: never counted by the injector
    }
    expect(results).toEqual([true, true, false, true, true]);
    expect(await inner.exists('/d2')).toBe(false); // the failed op did not happen

    fs.setInjector(failNth(1, { sticky: true }));
    const sticky: boolean[] = [];
    for (let i = 0; i < 4; i++) sticky.push((await caught(() => fs.list('/'))) === undefined);
    expect(sticky).toEqual([true, false, false, false]);
  });

  it('failKind and failPath (glob on the base name, glob with a slash, RegExp)', async () => {
    const fs = new FaultFileSystem(new MemFileSystem(), { injector: failKind(['sync', 'rename']) });
    await fs.mkdir('/db');
    const w = await fs.openWritable('/db/MANIFEST-000001');
    w.append(bytes('edit'));
    expect(isInjected(await caught(() => w.sync()))).toBe(true);
    expect(isInjected(await caught(() => fs.rename('/db/MANIFEST-000001', '/db/x')))).toBe(true);
    await w.close();

    fs.setInjector(failPath('MANIFEST-*'));
    expect(isInjected(await caught(() => fs.openWritable('/db/MANIFEST-000002')))).toBe(true);
    expect(await caught(() => fs.openWritable('/db/000002.log'))).toBeUndefined();
    // A rename INTO a matching name counts too: the target is matched as well as the source.
    expect(isInjected(await caught(() => fs.rename('/db/000002.log', '/db/MANIFEST-000003')))).toBe(true);

    fs.setInjector(failPath('/db/*.log', { kinds: ['remove'] }));
    expect(await caught(() => fs.stat('/db/000002.log'))).toBeUndefined();
    expect(isInjected(await caught(() => fs.remove('/db/000002.log')))).toBe(true);

    fs.setInjector(failPath(/\.log$/g)); // the g flag must not make matches alternate
    for (let i = 0; i < 3; i++) expect(isInjected(await caught(() => fs.stat('/db/000002.log')))).toBe(true);
  });

  it('globToRegExp matches literally apart from * and ?', () => {
    expect(globToRegExp('MANIFEST-*').test('MANIFEST-000001')).toBe(true);
    expect(globToRegExp('MANIFEST-*').test('XMANIFEST-1')).toBe(false);
    expect(globToRegExp('*.sst').test('000001.sst')).toBe(true);
    expect(globToRegExp('*.sst').test('000001Xsst')).toBe(false);
    expect(globToRegExp('?.log').test('1.log')).toBe(true);
    expect(globToRegExp('?.log').test('12.log')).toBe(false);
    expect(globToRegExp('/a/*').test('/a/b/c')).toBe(false);
  });

  it('failRandom fails about the given share, replays with the same seed', async () => {
    await withSeed('failRandom', async ({ seed }) => {
      const run = async (): Promise<boolean[]> => {
        const fs = new FaultFileSystem(new MemFileSystem(), { injector: failRandom(0.3, seed) });
        const out: boolean[] = [];
        for (let i = 0; i < 400; i++) out.push((await caught(() => fs.exists('/'))) !== undefined);
        return out;
      };
      const a = await run();
      expect(await run()).toEqual(a);
      const failures = a.filter(Boolean).length;
      expect(failures).toBeGreaterThan(60);
      expect(failures).toBeLessThan(180);
    });
  });

  it('a failed append writes nothing by default; partialAppend leaves a torn prefix', async () => {
    const inner = new MemFileSystem();
    const fs = new FaultFileSystem(inner, { injector: failNth(1, { kinds: ['append'] }) });
    const w = await fs.openWritable('/f');
    w.append(bytes('good'));
    expect(isInjected(await caught(() => w.append(bytes('12345678'))))).toBe(true);
    expect(w.size).toBe(4);
    expect(text(await inner.readFile('/f'))).toBe('good');

    const torn = new FaultFileSystem(inner, { injector: failKind('append'), partialAppend: true });
    const t = await torn.openWritable('/g');
    expect(isInjected(await caught(() => t.append(bytes('12345678'))))).toBe(true);
    expect(text(await inner.readFile('/g'))).toBe('1234');
    expect(t.size).toBe(4);

    const custom = new FaultFileSystem(inner, { injector: failKind('append'), partialAppend: (n) => n + 10 });
    const c = await custom.openWritable('/h');
    await caught(() => c.append(bytes('abc')));
    expect(text(await inner.readFile('/h'))).toBe('ab'); // clamped: a torn write is never complete
  });

  it('routes read, readSync, readSyncInto and close of wrapped files through the injector; close still closes', async () => {
    const inner = new MemFileSystem();
    const fs = new FaultFileSystem(inner);
    const w = await fs.openWritable('/f');
    w.append(bytes('abc'));
    fs.setInjector(failKind('close'));
    expect(isInjected(await caught(() => w.close()))).toBe(true);
    // The inner file is closed even though close reported EIO.
    fs.setInjector(none);
    expect(await caught(() => w.sync())).toBeInstanceOf(IOError);
    expect(isInjected(await caught(() => w.sync()))).toBe(false);

    const r = await fs.openReadable('/f');
    fs.setInjector(failKind('read', { code: 'EACCES' }));
    expect((await caught(() => r.read(0, 3)) as IOError).cause).toMatchObject({ code: 'EACCES' });
    expect(isInjected(await caught(() => r.readSync(0, 3)))).toBe(true);
    expect(isInjected(await caught(() => r.readSyncInto!(0, new Uint8Array(3))))).toBe(true);
    fs.setInjector(none);
    const into = new Uint8Array(3);
    expect(r.readSyncInto!(0, into)).toBe(3);
    expect(text(into)).toBe('abc');
    expect(r.size).toBe(3);
    expect(r.path).toBe('/f');
  });

  it('the fail-at-op-i sweep: each run fails with an injected error until one runs clean', async () => {
    let i = 0;
    for (;; i++) {
      const inner = new MemFileSystem();
      await inner.mkdir('/db');
      const w = await inner.openWritable('/db/CURRENT');
      w.append(bytes('MANIFEST-000001\n'));
      await w.sync();
      await inner.syncDir('/db');
      const fs = new FaultFileSystem(inner, { injector: failNth(i) });
      const err = await caught(() => commitWorkload(fs, 'MANIFEST-000002\n'));
      if (err === undefined) {
        expect(fs.operationCount).toBe(i); // ran clean exactly when i passed the last operation
        break;
      }
      expect(isInjected(err)).toBe(true);
      // After any failure, CURRENT names one of the two manifests in full, live and after a crash.
      for (const view of [inner, inner.crashClone({ keepUnsyncedPercent: 100 })]) {
        expect(['MANIFEST-000001\n', 'MANIFEST-000002\n']).toContain(text(await view.readFile('/db/CURRENT')));
      }
      expect(i).toBeLessThan(50);
    }
    expect(i).toBe(10);
  });
});

describe('FaultFileSystem latency', () => {
  /** A latency function from a table: base name -> ms or plan; anything else undelayed. */
  const byName = (table: Record<string, ReturnType<LatencyFn>>): LatencyFn =>
    (op) => table[op.path.slice(op.path.lastIndexOf('/') + 1)];

  it('delays completions, so they arrive out of order', async () => {
    const inner = new MemFileSystem();
    await inner.mkdir('/d');
    for (const n of ['a', 'b', 'c']) await (await inner.openWritable(`/d/${n}`)).close();
    const fs = new FaultFileSystem(inner, { latency: byName({ a: 6, b: 0 }) });
    const order: string[] = [];
    const track = (name: string, p: Promise<unknown>): Promise<unknown> => p.then(() => order.push(name));
    await Promise.all([
      track('a', fs.stat('/d/a')), track('b', fs.stat('/d/b')), track('c', fs.stat('/d/c')),
    ]);
    // c is not delayed (a microtask), b waits one setImmediate, a waits 6 ms.
    expect(order).toEqual(['c', 'b', 'a']);
    expect(fs.delayedCount).toBe(0);
  });

  it('a delayed sync is not durable in a crash clone until it completes', async () => {
    const inner = new MemFileSystem();
    const fs = new FaultFileSystem(inner, { latency: (op) => (op.kind === 'sync' ? 3 : undefined) });
    const w = await fs.openWritable('/wal');
    await inner.syncDir('/');
    w.append(bytes('record'));
    const sync = w.sync();
    expect(fs.delayedCount).toBe(1);
    // append is a write(2) into the page cache: visible at once, a process crash keeps it.
    expect(text(await inner.crashClone({ keepUnsyncedPercent: 100, keepUnsyncedEntries: true }).readFile('/wal'))).toBe('record');
    expect(text(await inner.crashClone().readFile('/wal'))).toBe('');
    await sync;
    expect(text(await inner.crashClone().readFile('/wal'))).toBe('record');
    await fs.whenUndelayed();
  });

  it('a delayed syncDir makes entries durable only when it completes', async () => {
    const inner = new MemFileSystem();
    await inner.mkdir('/d');
    const fs = new FaultFileSystem(inner, { latency: (op) => (op.kind === 'syncDir' ? 0 : undefined) });
    await (await fs.openWritable('/d/f')).close();
    const p = fs.syncDir('/d');
    expect(await inner.crashClone().list('/d')).toEqual([]);
    await p;
    expect(await inner.crashClone().list('/d')).toEqual(['f']);
  });

  it('namespace operations land before or after their delay, as the plan says', async () => {
    const inner = new MemFileSystem();
    await inner.mkdir('/d');
    for (const n of ['early', 'late']) await (await inner.openWritable(`/d/${n}`)).close();
    const fs = new FaultFileSystem(inner, {
      latency: byName({ early: { ms: 2, applyFirst: true }, late: { ms: 2, applyFirst: false } }),
    });
    let earlyDone = false;
    let lateDone = false;
    const early = fs.rename('/d/early', '/d/early2').then(() => { earlyDone = true; });
    const late = fs.remove('/d/late').then(() => { lateDone = true; });
    await Promise.resolve();
    await Promise.resolve();
    // early is renamed already although its caller has not heard; late is still there.
    expect(await inner.list('/d')).toEqual(['early2', 'late']);
    expect([earlyDone, lateDone]).toEqual([false, false]);
    await Promise.all([early, late]);
    expect(await inner.list('/d')).toEqual(['early2']);
    // A namespace op that fails after landing early still reports its error, late.
    fs.setLatency(() => ({ ms: 0, applyFirst: true }));
    expect(isInjected(await caught(() => fs.remove('/d/missing')))).toBe(false);
    expect(await caught(() => fs.remove('/d/missing'))).toBeInstanceOf(IOError);
  });

  it('append, readSync and lock are never delayed; injected failures are reported without delay', async () => {
    const seen: FaultKind[] = [];
    const fs = new FaultFileSystem(new MemFileSystem(), {
      latency: (op) => { seen.push(op.kind); return 50; },
    });
    const w = await fs.openWritable('/f');
    w.append(bytes('x'));
    const r = await fs.openReadable('/f');
    expect(text(r.readSync(0, 1))).toBe('x');
    await (await fs.lock('/LOCK')).release();
    expect(seen).toEqual(['open', 'open']);
    fs.setInjector(failKind('stat'));
    const before = seen.length;
    expect(isInjected(await caught(() => fs.stat('/f')))).toBe(true);
    expect(seen.length).toBe(before); // failed before the latency function was asked
    fs.setLatency(undefined);
    await w.close();
    await r.close();
  });

  it('seededLatency replays per seed, mixes 0 ms, a few ms and a long tail, and honours kinds and path', async () => {
    await withSeed('seededLatency', ({ seed }) => {
      const ops: FaultOp[] = Array.from({ length: 4000 }, (_, i) => ({
        kind: (['sync', 'rename', 'open', 'stat'] as const)[i % 4]!,
        path: `/db/${String(i).padStart(6, '0')}.${i % 3 === 0 ? 'log' : 'sst'}`,
        ...(i % 4 === 1 ? { target: '/db/x' } : {}),
      }));
      const a = seededLatency(seed, { probability: 0.5, maxMs: 40 });
      const decisions = ops.map((op) => a(op));
      expect(ops.map((op) => seededLatency(seed, { probability: 0.5, maxMs: 40 })(op))).not.toBe(decisions);
      const b = seededLatency(seed, { probability: 0.5, maxMs: 40 });
      expect(ops.map((op) => b(op))).toEqual(decisions);
      const ms = decisions.map((d) => (typeof d === 'object' ? d.ms : d));
      const delayed = ms.filter((m) => m !== undefined);
      expect(delayed.length).toBeGreaterThan(1700);
      expect(delayed.length).toBeLessThan(2300);
      const zero = delayed.filter((m) => m === 0).length;
      const short = delayed.filter((m) => m! >= 1 && m! <= 4).length;
      const long = delayed.filter((m) => m! >= 10).length;
      expect(zero).toBeGreaterThan(delayed.length * 0.35);
      expect(short).toBeGreaterThan(delayed.length * 0.35);
      expect(long).toBeGreaterThan(10);
      expect(long).toBeLessThan(delayed.length * 0.05);
      expect(Math.max(...delayed.map((m) => m!))).toBeLessThanOrEqual(40);
      // Plans only for namespace ops, with both sides of the delay chosen.
      decisions.forEach((d, i) => { if (typeof d === 'object') expect(ops[i]!.kind).toBe('rename'); });
      const plans = decisions.filter((d): d is { ms: number; applyFirst: boolean } => typeof d === 'object');
      expect(plans.some((p) => p.applyFirst)).toBe(true);
      expect(plans.some((p) => !p.applyFirst)).toBe(true);
      // tailEvery: the long tail more often.
      const tails = seededLatency(seed, { probability: 1, maxMs: 40, tailEvery: 4 });
      const longShare = ops.filter((op) => { const d = tails(op); return (typeof d === 'object' ? d.ms : d)! >= 10; }).length / ops.length;
      expect(longShare).toBeGreaterThan(0.2);
      expect(longShare).toBeLessThan(0.3);
      // kinds and path narrow it.
      const onlyLogSyncs = seededLatency(seed, { probability: 1, maxMs: 5, kinds: ['sync'], path: '*.log' });
      ops.forEach((op) => {
        const d = onlyLogSyncs(op);
        expect(d !== undefined).toBe(op.kind === 'sync' && op.path.endsWith('.log'));
      });
    });
  });

  it('turnsPerMs counts delays in event-loop turns: the order replays exactly', async () => {
    const run = async (): Promise<string[]> => {
      const inner = new MemFileSystem();
      const fs = new FaultFileSystem(inner, { latency: (op) => Number(op.path.slice(2)) % 7, turnsPerMs: 1 });
      const order: string[] = [];
      let turnsSeen = 0;
      const ticker = (async () => {
        while (order.length < 20) { await new Promise((r) => setImmediate(r)); turnsSeen++; }
      })();
      await Promise.all(Array.from({ length: 20 }, (_, i) => fs.mkdir(`/d${i}`).then(() => order.push(`${i}@${turnsSeen}`))));
      await ticker;
      return order;
    };
    const a = await run();
    expect(await run()).toEqual(a);
    // d6 waits 7 turns, d7 one: issued later, d7 completes first, and d6 only after several turns.
    const at = (i: number): number => a.findIndex((x) => x.startsWith(`${i}@`));
    expect(at(7)).toBeLessThan(at(6));
    expect(Number(a[at(6)]!.split('@')[1])).toBeGreaterThanOrEqual(5);
  });

  it('whenUndelayed waits for every delayed completion', async () => {
    const inner = new MemFileSystem();
    const fs = new FaultFileSystem(inner, { latency: (op) => Number(op.path.slice(2)) });
    const all = Promise.all(Array.from({ length: 5 }, (_, i) => fs.mkdir(`/d${i}`)));
    expect(fs.delayedCount).toBe(5);
    await fs.whenUndelayed();
    expect(fs.delayedCount).toBe(0);
    expect(await inner.list('/')).toEqual(['d0', 'd1', 'd2', 'd3', 'd4']);
    await all;
  });
});
