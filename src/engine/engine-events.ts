/**
 * The engine's events (RocksDB's EventListener, as Node events on the DB: README "Events"): the
 * payload types, the typed map `db.on()` checks against, and EngineEvents, the one way engine code
 * emits. The DB facade is the EventEmitter; it attaches itself here, so nothing in src/engine/ imports it.
 *
 * Contract:
 * - Each kind of event is emitted from the one place the thing already happens (the LOG line or the
 *   stats counter beside it), on the main thread, synchronously, so a listener sees the state the
 *   event describes (after a flush's end, stats() counts it).
 * - No cost when nobody listens: callers ask listening() before building a payload.
 * - A job's end is emitted only if its begin was (a listener added mid-job sees no lone end), and
 *   begin always comes before end.
 * - A listener cannot break the engine: each one is called on its own, a throw (or a rejected promise
 *   from an async listener) is caught and re-emitted as the DB's 'error' event on the next tick, the
 *   way EventEmitter's captureRejections routes rejections. Every other listener still runs. With no
 *   'error' listener, Node's rule for 'error' applies: it is thrown, as an uncaught exception.
 * - After 'close', nothing more is emitted.
 * Main thread only.
 */
import type { EventEmitter } from 'node:events';
import type { CompactionReason } from '../../compaction/plan.js';

export type { CompactionReason };

/** A flush of one memtable to an L0 table. `jobId` pairs begin and end (shared numbering with compactions). */
export type FlushEvent =
  | { phase: 'begin'; jobId: number; bytes: number; entries: number }
  | {
    phase: 'end'; jobId: number; bytes: number; entries: number;
    /** The L0 table written; undefined when the memtable held nothing to write (or on failure). */
    fileNumber: number | undefined; fileSize: number; durationMs: number;
    /** Set when the flush failed for good (the database is then read-only: see 'background-error'). */
    error?: Error;
  };

interface CompactionBase {
  jobId: number;
  reason: CompactionReason;
  /** Input files by level (file numbers); the first entry is the level that started it. */
  inputs: { level: number; files: number[] }[];
  outputLevel: number;
  /** File sizes of the inputs. */
  inputBytes: number;
  /** A trivial move re-links one file one level down without reading it. */
  trivialMove: boolean;
}

export type CompactionEvent =
  | (CompactionBase & { phase: 'begin' })
  | (CompactionBase & {
    phase: 'end'; bytesRead: number; bytesWritten: number; outputs: number[]; durationMs: number;
    /** Set when this attempt failed (it is retried with back-off unless 'background-error' says read-only). */
    error?: Error;
  });

/** Why writes wait: L0 at level0SlowdownTrigger / level0StopTrigger files, or every memtable full. */
export type StallReason = 'l0-slowdown' | 'l0-stop' | 'memtables-full';

export type StallEvent =
  | { phase: 'begin'; reason: StallReason }
  | { phase: 'end'; reason: StallReason; durationMs: number };

export interface BackgroundErrorEvent {
  error: Error;
  /** True when the failure is sticky: writes are refused (ERR_READ_ONLY) until the database is reopened. */
  readOnly: boolean;
  /** What failed, as in the LOG line (e.g. 'WAL write or sync failed', 'flush attempt 1 of 5 failed'). */
  reason: string;
}

/** The DB's events and their arguments: `db.on('flush', (e) => e.bytes)` is typed from this. */
export interface DBEventMap {
  flush: [FlushEvent];
  compaction: [CompactionEvent];
  stall: [StallEvent];
  'background-error': [BackgroundErrorEvent];
  /** The database closed: files released, LOCK let go (a listener may reopen it). The last event. */
  close: [];
  /** A listener of another event threw (or its promise rejected): the thrown value. */
  error: [unknown];
}

type EngineEventName = Exclude<keyof DBEventMap, 'error'>;

/** A job whose begin was emitted: what its end needs. */
export interface JobToken { jobId: number; t0: number }

export class EngineEvents {
  private target: EventEmitter | undefined;
  private nextJobId = 1;

  /** The DB facade: the emitter every event goes to. */
  attach(target: EventEmitter): void { this.target = target; }

  /** Whether anybody listens to `name` (false once closed): ask before building a payload. */
  listening(name: EngineEventName): boolean {
    return this.target !== undefined && this.target.listenerCount(name) > 0;
  }

  /** Begins a job if anybody listens to `name`: the token its end needs, else undefined. */
  beginJob(name: 'flush' | 'compaction'): JobToken | undefined {
    return this.listening(name) ? { jobId: this.nextJobId++, t0: performance.now() } : undefined;
  }

  emit<K extends EngineEventName>(name: K, ...args: DBEventMap[K]): void {
    const target = this.target;
    if (!target) return;
    // rawListeners: a once() wrapper removes itself when called, as emit() would do.
    for (const listener of target.rawListeners(name)) {
      try {
        const r: unknown = (listener as (...a: unknown[]) => unknown).apply(target, args);
        if (r !== null && typeof r === 'object' && typeof (r as Promise<unknown>).then === 'function') {
          (r as Promise<unknown>).then(undefined, (e: unknown) => this.routeListenerError(target, e));
        }
      } catch (e) {
        this.routeListenerError(target, e);
      }
    }
  }

  /** Emits 'close' and then nothing ever again. */
  close(): void {
    this.emit('close');
    this.target = undefined;
  }

  private routeListenerError(target: EventEmitter, e: unknown): void {
    // Off the engine's stack: whatever the 'error' listener (or its absence) does, the engine's step
    // that emitted has already finished.
    process.nextTick(() => target.emit('error', e));
  }
}
