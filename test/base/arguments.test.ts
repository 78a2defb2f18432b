/**
 * The one module of argument checks: each rule refuses with ERR_INVALID_ARGUMENT naming the argument
 * and what was expected, and lets good values through unchanged.
 */
import { describe as group, expect, it } from 'vitest';
import { booleanArg, describe, encryptionArg, keyArg, limitArg, optionsArg, unknownOption } from '../../src/base/arguments.js';

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

group('keyArg', () => {
  it('takes bytes as they are and strings as UTF-8', () => {
    const b = Uint8Array.of(1, 2);
    expect(keyArg('key', b)).toBe(b);
    expect([...keyArg('key', 'é')]).toEqual([0xc3, 0xa9]);
  });
  it('refuses anything else, saying what it got', () => {
    expect(refusal(() => keyArg('key', 42))).toBe('key must be a Uint8Array or a string (got number 42)');
    expect(refusal(() => keyArg('key', new ArrayBuffer(2)))).toMatch(/got an object \(ArrayBuffer\)/);
    expect(refusal(() => keyArg('key', new Uint16Array(1)))).toMatch(/Uint16Array/);
  });
});

group('optionsArg and unknownOption', () => {
  it('passes undefined and known names, refuses unknown ones with the nearest name', () => {
    expect(optionsArg('write options', undefined, ['sync'])).toBeUndefined();
    expect(optionsArg('write options', { sync: true, other: undefined }, ['sync'])).toEqual({ sync: true, other: undefined });
    expect(refusal(() => optionsArg('write options', { synch: true }, ['sync'])))
      .toBe('write options: unknown option "synch" (did you mean sync?); known options: sync');
    expect(refusal(() => optionsArg('write options', [], ['sync']))).toBe('write options must be an object (got an array)');
    expect(unknownOption('x', 'zzzzzz', [])).toBe('x: unknown option "zzzzzz"; known options: none');
  });
});

group('limitArg and booleanArg', () => {
  it('pass undefined and good values, refuse the rest', () => {
    expect(limitArg('options.limit', undefined)).toBeUndefined();
    expect(limitArg('options.limit', Infinity)).toBe(Infinity);
    expect(refusal(() => limitArg('options.limit', NaN))).toBe('options.limit must be a number (-1 or Infinity for no limit)');
    expect(refusal(() => limitArg('options.limit', '3'))).toBe('options.limit must be a number (-1 or Infinity for no limit)');
    expect(booleanArg('options.sync', false)).toBe(false);
    expect(refusal(() => booleanArg('options.sync', 'yes'))).toBe('options.sync must be a boolean (got "yes")');
  });
});

group('encryptionArg', () => {
  const keyProvider = { currentKeyId: () => 'k1', getKey: () => new Uint8Array(32) };
  it('returns the provider and allowPlaintext, with the caller default', () => {
    expect(encryptionArg(undefined, false)).toBeUndefined();
    expect(encryptionArg({ keyProvider }, false)).toEqual({ keyProvider, allowPlaintext: false });
    expect(encryptionArg({ keyProvider }, true)).toEqual({ keyProvider, allowPlaintext: true });
    expect(encryptionArg({ keyProvider, allowPlaintext: false }, true)).toEqual({ keyProvider, allowPlaintext: false });
  });
  it('refuses a non-object, unknown names, a provider without its methods, a non-boolean allowPlaintext', () => {
    expect(refusal(() => encryptionArg(null, false))).toBe('option encryption must be { keyProvider } (got null)');
    expect(refusal(() => encryptionArg({ keyProvider, allowPlaintxt: true }, false))).toMatch(/option encryption: unknown option "allowPlaintxt" \(did you mean allowPlaintext\?\)/);
    expect(refusal(() => encryptionArg({ keyProvider: {} }, false))).toBe('option encryption.keyProvider must have currentKeyId() and getKey(id) methods');
    expect(refusal(() => encryptionArg({}, false))).toBe('option encryption.keyProvider must have currentKeyId() and getKey(id) methods');
    expect(refusal(() => encryptionArg({ keyProvider, allowPlaintext: 1 }, false))).toBe('option encryption.allowPlaintext must be a boolean (got number 1)');
  });
});

group('describe', () => {
  it('shows short values, kinds and classes', () => {
    expect([null, [1], 'a', 3, true, undefined, 10n, () => 1, {}, Object.create(null)].map(describe))
      .toEqual(['null', 'an array', '"a"', 'number 3', 'boolean true', 'undefined', 'bigint', 'function', 'an object (Object)', 'an object (no prototype)']);
  });
});
