import { describe, expect, it } from 'vitest';
import { DB, MemFileSystem } from '../../src/index.js';

async function open(): Promise<DB> { return DB.open('/db', { fs: new MemFileSystem() }); }

describe('transaction anomalies (smoke)', () => {
  it('lost update refused under snapshot isolation', async () => {
    const db = await open();
    await db.put('x', '1');
    const a = db.beginTransaction(); const b = db.beginTransaction();
    a.put('x', String(Number(await a.get('x')) + 1));
    b.put('x', String(Number(await b.get('x')) + 1));
    await a.commit();
    await expect(b.commit()).rejects.toMatchObject({ code: 'ERR_TXN_CONFLICT' });
    expect((await db.get('x'))!.toString()).toBe('2');
    await db.close();
  });
  it('write skew allowed under snapshot, refused under serializable', async () => {
    for (const isolation of ['snapshot', 'serializable'] as const) {
      const db = await open();
      await db.put('alice', '1'); await db.put('bob', '1');
      const a = db.beginTransaction({ isolation }); const b = db.beginTransaction({ isolation });
      if ((await a.get('alice'))!.toString() === '1' && (await a.get('bob'))!.toString() === '1') a.put('alice', '0');
      if ((await b.get('alice'))!.toString() === '1' && (await b.get('bob'))!.toString() === '1') b.put('bob', '0');
      await a.commit();
      if (isolation === 'snapshot') await b.commit();
      else await expect(b.commit()).rejects.toMatchObject({ code: 'ERR_TXN_CONFLICT' });
      await db.close();
    }
  });
  it('phantom refused under serializable; own writes visible in iterators', async () => {
    const db = await open();
    await db.put('item:1', 'a');
    const t = db.beginTransaction({ isolation: 'serializable' });
    t.put('item:0', 'mine');
    const seen: string[] = [];
    for await (const [k] of t.iterator({ gte: 'item:', lt: 'item;' })) seen.push(k.toString());
    expect(seen).toEqual(['item:0', 'item:1']);
    await db.put('item:2', 'b');
    t.put('count', String(seen.length));
    await expect(t.commit()).rejects.toMatchObject({ code: 'ERR_TXN_CONFLICT' });
    expect(await db.get('count')).toBeUndefined();
    expect(await db.get('item:0')).toBeUndefined();
    await db.close();
  });
  it('db.transaction retries on conflict and resolves to fn result', async () => {
    const db = await open();
    await db.put('n', '0');
    const results = await Promise.all(Array.from({ length: 20 }, () => db.transaction(async (tx) => {
      const n = Number((await tx.get('n'))!.toString());
      tx.put('n', String(n + 1));
      return n;
    }, { retries: 100 })));
    expect((await db.get('n'))!.toString()).toBe('20');
    expect(new Set(results).size).toBe(20);
    await db.close();
  });
});
