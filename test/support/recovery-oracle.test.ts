import { describe, expect, it } from 'vitest';
import { RecoveryOracle, type WriteSpec } from './recovery-oracle.js';

const put = (key: string, value: string, sync = false): WriteSpec => ({ kind: 'put', ops: [{ key, value }], sync });
const del = (key: string): WriteSpec => ({ kind: 'delete', ops: [{ key, value: undefined }], sync: false });
const batch = (...kv: [string, string][]): WriteSpec => ({ kind: 'batch', ops: kv.map(([key, value]) => ({ key, value })), sync: false });
const txn = (...kv: [string, string][]): WriteSpec => ({ kind: 'txn', ops: kv.map(([key, value]) => ({ key, value })), sync: false });
const state = (o: Record<string, string>): Map<string, string> => new Map(Object.entries(o));

/** 0: a=1, 1: b=2 (sync), 2: batch a=3 c=4, 3: delete b, 4: txn d=5 e=6; all acknowledged. */
function fiveWrites(): RecoveryOracle {
  const o = new RecoveryOracle();
  for (const s of [put('a', '1'), put('b', '2', true), batch(['a', '3'], ['c', '4']), del('b'), txn(['d', '5'], ['e', '6'])]) o.ack(o.record(s));
  return o;
}

describe('RecoveryOracle', () => {
  it('accepts any prefix covering what must survive, per kind of stop', () => {
    const o = fiveWrites();
    const mark = o.mark();
    // A power cut may lose the unsynced tail after the sync write (prefix 2), not before it.
    expect(o.check(state({ a: '1', b: '2' }), mark, 'power').ok).toBe(true);
    expect(o.check(state({ a: '1' }), mark, 'power')).toMatchObject({ ok: false, required: 2, matches: [1] });
    // A process crash or a clean close keeps every acknowledged write.
    expect(o.check(state({ a: '1', b: '2' }), mark, 'process').ok).toBe(false);
    const all = state({ a: '3', c: '4', d: '5', e: '6' });
    expect(o.check(all, mark, 'process')).toMatchObject({ ok: true, required: 5, mustSurvive: 5 });
    expect(o.check(all, mark, 'clean').ok).toBe(true);
  });

  it('only writes acknowledged before the mark must survive', () => {
    const o = new RecoveryOracle();
    o.ack(o.record(put('a', '1')));
    const late = o.record(put('b', '2', true));
    const mark = o.mark();
    o.ack(late); // acknowledged after the crash: may be lost
    expect(o.check(state({ a: '1' }), mark, 'process').ok).toBe(true);
    expect(o.check(state({ a: '1', b: '2' }), mark, 'process').ok).toBe(true);
    expect(o.check(state({}), mark, 'process').ok).toBe(false);
    expect(o.check(state({}), mark, 'power').ok).toBe(true);
  });

  it('names the first missing write when a write in the middle is lost', () => {
    const o = fiveWrites();
    const v = o.check(state({ a: '3', c: '4', b: '2', d: '5', e: '6' }), o.mark(), 'clean');
    expect(v.ok).toBe(false);
    expect(v.message).toContain('first missing: write 3 (commit position 3, delete');
  });

  it('finds a torn batch or transaction', () => {
    const o = fiveWrites();
    const v = o.check(state({ a: '3', c: '4', d: '5' }), o.mark(), 'clean');
    expect(v.ok).toBe(false);
    expect(v.message).toContain('torn: write 4');
    expect(o.check(state({ a: '1', b: '2', c: '4' }), o.mark(), 'power').message).toContain('torn: write 2');
  });

  it('leaves refused transactions out and counts an unknown one in only when its values are there', () => {
    const o = new RecoveryOracle();
    o.ack(o.record(put('a', '1')));
    o.conflict(o.record(txn(['a', 'x'], ['b', 'y'])));
    const unknown = o.record(txn(['c', 'z']));
    o.ack(o.record(put('d', '2')));
    const mark = o.mark();
    expect(o.writes[unknown]!.outcome).toBe('pending');
    expect(o.check(state({ a: '1', d: '2' }), mark, 'process').ok).toBe(true);
    expect(o.check(state({ a: '1', c: 'z', d: '2' }), mark, 'process').ok).toBe(true);
    // The refused transaction's values are foreign to every prefix.
    expect(o.check(state({ a: 'x', b: 'y', d: '2' }), mark, 'process').ok).toBe(false);
  });

  it('a failed write may or may not be there, but is never required', () => {
    const o = new RecoveryOracle();
    o.ack(o.record(put('a', '1')));
    o.fail(o.record(put('b', '2', true)), new Error('EIO'));
    const mark = o.mark();
    expect(o.check(state({ a: '1' }), mark, 'clean').ok).toBe(true);
    expect(o.check(state({ a: '1', b: '2' }), mark, 'clean').ok).toBe(true);
  });

  it('a range delete removes the keys in [key, end) the prefix holds, alone or inside a batch', () => {
    const o = new RecoveryOracle();
    for (const s of [put('a', '1'), put('b', '2'), put('c', '3', true)]) o.ack(o.record(s));
    o.ack(o.record({ kind: 'deleteRange', ops: [{ key: 'a', value: undefined, end: 'c' }], sync: true }));
    o.ack(o.record({ kind: 'batch', ops: [{ key: 'b', value: '4' }, { key: 'b', value: undefined, end: 'd' }, { key: 'c', value: '5' }], sync: false }));
    const mark = o.mark();
    expect(o.check(state({ c: '5' }), mark, 'clean')).toMatchObject({ ok: true, matches: [5] });
    expect(o.check(state({ c: '3' }), mark, 'power')).toMatchObject({ ok: true, matches: [4] });
    // The acknowledged range delete lost: a, b come back.
    const back = o.check(state({ a: '1', b: '2', c: '3' }), mark, 'power');
    expect(back).toMatchObject({ ok: false, matches: [3] });
    expect(back.message).toContain('first missing: write 3 (commit position 3, deleteRange');
    // Half the batch (its range delete without the put after it) matches only the empty start.
    expect(o.check(state({}), mark, 'clean')).toMatchObject({ ok: false, matches: [0] });
    // The key at the range's end stays.
    expect(o.check(state({ c: '3', b: '4' }), mark, 'clean').matches).toEqual([]);
  });

  it('track() maps promise outcomes: resolve -> acked, ERR_TXN_CONFLICT -> conflict, else failed', async () => {
    const o = new RecoveryOracle();
    expect(await o.track(o.record(put('a', '1')), Promise.resolve())).toBe('acked');
    expect(await o.track(o.record(txn(['a', '2'])), Promise.reject(Object.assign(new Error('c'), { code: 'ERR_TXN_CONFLICT' })))).toBe('conflict');
    expect(await o.track(o.record(put('b', '3')), Promise.reject(new Error('io')))).toBe('failed');
    expect(o.failures().map((w) => w.index)).toEqual([2]);
    expect(o.acked).toBe(1);
  });
});
