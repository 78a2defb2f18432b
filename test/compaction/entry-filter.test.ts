/**
 * loadEntryFilter (compaction/entry-filter.ts) on its own: the ttl built-in's arithmetic (expired only
 * strictly before now - ms, never without a known time, short values kept), module exports called with
 * Buffers and the output level, and each kind of misbehaviour as ERR_INVALID_ARGUMENT naming the filter.
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadEntryFilter } from '../../compaction/entry-filter.js';
import { ttl } from '../../src/compaction-filter.js';
import { throwsWith } from '../support/db-check.js';

const URL_OF = pathToFileURL(fileURLToPath(new URL('../support/compaction-filters.mjs', import.meta.url))).href;
const b = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('loadEntryFilter', () => {
  it('ttl without fromValue: expired when the bound is before now - ms; no bound, no expiry', async () => {
    const f = await loadEntryFilter(ttl({ ms: 100 }), 1, 1000);
    expect(f(b('k'), b('v'), 899)).toBe('remove');
    expect(f(b('k'), b('v'), 900)).toBe('keep');
    expect(f(b('k'), b('v'), undefined)).toBe('keep');
  });

  it('ttl fromValue: reads u64be-ms and u32be-s at the offset, keeps values too short', async () => {
    const ms = await loadEntryFilter(ttl({ ms: 100, fromValue: { offset: 1, type: 'u64be-ms' } }), 1, 10_000);
    const v = Buffer.alloc(9);
    v.writeBigUInt64BE(9_899n, 1);
    expect(ms(b('k'), v, undefined)).toBe('remove');
    v.writeBigUInt64BE(9_900n, 1);
    expect(ms(b('k'), v, undefined)).toBe('keep');
    expect(ms(b('k'), v.subarray(0, 8), 0)).toBe('keep');
    const s = await loadEntryFilter(ttl({ ms: 1000, fromValue: { offset: 0, type: 'u32be-s' } }), 1, 10_000);
    const w = Buffer.alloc(4);
    w.writeUInt32BE(8, 0); // 8000 ms < 9000
    expect(s(b('k'), w, undefined)).toBe('remove');
    w.writeUInt32BE(9, 0);
    expect(s(b('k'), w, undefined)).toBe('keep');
  });

  it('module: calls the export with the output level and checks its answer', async () => {
    const tag = await loadEntryFilter({ kind: 'module', url: URL_OF, exportName: 'tagLevel' }, 3, 0);
    expect(Buffer.from(tag(b('lvl'), b('?'), undefined) as Uint8Array).toString()).toBe('L3');
    expect(tag(b('other'), b('?'), undefined)).toBe('keep');
    const bad = await loadEntryFilter({ kind: 'module', url: URL_OF, exportName: 'badReturn' }, 1, 0);
    expect(throwsWith(() => bad(b('k'), b('v'), undefined), 'ERR_INVALID_ARGUMENT').message).toContain(`${URL_OF}#badReturn returned 42 for key 'k'`);
    const boom = await loadEntryFilter({ kind: 'module', url: URL_OF, exportName: 'throwsOnBoom' }, 1, 0);
    expect(throwsWith(() => boom(b('boom'), b('v'), undefined), 'ERR_INVALID_ARGUMENT').message).toContain('filter exploded on purpose');
    await expect(loadEntryFilter({ kind: 'module', url: URL_OF, exportName: 'nope' }, 1, 0)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});
