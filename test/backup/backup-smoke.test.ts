import { describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { BackupEngine, DB, MemFileSystem } from '../../src/index.js';

async function all(db: DB): Promise<string[]> {
  const out: string[] = [];
  for await (const [k, v] of db.iterator()) out.push(`${k}=${v}`);
  return out;
}

describe('backup (smoke)', () => {
  it('checkpoint, incremental backups, verify, restore and point-in-time restore', async () => {
    const fs = new MemFileSystem();
    const db = await DB.open('/db', { fs, writeBufferSize: 16 * 1024, walArchiveDir: '/backups/wal-archive' });
    for (let i = 0; i < 300; i++) await db.put(`k${String(i).padStart(4, '0')}`, `v${i}`.repeat(20));
    const cp = await db.checkpoint('/cp');
    const b1 = await db.backup('/backups');
    const s1 = (await all(db));
    for (let i = 0; i < 10; i++) await db.put(`n${i}`, 'new');
    const b2 = await db.backup('/backups');
    expect(b2.bytesCopied).toBeLessThan(b1.bytesCopied);
    const midSeq = db.stats().sequence;
    for (let i = 0; i < 5; i++) await db.put(`late${i}`, 'x');
    await db.close(); // archives the current WAL
    const engine = await BackupEngine.open('/backups', { fs });
    const list = await engine.list();
    expect(list.map((b) => b.id)).toEqual([1, 2]);
    await engine.verify(1);
    await engine.restore(1, '/r1');
    const r1 = await DB.open('/r1', { fs });
    expect(await all(r1)).toEqual(s1);
    await r1.close();
    const c = await DB.open('/cp', { fs });
    expect((await all(c)).length).toBe(300);
    expect(cp.sequence).toBe(300);
    await c.close();
    await engine.restore(1, '/pitr', { toSequence: midSeq });
    const p = await DB.open('/pitr', { fs });
    const rows = await all(p);
    expect(rows.length).toBe(310);
    expect(rows.some((r) => r.startsWith('late'))).toBe(false);
    expect(p.stats().sequence).toBe(midSeq);
    await p.close();
    void path;
  });
});
