import { it } from 'vitest';
import { BackupEngine, DB, MemFileSystem } from '/work/main/src/index.js';
it('prof', async () => {
  const fs = new MemFileSystem();
  let t = performance.now();
  const db = await DB.open('/db', { fs, writeBufferSize: 4 * 1024, walArchiveDir: '/bk/wal-archive' });
  for (let i = 0; i < 600; i++) { await db.put(`k${i % 120}`, `v${i}-`.repeat(10)); if (i === 200) await db.backup('/bk'); }
  await db.close();
  console.log('history', performance.now() - t, (await fs.list('/bk/wal-archive')).length);
  const engine = await BackupEngine.open('/bk', { fs });
  t = performance.now();
  await engine.restore(1, '/r', { toSequence: 600 });
  console.log('restore', performance.now() - t);
  t = performance.now();
  const r = await DB.open('/r', { fs }); let n = 0; for await (const _ of r.iterator()) n++; await r.close();
  console.log('open+scan', performance.now() - t, n);
});
