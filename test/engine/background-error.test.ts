/**
 * BackgroundError alone (src/engine/background-error.ts): the first failure wins and is logged once,
 * a non-Error is wrapped, and refusal() turns it into ERR_READ_ONLY with the failure as its cause.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, IOError, ReadOnlyError, StrataError } from '../../src/errors.js';
import { BackgroundError } from '../../src/engine/background-error.js';

function make(): { failure: BackgroundError; lines: string[] } {
  const lines: string[] = [];
  return { failure: new BackgroundError((l) => lines.push(l)), lines };
}

describe('BackgroundError', () => {
  it('is healthy until set: no error, no refusal, nothing logged', () => {
    const { failure, lines } = make();
    expect(failure.error).toBeUndefined();
    expect(failure.refusal()).toBeUndefined();
    expect(lines).toEqual([]);
  });

  it('the first error wins; later ones are neither kept nor logged', () => {
    const { failure, lines } = make();
    const first = new IOError('EIO on 000007.log');
    failure.set(first, 'WAL write or sync failed');
    failure.set(new Error('second'), 'flush failed');
    expect(failure.error).toBe(first);
    expect(lines).toEqual([
      'ERROR WAL write or sync failed: EIO on 000007.log; the database is now read-only until reopened',
    ]);
  });

  it('refusal() is ERR_READ_ONLY naming what was refused, with the first error as cause', () => {
    const { failure } = make();
    const first = new IOError('disk full');
    failure.set(first, 'flush failed repeatedly');
    const r = failure.refusal('put refused');
    expect(r).toBeInstanceOf(ReadOnlyError);
    expect(r?.code).toBe(ErrorCode.READ_ONLY);
    expect(r?.message).toBe('put refused: disk full');
    expect(r?.cause).toBe(first);
    expect(failure.refusal()?.message).toBe('the database refuses writes after an earlier failure: disk full');
    expect(failure.refusal()).not.toBe(failure.refusal()); // a fresh error per refusal (its own stack)
  });

  it('a thrown non-Error is kept as an ERR_INTERNAL StrataError', () => {
    const { failure, lines } = make();
    failure.set('a string', 'compaction failed');
    expect(failure.error).toBeInstanceOf(StrataError);
    expect((failure.error as StrataError).code).toBe(ErrorCode.INTERNAL);
    expect(failure.error?.message).toBe('a string');
    expect(lines[0]).toBe('ERROR compaction failed: a string; the database is now read-only until reopened');
  });
});
