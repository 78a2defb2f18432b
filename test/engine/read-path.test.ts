/**
 * read-path.ts: gets that have to wait (a table not yet open, a zstd block) keep their own lookup
 * key while other gets reuse the shared one, and empty memtables are skipped without changing answers.
 */
import { describe, expect, it } from 'vitest';
import { DB } from '../../src/index.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { withSeed } from '../support/rng.js';

describe('read path', () => {
  for (const compression of ['lz4', 'zstd'] as const) {
    it(`concurrent gets that wait each find their own key (${compression})`, async () => {
      await withSeed(`read-path-concurrent-${compression}`, async (rng) => {
        const fs = new MemFileSystem();
        const options = { fs, compression, blockSize: 256 };
        let db = await DB.open('/db', options);
        const model = new Map<string, string>();
        for (let i = 0; i < 400; i++) {
          // Keys of several lengths, so a shorter key's trailer lands inside a longer key's bytes.
          const k = `key-${rng.int(1e6)}`.padEnd(6 + rng.int(20), 'x');
          const v = `value-${i}-${rng.int(1e9)}`;
          model.set(k, v);
          await db.put(k, v);
        }
        await db.flush();
        await db.close();
        db = await DB.open('/db', options);
        try {
          const keys = [...model.keys()].sort(() => rng.next() - 0.5);
          // Not awaited one by one: every get starts before any settles.
          const answers = await Promise.all(keys.map((k) => db.get(k)));
          keys.forEach((k, i) => expect(answers[i]?.toString(), k).toBe(model.get(k)));
          expect((await db.get('absent'))).toBeUndefined();
        } finally {
          await db.close();
        }
      });
    });
  }
});
