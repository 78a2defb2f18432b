/**
 * crc32cOfFile: the whole-file CRC32C read in chunks equals the CRC32C of the bytes, across chunk
 * boundaries; each chunk is seen once, in order; a file shorter than the size asked for is corruption.
 */
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../src/base/crc32c.js';
import { CorruptionError } from '../../src/errors.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { FILE_CRC_CHUNK, crc32cOfFile } from '../../src/fs/file-crc.js';
import { makeRng, testSeed } from '../support/rng.js';

async function fileOf(data: Uint8Array): Promise<{ mem: MemFileSystem; path: string }> {
  const mem = new MemFileSystem();
  await mem.mkdir('/d', { recursive: true });
  const w = await mem.openWritable('/d/f');
  w.append(data);
  await w.close();
  return { mem, path: '/d/f' };
}

describe('crc32cOfFile', () => {
  const seed = testSeed();
  for (const size of [0, 1, FILE_CRC_CHUNK - 1, FILE_CRC_CHUNK, FILE_CRC_CHUNK + 1, 2 * FILE_CRC_CHUNK + 7]) {
    it(`equals crc32c of the bytes and hands each chunk over in order (${size} bytes, seed ${seed})`, async () => {
      const data = makeRng(seed + size).bytes(size);
      const { mem, path } = await fileOf(data);
      const f = await mem.openReadable(path);
      const seen: number[] = [];
      let joined = 0;
      const crc = await crc32cOfFile(f, size, (chunk, off) => {
        expect(off).toBe(joined);
        expect(Buffer.compare(chunk, data.subarray(off, off + chunk.length))).toBe(0);
        seen.push(chunk.length);
        joined += chunk.length;
      });
      await f.close();
      expect(crc).toBe(crc32c(data));
      expect(joined).toBe(size);
      expect(seen.length).toBe(Math.ceil(size / FILE_CRC_CHUNK));
    });
  }

  it('is a CorruptionError naming the file and the offset when the file ends a chunk early', async () => {
    const { mem, path } = await fileOf(new Uint8Array(FILE_CRC_CHUNK));
    const f = await mem.openReadable(path);
    const err = await crc32cOfFile(f, FILE_CRC_CHUNK + 10).then(() => undefined, (e: unknown) => e);
    await f.close();
    expect(err).toBeInstanceOf(CorruptionError);
    expect(err).toMatchObject({ code: 'ERR_CORRUPTION', file: path, offset: FILE_CRC_CHUNK });
  });
});
