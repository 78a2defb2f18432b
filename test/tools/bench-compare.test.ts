/**
 * `stratadb bench --compare`: a comma list, repeatable, each peer once; an unknown or empty name is
 * ERR_INVALID_ARGUMENT. And --syncs reaches the driver's checked configuration, bad values refused.
 */
import { describe, expect, it } from 'vitest';
import { parseCompare } from '../../tools/commands/bench.js';
import { resolveConfig } from '../../bench/driver.js';

describe('bench --compare', () => {
  it('takes one engine, a comma list, or repeats, keeping the first order and each name once', () => {
    expect(parseCompare('lmdb')).toEqual(['lmdb']);
    expect(parseCompare('classic-level,lmdb')).toEqual(['classic-level', 'lmdb']);
    expect(parseCompare(' lmdb , classic-level ')).toEqual(['lmdb', 'classic-level']);
    expect(parseCompare('lmdb', parseCompare('classic-level'))).toEqual(['classic-level', 'lmdb']);
    expect(parseCompare('lmdb,lmdb', ['lmdb'])).toEqual(['lmdb']);
  });

  it('refuses unknown and empty names with ERR_INVALID_ARGUMENT', () => {
    for (const bad of ['rocksdb', 'lmdb,', ',lmdb', 'stratadb', 'classic-level;lmdb', '']) {
      expect(() => parseCompare(bad), bad).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    }
  });

  it('passes --syncs through the driver configuration and refuses a bad one', () => {
    expect(resolveConfig({ num: 1000, syncs: 20 }).syncs).toBe(20);
    expect(resolveConfig({ num: 1000 }).syncs).toBeUndefined();
    expect(() => resolveConfig({ syncs: 0 })).toThrow(/--syncs/);
    expect(resolveConfig({ engines: ['stratadb', 'lmdb', 'lmdb'] }).engines).toEqual(['stratadb', 'lmdb']);
  });
});
