/**
 * The memtables and the WAL they are logged in: the active memtable with its WAL writer, the
 * immutable memtables waiting for flush (oldest first), and the switch between them. A switch
 * freezes the active memtable, syncs its WAL and starts the next one; the rolled-over WAL is closed
 * and archived off the write path (retire) and held back from deletion until its archive copy exists.
 *
 * A switch runs only where no write group is in flight (the caller holds the write queue: the
 * leader's makeRoom, or exclusive work), so the WAL a group is appended to and the memtable it is
 * applied to are always a pair.
 *
 * Flushable batches (src/memtable/flushable-batch.ts): a large batch joins the frozen list as it is,
 * with the number of the WAL it was appended to. That WAL must hold the batch alone: the write path
 * switches a non-empty memtable before it (write-path.ts), and the WAL is "sealed" after it, so the
 * next switch() only rolls to a new WAL (freezing the empty active memtable would be pointless).
 * Were a later write logged in the batch's WAL, the flush of the batch could not advance the log
 * number past it, and the next recovery would replay the batch a second time. A flush of the batch
 * waits (whenUnsealed) until its WAL has rolled over, so the log number it records is the next WAL's.
 * Main thread only.
 */
import { MemTable } from '../memtable/memtable.js';
import type { ReadableMemTable } from '../memtable/readable-memtable.js';
import type { FlushableBatch } from '../memtable/flushable-batch.js';
import { invariant } from '../base/invariant.js';
import type { WalWriter } from '../wal/wal-writer.js';
import type { FileSystem } from '../fs/file-system.js';
import type { KeyRing } from '../encryption/keyring.js';
import type { ResolvedOptions } from '../options.js';
import type { EventLog } from './event-log.js';
import type { BackgroundError } from './background-error.js';
import { archiveFinishedWal, createWal, removeEmptyWal } from './wal-files.js';
import type { WalRecycler } from './wal-recycler.js';

/** A memtable (or flushable batch) and the number of the oldest WAL holding its data. */
export interface MemTableEntry {
  mem: ReadableMemTable;
  walNumber: number;
}

export interface MemtableSetHost {
  readonly fs: FileSystem;
  readonly dir: string;
  readonly o: ResolvedOptions;
  readonly keys: KeyRing | undefined;
  readonly log: EventLog;
  readonly failure: BackgroundError;
  /** Obsolete WAL files kept for reuse (recycleLogFileNum). */
  readonly recycler?: WalRecycler;
  newFileNumber(): number;
  /** A memtable was frozen: a flush has work. */
  onFrozen(): void;
  /** A retired WAL's archive copy exists (or archiving gave up): it may now be obsolete. */
  onWalRetired(): void;
  /** Whether a reader of the log holds WAL n (archive retention keeps it). */
  isWalPinned?(n: number): boolean;
}

export class MemtableSet {
  private active: { mem: MemTable; walNumber: number } = { mem: new MemTable(), walNumber: 0 };
  /** The current WAL holds a flushable batch: the next write rolls to a new one first (see header). */
  private sealedWal = false;
  private unsealWaiters: (() => void)[] = [];
  /** Immutable memtables waiting for flush, oldest first. */
  private frozen: MemTableEntry[];
  private wal: WalWriter | undefined;
  /** WALs rolled over but not yet closed and archived: never deleted before that. */
  private readonly retiringWals = new Set<number>();
  private readonly retiring = new Set<Promise<void>>();
  /** forGet()'s answer until the memtables change (a get must not build an array). */
  private getList: readonly ReadableMemTable[] | undefined;

  constructor(private readonly host: MemtableSetHost, recovered: MemTableEntry[]) {
    this.frozen = recovered;
  }

  get mem(): MemTable { return this.active.mem; }
  get immutable(): readonly MemTableEntry[] { return this.frozen; }
  get currentWal(): WalWriter | undefined { return this.wal; }
  get walKeyId(): string | undefined { return this.wal?.keyId; }

  /** The oldest WAL an unflushed memtable still needs. */
  get oldestWalNeeded(): number { return this.frozen[0]?.walNumber ?? this.active.walNumber; }
  /** The log number once the oldest immutable memtable is flushed. */
  get walAfterOldest(): number { return this.frozen[1]?.walNumber ?? this.active.walNumber; }
  isRetiring(walNumber: number): boolean { return this.retiringWals.has(walNumber); }
  /** The current WAL holds a flushable batch: nothing more may be logged in it (see header). */
  get sealed(): boolean { return this.sealedWal; }

  /**
   * Queues a large batch, already appended to the current WAL, as a frozen memtable of its own.
   * REQUIRES: the active memtable is empty and the WAL not sealed (the batch is alone in it).
   */
  addFlushable(batch: FlushableBatch): void {
    invariant(this.active.mem.entries === 0 && !this.sealedWal, 'a flushable batch must be alone in its WAL');
    this.frozen.push({ mem: batch, walNumber: this.active.walNumber });
    this.sealedWal = true;
    this.getList = undefined;
    this.host.log.write(`flushable batch of ${batch.entries} entries (seq ${batch.firstSeq}-${batch.lastSeq}) queued from WAL ${this.active.walNumber}`);
    this.host.onFrozen();
  }

  /**
   * Resolves once the current WAL is not sealed (at once when it is not), or when released: the
   * caller must check `sealed` again.
   */
  whenUnsealed(): Promise<void> {
    if (!this.sealedWal) return Promise.resolve();
    return new Promise((resolve) => this.unsealWaiters.push(resolve));
  }

  /** Wakes whenUnsealed() waiters whatever the state (the roll they wait for will not come). */
  releaseUnsealWaiters(): void {
    const w = this.unsealWaiters;
    this.unsealWaiters = [];
    for (const f of w) f();
  }

  /** forRead() as a shared read-only array, rebuilt only when the memtables change (point reads). */
  forGet(): readonly ReadableMemTable[] {
    return (this.getList ??= this.forRead());
  }

  /** Every memtable, oldest first (the read order is newest first). */
  forRead(): ReadableMemTable[] {
    const out: ReadableMemTable[] = [];
    for (const e of this.frozen) out.push(e.mem);
    out.push(this.active.mem);
    return out;
  }

  /** Bytes held by every memtable. */
  memoryUsage(): number {
    let bytes = this.active.mem.approximateMemoryUsage();
    for (const e of this.frozen) bytes += e.mem.approximateMemoryUsage();
    return bytes;
  }

  /** The oldest immutable memtable was flushed and installed: let it go. */
  dropOldest(): void {
    this.frozen.shift();
    this.getList = undefined;
  }

  /** Read-only views: the state recovered anew by a catch-up replaces everything in memory. */
  replace(recovered: MemTableEntry[]): void {
    this.frozen = recovered;
    this.active = { mem: new MemTable(), walNumber: 0 };
    this.getList = undefined;
    this.sealedWal = false;
    this.releaseUnsealWaiters();
  }

  /** The first WAL of a writable open. */
  async start(): Promise<void> {
    const n = this.host.newFileNumber();
    const wal = await this.create(n);
    this.wal = wal;
    this.active = { mem: new MemTable(), walNumber: n };
    this.getList = undefined;
    this.host.log.write(`new WAL ${n}`);
  }

  /**
   * Freezes the active memtable and starts a new WAL (see the header for where it may run).
   * `force`: switch even an empty memtable (key rotation wants a WAL under the new key now).
   * A sealed WAL with an empty memtable only rolls over: the memtable goes on, under the new WAL.
   */
  async switch(force = false): Promise<void> {
    const freeze = this.active.mem.entries > 0 || force;
    if (!freeze && !this.sealedWal) return;
    const n = this.host.newFileNumber();
    const wal = await this.create(n);
    const old = this.wal;
    if (old) {
      // A WAL is fsynced when it rolls over, BEFORE the next one takes a write: only the newest WAL
      // may ever have a torn tail (a damaged older WAL is corruption at open).
      try {
        await old.sync();
      } catch (e) {
        this.host.failure.set(e, `sync of WAL ${old.logNumber} at rollover failed`);
        await wal.close().catch(() => undefined);
        throw e;
      }
    }
    const oldMem = this.active;
    this.wal = wal;
    this.active = { mem: freeze ? new MemTable() : oldMem.mem, walNumber: n };
    if (freeze) this.frozen.push(oldMem);
    this.getList = undefined;
    this.host.log.write(freeze ? `new WAL ${n}; memtable of ${oldMem.mem.entries} entries frozen` : `new WAL ${n} after a flushable batch`);
    if (old) this.retire(old);
    if (this.sealedWal) {
      this.sealedWal = false;
      this.releaseUnsealWaiters();
    }
    if (freeze) this.host.onFrozen();
  }

  /** Close: waits for retiring WALs, then syncs, closes and archives (or removes, if empty) the current one. */
  async close(step: (f: () => Promise<unknown> | unknown) => Promise<void>): Promise<void> {
    await step(() => Promise.all(this.retiring));
    const wal = this.wal;
    if (!wal) return;
    const { fs, dir, log, o } = this.host;
    await step(() => wal.sync());
    await step(() => wal.close());
    // An unused WAL holds nothing: remove it rather than leave one empty log per open.
    if (wal.size > 0) await step(() => archiveFinishedWal(fs, dir, wal.logNumber, o, log, this.host.isWalPinned?.bind(this.host)));
    else await step(() => removeEmptyWal(fs, dir, wal.logNumber));
  }

  private async create(n: number): Promise<WalWriter> {
    try {
      return await createWal(this.host.fs, this.host.dir, n, this.host.keys, this.host.recycler, this.host.log);
    } catch (e) {
      this.host.failure.set(e, `creating WAL ${n} failed`);
      throw e;
    }
  }

  /**
   * Closes a rolled-over WAL and archives it, off the write path. Until the archive copy exists the
   * file is held back from deletion, even when its memtable is flushed first.
   */
  private retire(old: WalWriter): void {
    const { fs, dir, log, o } = this.host;
    const n = old.logNumber;
    this.retiringWals.add(n);
    const done = (async () => {
      await old.close().catch((e: unknown) => log.write(`closing WAL ${n} failed: ${(e as Error).message}`));
      await archiveFinishedWal(fs, dir, n, o, log, this.host.isWalPinned?.bind(this.host));
    })().finally(() => {
      this.retiringWals.delete(n);
      this.retiring.delete(done);
      // Its flush may have finished first and skipped it: it may go now if nothing needs it.
      this.host.onWalRetired();
    });
    this.retiring.add(done);
  }
}
