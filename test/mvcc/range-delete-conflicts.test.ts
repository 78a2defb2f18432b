/**
 * Transactions against range deletes committed after their snapshot: a range delete writes every
 * key of its range, so a transaction writing one of them conflicts (a lost update otherwise: the
 * key comes back with a value computed from what the range delete removed), and under serializable
 * isolation so does one that read keys or iterated a range the delete overlaps. A range delete
 * committed before the snapshot, or one not covering the written key, conflicts with nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DB, MemFileSystem, WriteBatch } from '../../src/index.js';

let db: DB | undefined;
afterEach(async () => { await db?.close(); db = undefined; });

async function openWith(keys: string[]): Promise<DB> {
  db = await DB.open('/db', { fs: new MemFileSystem() });
  for (const k of keys) await db.put(k, `v-${k}`);
  return db;
}

const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => {
  try { await p; return undefined; } catch (e) { return (e as { code?: string }).code; }
};

describe('transactions and range deletes', () => {
  it('a write inside a range deleted after the snapshot conflicts (no lost update)', async () => {
    const d = await openWith(['k05']);
    const tx = d.beginTransaction();
    const v = await tx.get('k05');
    await d.deleteRange('k00', 'k10');
    tx.put('k05', `${v!.toString()}+1`);
    expect(await codeOf(tx.commit())).toBe('ERR_TXN_CONFLICT');
    expect(await d.get('k05')).toBeUndefined();
  });

  it('a range delete inside a batch: one written key in its range is enough, whatever else the transaction writes', async () => {
    const d = await openWith(['a', 'm']);
    const tx = d.beginTransaction();
    tx.put('z', 'outside');
    tx.put('m', 'inside');
    await d.write(new WriteBatch().put('q', '1').deleteRange('b', 'n'));
    expect(await codeOf(tx.commit())).toBe('ERR_TXN_CONFLICT');
    expect(await d.get('z')).toBeUndefined();
  });

  it('no conflict for keys outside the range (its end is excluded) or a range delete before the snapshot', async () => {
    const d = await openWith(['k05', 'k10']);
    await d.deleteRange('k00', 'k06');
    const tx = d.beginTransaction();
    await d.deleteRange('k00', 'k10');
    tx.put('k10', 'end is excluded');
    tx.put('k11', 'after the range');
    await tx.commit();
    expect((await d.get('k10'))!.toString()).toBe('end is excluded');
  });

  it('serializable: a key read or a range iterated that a later range delete overlaps conflicts', async () => {
    const d = await openWith(['k05', 'k20']);
    const reader = d.beginTransaction({ isolation: 'serializable' });
    await reader.get('k05');
    reader.put('x', '1');
    const scanner = d.beginTransaction({ isolation: 'serializable' });
    for await (const _ of scanner.iterator({ gte: 'k15', lt: 'k30' })) { /* reads the range */ }
    scanner.put('y', '1');
    const outside = d.beginTransaction({ isolation: 'serializable' });
    for await (const _ of outside.iterator({ gte: 'k40', lt: 'k50' })) { /* a range the delete misses */ }
    outside.put('w', '1');
    await d.deleteRange('k00', 'k16');
    expect(await codeOf(reader.commit())).toBe('ERR_TXN_CONFLICT');
    expect(await codeOf(scanner.commit())).toBe('ERR_TXN_CONFLICT');
    expect(await codeOf(outside.commit())).toBeUndefined();
  });
});
