/**
 * The one rule for `signal` (AbortSignal) options: reads (get, getMany, has, hasMany), iterators and
 * backups check the argument here, refuse to start once the signal has fired, and reject with
 * ERR_ABORTED (the signal's reason as `cause`), never with the DOM's AbortError, so the error code
 * stays the contract. Main thread only.
 */
import { AbortedError, InvalidArgumentError } from '../errors.js';
import { describe } from './arguments.js';

/** An optional `signal` option: undefined, or an AbortSignal (anything else is ERR_INVALID_ARGUMENT). */
export function signalArg(name: string, v: unknown): AbortSignal | undefined {
  if (v === undefined) return undefined;
  if (!(v instanceof AbortSignal)) throw new InvalidArgumentError(`${name} must be an AbortSignal (got ${describe(v)})`);
  return v;
}

/** The error an aborted operation rejects with. */
export function abortedError(what: string, signal: AbortSignal): AbortedError {
  return new AbortedError(`${what} was aborted`, { cause: signal.reason });
}

/** Throws ERR_ABORTED when `signal` has fired. */
export function throwIfAborted(what: string, signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(what, signal);
}

/**
 * `p`, or ERR_ABORTED as soon as `signal` fires, whichever comes first. The work behind `p` is not
 * cancelled (a read in flight finishes and is dropped); only the caller stops waiting for it.
 */
export function abortable<T>(what: string, p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(abortedError(what, signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortedError(what, signal));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
