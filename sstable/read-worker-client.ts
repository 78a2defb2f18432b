/**
 * BlockReadWorker: the main thread's side of the block-read worker (read-worker.ts). While several
 * gets are in flight, a get whose data block misses the cache asks this instead of reading it
 * synchronously: the misses asked for within one turn go to the worker as one message, and the main
 * thread runs other gets' lookups while the worker reads and decodes. One get at a time, and cache
 * hits, never come here (a round trip costs more than a synchronous page-cache read).
 * Contract: read() resolves with the decoded block bytes, or undefined when the main thread must read
 * the block itself (the worker could not open or read the file, found it damaged, the worker is
 * closed or never started): never an error, never a wrong block. The worker starts on first use,
 * is unref'd while nothing waits on it, and a worker that cannot start (a bundle without its file)
 * turns this off for good: every read then stays synchronous, as without it.
 * Main thread only.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RemoteBlockReads } from './block-fetch.js';
import type { BlockFileName, BlockReadReply } from './read-worker.js';

/** The compiled worker entry beside this module (vitest runs the sources; workers need compiled JS). */
export function defaultReadWorkerScript(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) return path.join(path.dirname(here), '..', 'dist', 'sstable', 'read-worker.js');
  return path.join(path.dirname(here), 'read-worker.js');
}

type Waiter = (data: Uint8Array | undefined) => void;

export class BlockReadWorker implements RemoteBlockReads {
  private worker: Worker | undefined;
  private ready = false;
  /** Off for good: closed, or the worker could not start. */
  private off = false;
  private queue: number[] = [];
  private queueVerify = true;
  private readonly fileIds = new Map<string, number>();
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 1;
  private pendingNames: BlockFileName[] = [];
  private nextFileId = 1;
  private flushQueued = false;
  /** Gets begun since the last microtask checkpoint: >= minBurst means several are in flight. */
  private burst = 0;
  private readonly endBurst = (): void => { this.burst = 0; };
  private readonly flush = (): void => { this.send(); };
  /** Set when the worker could not start (for the LOG). */
  onFallback: ((reason: string) => void) | undefined;

  constructor(private readonly script: string = defaultReadWorkerScript(), private readonly minBurst = 2) {}

  /** Counts a get: gets begun in one synchronous stretch are in flight together. */
  noteGet(): void {
    if (this.burst++ === 0) queueMicrotask(this.endBurst);
  }

  wanted(): boolean {
    return !this.off && (this.waiting.size > 0 || this.burst >= this.minBurst);
  }

  /** Requests waiting for the worker (tests). */
  get pending(): number { return this.waiting.size; }

  get started(): boolean { return this.worker !== undefined; }

  read(filePath: string, offset: number, size: number, verify: boolean): Promise<Uint8Array | undefined> {
    if (this.off) return Promise.resolve(undefined);
    this.reads++;
    const id = this.nextId++;
    let fileId = this.fileIds.get(filePath);
    if (fileId === undefined) {
      fileId = this.nextFileId++;
      this.fileIds.set(filePath, fileId);
      this.pendingNames.push({ type: 'file', fileId, path: filePath });
    }
    if (!verify) this.queueVerify = false;
    this.queue.push(id, fileId, offset, size);
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(this.flush);
    }
    if (this.waiting.size === 0) this.worker?.ref();
    return new Promise((resolve) => { this.waiting.set(id, resolve); });
  }

  /** Tells the worker a table is closed (its fd can go). */
  forget(filePath: string): void {
    this.fileIds.delete(filePath);
    if (this.worker !== undefined && !this.off) this.worker.postMessage({ type: 'forget', paths: [filePath] });
  }

  private start(): Worker {
    const w = new Worker(this.script);
    w.on('message', (m: BlockReadReply | { type: 'ready' }) => {
      if (m.type === 'ready') { this.ready = true; return; }
      for (let i = 0; i < m.ids.length; i++) this.settle(m.ids[i]!, m.data[i]);
    });
    const die = (why: string): void => {
      if (!this.ready) this.onFallback?.(why);
      this.stop();
    };
    w.on('error', (e: Error) => die(e.message));
    w.on('exit', (code) => die(`read worker exited with code ${code}`));
    this.worker = w;
    return w;
  }

  private settle(id: number, data: Uint8Array | undefined): void {
    const resolve = this.waiting.get(id);
    if (resolve === undefined) return;
    this.waiting.delete(id);
    if (this.waiting.size === 0) this.worker?.unref();
    resolve(data);
  }

  private send(): void {
    this.flushQueued = false;
    const reqs = this.queue;
    if (reqs.length === 0 || this.off) return;
    this.queue = [];
    const w = this.worker ?? this.start();
    for (const n of this.pendingNames) w.postMessage(n);
    this.pendingNames = [];
    w.postMessage({ type: 'read', reqs: new Float64Array(reqs), verify: this.queueVerify });
    this.queueVerify = true;
  }

  /** Everything still waiting falls back to the main thread's own read. */
  private stop(): void {
    if (this.off) return;
    this.off = true;
    this.queue = [];
    const w = this.worker;
    if (w !== undefined) void w.terminate();
    const all = [...this.waiting.values()];
    this.waiting.clear();
    for (const resolve of all) resolve(undefined);
  }

  reads = 0;
  async close(): Promise<void> {
    if (process.env.STRATA_READ_WORKER_DEBUG) console.error(`read worker: ${this.reads} remote reads`);
    const w = this.worker;
    this.stop();
    if (w !== undefined) await w.terminate();
  }
}
