/**
 * StrataError and its stable codes: the error contract of the whole engine (DESIGN.md "Errors").
 * The `code` is the contract; subclasses add structured fields (file and offset for corruption).
 * Every layer, sstable/ and compaction/ included, throws these; nothing else escapes the public API.
 */

export const ErrorCode = {
  CORRUPTION: 'ERR_CORRUPTION',
  IO: 'ERR_IO',
  INVALID_ARGUMENT: 'ERR_INVALID_ARGUMENT',
  LOCKED: 'ERR_LOCKED',
  CLOSED: 'ERR_CLOSED',
  READ_ONLY: 'ERR_READ_ONLY',
  TXN_CONFLICT: 'ERR_TXN_CONFLICT',
  TXN_TIMEOUT: 'ERR_TXN_TIMEOUT',
  TOO_LARGE: 'ERR_TOO_LARGE',
  NOT_SUPPORTED: 'ERR_NOT_SUPPORTED',
  ABORTED: 'ERR_ABORTED',
  BUSY: 'ERR_BUSY',
  INTERNAL: 'ERR_INTERNAL',
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

export class StrataError extends Error {
  readonly code: ErrorCodeValue;
  constructor(code: ErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'StrataError';
  }
}

/** A checksum failed, or a file is truncated or malformed. Names the file and the byte offset. */
export class CorruptionError extends StrataError {
  readonly file: string;
  readonly offset: number;
  constructor(file: string, offset: number, detail: string, options?: { cause?: unknown }) {
    super(ErrorCode.CORRUPTION, `${file}: corruption at offset ${offset}: ${detail}`, options);
    this.name = 'CorruptionError';
    this.file = file;
    this.offset = offset;
  }
}

/** The OS refused an operation; the OS error is the `cause`. */
export class IOError extends StrataError {
  readonly path: string | undefined;
  constructor(message: string, options?: { cause?: unknown; path?: string }) {
    super(ErrorCode.IO, message, options);
    this.name = 'IOError';
    this.path = options?.path;
  }
}

export class InvalidArgumentError extends StrataError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.INVALID_ARGUMENT, message, options);
    this.name = 'InvalidArgumentError';
  }
}

export class LockedError extends StrataError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.LOCKED, message, options);
    this.name = 'LockedError';
  }
}

export class DatabaseClosedError extends StrataError {
  constructor(message = 'the database is closed') {
    super(ErrorCode.CLOSED, message);
    this.name = 'DatabaseClosedError';
  }
}

export class ReadOnlyError extends StrataError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.READ_ONLY, message, options);
    this.name = 'ReadOnlyError';
  }
}

export class TransactionConflictError extends StrataError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.TXN_CONFLICT, message, options);
    this.name = 'TransactionConflictError';
  }
}

/**
 * A pessimistic transaction lost a deadlock: it was the youngest on a cycle of lock waits. The code is
 * ERR_TXN_CONFLICT (a conflict with concurrent transactions that a retry resolves, as a refused
 * optimistic commit); the class tells the two apart.
 */
export class DeadlockError extends TransactionConflictError {
  constructor(message: string) {
    super(message);
    this.name = 'DeadlockError';
  }
}

/**
 * A pessimistic transaction waited longer than its `lockTimeoutMs` for a key lock (retryable: the
 * holder may be slow, not stuck; a separate code, so a caller can tell a long holder from a conflict).
 */
export class LockTimeoutError extends StrataError {
  constructor(message: string) {
    super(ErrorCode.TXN_TIMEOUT, message);
    this.name = 'LockTimeoutError';
  }
}

export class TooLargeError extends StrataError {
  constructor(message: string) {
    super(ErrorCode.TOO_LARGE, message);
    this.name = 'TooLargeError';
  }
}

export class NotSupportedError extends StrataError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.NOT_SUPPORTED, message, options);
    this.name = 'NotSupportedError';
  }
}

export class AbortedError extends StrataError {
  constructor(message = 'the operation was aborted', options?: { cause?: unknown }) {
    super(ErrorCode.ABORTED, message, options);
    this.name = 'AbortedError';
  }
}

/**
 * A read-only DB met the files of a live writer in motion (a table or WAL it needed was removed, or
 * CURRENT/MANIFEST kept changing while it read them). Nothing is damaged: retry the open, or call
 * db.tryCatchUpWithPrimary(). `path` names the file, when one vanished.
 */
export class BusyError extends StrataError {
  readonly path: string | undefined;
  constructor(message: string, options?: { cause?: unknown; path?: string }) {
    super(ErrorCode.BUSY, message, options);
    this.name = 'BusyError';
    this.path = options?.path;
  }
}

export class InternalError extends StrataError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.INTERNAL, message, options);
    this.name = 'InternalError';
  }
}

export function isStrataError(e: unknown, code?: ErrorCodeValue): e is StrataError {
  return e instanceof StrataError && (code === undefined || e.code === code);
}
