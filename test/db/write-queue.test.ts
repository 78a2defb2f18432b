/**
 * The group-commit queue (src/write-queue.ts) with a fake host: exclusive work (a memtable switch)
 * runs after every write submitted before it is applied, before any submitted after it, and never
 * while a group sits between its WAL append and its memtable insert, however slow the fdatasync is.
 * The host's sync completes only when the test says so: no timers. The leader starts in a microtask
 * (writers submitted in one synchronous run share a group), so `await leaderRan()` lets it start.
 */
import { describe, expect, it } from 'vitest';
import { WriteQueue, type WriteQueueHost, type WriteRequest } from '../../src/engine/write-queue.js';

class FakeHost implements WriteQueueHost {
  readonly events: string[] = [];
  seq = 0;
  /** Set between a group's append and its apply. */
  inFlight = false;
  error: Error | undefined;
  private syncs: (() => void)[] = [];

  accept(): void {}
  writeError(): Error | undefined { return this.error; }
  /** The head of the queue each makeRoom was asked for. */
  readonly rooms: string[] = [];
  makeRoom(first: WriteRequest): undefined { this.rooms.push(name(first)); return undefined; }
  /** Requests named L… are large: a group of their own. */
  isLarge(r: WriteRequest): boolean { return name(r).startsWith('L'); }
  lastSequence(): number { return this.seq; }
  appendToWal(group: readonly WriteRequest[]): void {
    this.inFlight = true;
    this.events.push(`append ${group.map(name).join(',')}`);
  }
  syncWal(): Promise<void> { return new Promise((resolve) => this.syncs.push(resolve)); }
  apply(group: readonly WriteRequest[], firstSeq: number): void {
    this.inFlight = false;
    this.seq = firstSeq + group.length - 1;
    this.events.push(`apply ${group.map(name).join(',')}`);
  }
  onWalFailure(): void {}
  now(): number { return 0; }

  /** Completes the oldest pending fdatasync; resolves once one was pending. */
  async completeSync(): Promise<void> {
    while (this.syncs.length === 0) await new Promise((r) => setImmediate(r));
    this.syncs.shift()!();
  }
}

/** Lets the microtask that starts a leader run (it was queued by the first submit). */
const leaderRan = (): Promise<void> => Promise.resolve();

const names = new WeakMap<WriteRequest, string>();
function name(r: WriteRequest): string { return names.get(r) ?? '?'; }

function write(q: WriteQueue, label: string, sync: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const r: WriteRequest = { ops: new Uint8Array(1), count: 1, userBytes: 1, sync, resolve, reject };
    names.set(r, label);
    q.submit(r);
  });
}

describe('WriteQueue.exclusive', () => {
  it('waits for the group whose fdatasync is in flight, and later writes wait for it', async () => {
    const host = new FakeHost();
    const q = new WriteQueue(host);
    const a = write(q, 'a', true); // leads; its sync is held
    const sw = q.exclusive(async () => {
      expect(host.inFlight, 'a group between append and apply').toBe(false);
      host.events.push('switch');
    });
    const b = write(q, 'b', false);
    await leaderRan();
    expect(host.events).toEqual(['append a']);
    await host.completeSync();
    await Promise.all([a, sw, b]);
    expect(host.events).toEqual(['append a', 'apply a', 'switch', 'append b', 'apply b']);
  });

  it('writers submitted together share a group, and a group never spans an exclusive entry', async () => {
    const host = new FakeHost();
    const q = new WriteQueue(host);
    const first = write(q, 'w0', true);
    const rest = [write(q, 'w1', false), write(q, 'w2', false)];
    const sw = q.exclusive(async () => { host.events.push('switch'); });
    const after = [write(q, 'w3', false), write(q, 'w4', false)];
    await host.completeSync();
    await Promise.all([first, ...rest, sw, ...after]);
    expect(host.events).toEqual([
      'append w0,w1,w2', 'apply w0,w1,w2', 'switch', 'append w3,w4', 'apply w3,w4',
    ]);
  });

  it('an exclusive entry that fails rejects its caller only; writes go on', async () => {
    const host = new FakeHost();
    const q = new WriteQueue(host);
    const sw = q.exclusive(async () => { throw new Error('switch failed'); }).then(() => undefined, (e: unknown) => e);
    const w = write(q, 'w', false);
    expect(await sw).toMatchObject({ message: 'switch failed' });
    await w;
    expect(host.events).toEqual(['append w', 'apply w']);
  });

  it('is refused, without running, once writes are refused', async () => {
    const host = new FakeHost();
    const q = new WriteQueue(host);
    const a = write(q, 'a', true);
    let ran = false;
    const sw = q.exclusive(async () => { ran = true; }).then(() => undefined, (e: unknown) => e);
    await leaderRan(); // a's fdatasync is in flight
    host.error = new Error('read-only');
    await host.completeSync();
    await a;
    expect(await sw).toMatchObject({ message: 'read-only' });
    expect(ran).toBe(false);
    await q.whenIdle();
  });
});

describe('WriteQueue grouping', () => {
  it('32 writes submitted at once make one group: one WAL append', async () => {
    const host = new FakeHost();
    const q = new WriteQueue(host);
    await Promise.all(Array.from({ length: 32 }, (_, i) => write(q, `w${i}`, false)));
    expect(host.events.filter((e) => e.startsWith('append'))).toHaveLength(1);
    expect(host.seq).toBe(32);
  });

  it('writers that each keep one write in flight group: appends per write fall with the writer count', async () => {
    const host = new FakeHost();
    const q = new WriteQueue(host);
    const writers = 16, each = 50;
    await Promise.all(Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < each; i++) await write(q, `w${w}.${i}`, false);
    }));
    const appends = host.events.filter((e) => e.startsWith('append')).length;
    expect(host.seq).toBe(writers * each);
    // Each round of continuations is one group: about `each` appends, not writers * each.
    expect(appends, `${appends} appends for ${writers * each} writes`).toBeLessThanOrEqual(each + 2);
  });

  it('a large request is a group of its own, and makeRoom is asked for it as the head', async () => {
    const host = new FakeHost();
    const q = new WriteQueue(host);
    await Promise.all(['a', 'b', 'L1', 'L2', 'c', 'd'].map((n) => write(q, n, false)));
    expect(host.events.filter((e) => e.startsWith('append'))).toEqual(['append a,b', 'append L1', 'append L2', 'append c,d']);
    expect(host.rooms).toEqual(['a', 'L1', 'L2', 'c']);
  });

  it('a large head refused by its validation takes nothing after it into its group', async () => {
    const host = new FakeHost();
    const q = new WriteQueue(host);
    const refused = new Promise<void>((resolve, reject) => {
      const r: WriteRequest = { ops: new Uint8Array(1), count: 1, userBytes: 1, sync: false, resolve, reject,
        validate: () => new Error('conflict') };
      names.set(r, 'L0');
      q.submit(r);
    });
    const rest = ['a', 'b'].map((n) => write(q, n, false));
    await expect(refused).rejects.toThrow('conflict');
    await Promise.all(rest);
    expect(host.events.filter((e) => e.startsWith('append'))).toEqual(['append a,b']);
    expect(host.rooms).toEqual(['L0', 'a']);
  });
});
