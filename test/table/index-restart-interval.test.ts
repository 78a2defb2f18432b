/**
 * indexBlockRestartInterval end to end: the option reaches the table writer through tableOptionsFor,
 * a larger interval gives a smaller index block, and reads (gets, absent keys, scans both ways, seeks)
 * stay exact when the index is no longer one restart point per entry.
 */
import { describe, expect, it } from 'vitest';
import { DB } from '../../src/index.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { table } from '../../src/inspect.js';
import { withSeed } from '../support/rng.js';

const key = (i: number): string => `key${String(i).padStart(6, '0')}`;

async function indexBytes(fs: MemFileSystem, dir: string): Promise<number> {
  let total = 0;
  for (const name of (await fs.list(dir)).filter((n) => n.endsWith('.sst'))) {
    for (const b of (await table(`${dir}/${name}`, { fs })).blocks) if (b.kind === 'index' || b.kind === 'index_partition') total += b.storedSize;
  }
  return total;
}

describe('indexBlockRestartInterval', () => {
  it('shrinks the index block and every read stays exact', async () => {
    await withSeed('index restart interval', async (rng) => {
      const sizes: number[] = [];
      for (const interval of [1, 16]) {
        const fs = new MemFileSystem();
        const db = await DB.open('/db', { fs, blockSize: 64, indexBlockRestartInterval: interval, compression: 'none' });
        const n = 3000;
        for (let i = 0; i < n; i += 2) await db.put(key(i), `v${i}`);
        await db.flush();
        sizes.push(await indexBytes(fs, '/db'));
        for (let q = 0; q < 400; q++) {
          const i = rng.int(n + 10);
          expect((await db.get(key(i)))?.toString(), key(i)).toBe(i % 2 === 0 && i < n ? `v${i}` : undefined);
        }
        const lo = rng.int(n);
        const forward: string[] = [];
        for await (const k of db.keys({ gte: key(lo), limit: 50 })) forward.push(k.toString());
        const first = lo % 2 === 0 ? lo : lo + 1;
        expect(forward).toEqual(Array.from({ length: Math.min(50, Math.ceil((n - first) / 2)) }, (_, j) => key(first + 2 * j)));
        const backward: string[] = [];
        for await (const k of db.keys({ lte: key(lo), reverse: true, limit: 5 })) backward.push(k.toString());
        const last = lo % 2 === 0 ? lo : lo - 1;
        expect(backward).toEqual(Array.from({ length: Math.min(5, Math.floor(last / 2) + 1) }, (_, j) => key(last - 2 * j)));
        await db.close();
      }
      expect(sizes[1]!, `index bytes with interval 16 (${sizes[1]}) vs 1 (${sizes[0]})`).toBeLessThan(sizes[0]! * 0.8);
    });
  });

  it('is validated like every option', async () => {
    await expect(DB.open('/db', { fs: new MemFileSystem(), indexBlockRestartInterval: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});
