/**
 * StrataErrors crossing a worker boundary: structured clone keeps only plain Error fields, so errors
 * travel as plain data and are rebuilt with their class, code, file and offset on the other side.
 */
import {
  CorruptionError, InternalError, IOError, NotSupportedError, StrataError, type ErrorCodeValue,
} from '../src/errors.js';

export interface TransferredError {
  name: string;
  code: string | undefined;
  message: string;
  stack: string | undefined;
  file?: string;
  offset?: number;
  causeCode?: string;
}

export function toTransferable(e: unknown): TransferredError {
  const err = e instanceof Error ? e : new Error(String(e));
  const out: TransferredError = {
    name: err.name, code: (err as { code?: string }).code, message: err.message, stack: err.stack,
  };
  if (err instanceof CorruptionError) { out.file = err.file; out.offset = err.offset; }
  const cause = (err as { cause?: { code?: unknown } }).cause;
  if (cause && typeof cause.code === 'string') out.causeCode = cause.code;
  return out;
}

export function fromTransferable(t: TransferredError): Error {
  let e: Error;
  switch (t.code) {
    case 'ERR_CORRUPTION': {
      const c = new CorruptionError(t.file ?? '?', t.offset ?? 0, '');
      c.message = t.message;
      e = c;
      break;
    }
    case 'ERR_IO':
      e = new IOError(t.message, t.causeCode ? { cause: Object.assign(new Error(t.causeCode), { code: t.causeCode }) } : {});
      break;
    case 'ERR_NOT_SUPPORTED':
      e = new NotSupportedError(t.message);
      break;
    default:
      e = t.code && t.code.startsWith('ERR_') ? new StrataError(t.code as ErrorCodeValue, t.message) : new InternalError(`compaction worker failed: ${t.message}`);
  }
  if (t.stack) e.stack = `${t.stack}\n    (in a compaction worker)`;
  return e;
}
