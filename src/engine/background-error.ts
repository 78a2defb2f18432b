/**
 * The engine's sticky failure: the first failed WAL/MANIFEST write or sync, or a background job that
 * failed for good. From then on writes are refused with ERR_READ_ONLY (reads go on) until the database
 * is reopened: refusing is how an acknowledged write is never lost behind a write that failed.
 * Every part of the engine that can fail that way reports here; every part that must stop asks here.
 */
import { ReadOnlyError, StrataError } from '../errors.js';

export class BackgroundError {
  private first: Error | undefined;

  /** `onSet` hears the first failure once, after it is recorded (the 'background-error' event). */
  constructor(private readonly log: (line: string) => void, private readonly onSet?: (e: Error, what: string) => void) {}

  /** The first failure, or undefined while the engine is healthy. */
  get error(): Error | undefined { return this.first; }

  /** Records `e` unless a failure is already recorded (the first one is the cause). */
  set(e: unknown, what: string): void {
    if (this.first) return;
    this.first = e instanceof Error ? e : new StrataError('ERR_INTERNAL', String(e));
    this.log(`ERROR ${what}: ${this.first.message}; the database is now read-only until reopened`);
    this.onSet?.(this.first, what);
  }

  /** The error to refuse a write with, or undefined. `what` names what was refused. */
  refusal(what = 'the database refuses writes after an earlier failure'): ReadOnlyError | undefined {
    const e = this.first;
    return e ? new ReadOnlyError(`${what}: ${e.message}`, { cause: e }) : undefined;
  }
}
