/**
 * Encrypted tables (format version 2, sstable/FORMAT.md §8, issue #9). Proves:
 * - a table written with a FileCipher reads back entry for entry (scans both ways, point lookups,
 *   sync lookups, verifyChecksums) with codecs none/lz4/zstd, with and without a bloom filter,
 *   through a KeyRing; the header, the blocks and the footer tile the file;
 * - no plaintext of a sentinel key or value (nor the master key) is in the file bytes, while the
 *   same table unencrypted does hold them (so the search is meaningful);
 * - every flipped byte of a small encrypted table (a seeded sample for larger ones) and every
 *   truncation is ERR_CORRUPTION naming the file and an offset, never a wrong answer; with block
 *   CRCs off, or with a block's CRC recomputed after the flip, authentication still catches every
 *   change to a payload or its type byte, and swapping two equal-size blocks is caught too (the
 *   nonce is the block offset);
 * - no keys -> ERR_INVALID_ARGUMENT naming the key id; another key under the same id -> ERR_INVALID_ARGUMENT
 *   from the header's key check value (the data is not damaged); a provider without the id -> ERR_INVALID_ARGUMENT naming id and file;
 * - an unencrypted table opens without keys and with keys that allow plaintext, and is refused
 *   (ERR_CORRUPTION) by keys that do not; a footer downgraded to version 1 never yields data.
 */
import { describe, expect, it } from 'vitest';
import { putFixed32 } from '../../src/base/coding.js';
import { crc32c, maskCrc } from '../../src/base/crc32c.js';
import { equalBytes } from '../../src/base/bytes.js';
import { CRYPT_MAGIC, FileCipher, FileKind, hasCryptMagic, type KeyProvider, type KeyResolver } from '../../src/encryption/file-cipher.js';
import { KeyRing } from '../../src/encryption/keyring.js';
import { LruCache } from '../../src/cache/lru-cache.js';
import { CorruptionError, isStrataError } from '../../src/errors.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import type { CompressionName } from '../../sstable/compression.js';
import { BLOCK_TRAILER_SIZE, encodeFooter, FOOTER_SIZE, TableFormatVersion, type BlockHandle } from '../../sstable/format.js';
import type { TableWriterOptions } from '../../sstable/table-writer.js';
import type { TableReader, TableReaderOptions } from '../../sstable/table-reader.js';
import { withSeed } from '../support/rng.js';
import {
  b, entriesEqual, fsWith, lowerBound, openTable, scanBackward, scanForward, tableBytes, writeTable, type Entry,
} from './table-helpers.js';

const KEY_ID = 'table-key-1';
const MASTER = Uint8Array.from({ length: 32 }, (_, i) => (0x3c + i * 29) & 0xff);
const OTHER = Uint8Array.from({ length: 32 }, (_, i) => (0x91 + i * 17) & 0xff);
const SENTINEL_KEY = 'key-SENTINEL-7f3a9c';
const SENTINEL_VALUE = 'SENTINEL-VALUE-e41b27-q';
const CODECS: CompressionName[] = ['none', 'lz4', 'zstd'];
const FILE = '/t.sst';

function provider(keys: Record<string, Uint8Array>): KeyProvider {
  return {
    currentKeyId: () => KEY_ID,
    getKey: (id) => {
      const k = keys[id];
      if (!k) throw new Error(`no key ${id}`);
      return k;
    },
  };
}
const ring = (keys: Record<string, Uint8Array> = { [KEY_ID]: MASTER }, allowPlaintext = false): KeyRing =>
  new KeyRing(provider(keys), allowPlaintext);

/** `n` entries with varied values and the sentinel pair in the middle. */
function makeEntries(n: number): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) out.push([b(`key-${String(i * 3).padStart(5, '0')}`), b(`value ${i} ${'xyz'.repeat(i % 11)} ${i * 7919}`)]);
  out.push([b(SENTINEL_KEY), b(SENTINEL_VALUE)]);
  return out.sort((x, y) => Buffer.compare(Buffer.from(x[0]), Buffer.from(y[0])));
}

async function encryptedBytes(entries: readonly Entry[], options: Partial<TableWriterOptions> = {}, master = MASTER): Promise<Uint8Array> {
  return tableBytes(entries, { ...options, cipher: FileCipher.create(FileKind.TABLE, KEY_ID, master) });
}

/** Every block handle of an opened table (data, meta, metaindex, index). */
function allBlocks(r: TableReader): BlockHandle[] {
  return [...r.dataBlockHandles(), ...r.partitionHandles(), ...r.metaHandles.values(), r.footer.metaindex, r.footer.index]
    .sort((x, y) => x.offset - y.offset);
}

/** Opens and reads everything: 'right', 'wrong', or the thrown StrataError (anything else is rethrown). */
async function readAll(bytes: Uint8Array, entries: readonly Entry[], options: Partial<TableReaderOptions>): Promise<'right' | 'wrong' | CorruptionError | Error> {
  const fs = await fsWith(bytes);
  try {
    const r = await openTable(fs, FILE, { keys: ring(), cache: new LruCache(1 << 16), ...options });
    let right = true;
    for (const [k, v] of entries) {
      const got = await r.getAtOrAfter(k);
      if (!got || !equalBytes(got.key, k) || !equalBytes(got.value, v)) right = false;
    }
    if (!entriesEqual(await scanForward(r.newIterator()), entries)) right = false;
    if (!entriesEqual(await scanBackward(r.newIterator()), entries)) right = false;
    await r.verifyChecksums();
    await r.close();
    return right ? 'right' : 'wrong';
  } catch (e) {
    if (isStrataError(e)) return e;
    throw e;
  }
}

function expectCorruptionAt(res: unknown, size: number, what: string): CorruptionError {
  if (!(res instanceof CorruptionError)) throw new Error(`${what}: expected ERR_CORRUPTION, got ${res instanceof Error ? res.message : String(res)}`);
  expect(res.code).toBe('ERR_CORRUPTION');
  expect(res.file).toBe(FILE);
  expect(res.message).toContain(FILE);
  expect(Number.isInteger(res.offset) && res.offset >= 0 && res.offset <= size).toBe(true);
  expect(res.message.toLowerCase()).not.toContain(Buffer.from(MASTER).toString('hex'));
  return res;
}

function fixBlockCrc(bytes: Uint8Array, h: BlockHandle): void {
  putFixed32(bytes, h.offset + h.size + 1, maskCrc(crc32c(bytes.subarray(h.offset, h.offset + h.size + 1))));
}

const contains = (hay: Uint8Array, needle: string | Uint8Array): boolean => Buffer.from(hay).includes(Buffer.from(needle));

describe('encrypted table round trip', () => {
  for (const compression of CODECS) {
    for (const [bloomBitsPerKey, partitioned] of [[0, false], [10, false], [0, true], [10, true]] as const) {
      it(`${compression}, bloom ${bloomBitsPerKey}${partitioned ? ', partitioned (format 4)' : ''}: every entry reads back, nothing readable in the file`, async () => {
        const version = partitioned ? TableFormatVersion.V4_PARTITIONED_ENCRYPTED : TableFormatVersion.V2_ENCRYPTED;
        const layout = partitioned ? { partitionedMetadata: true, metadataBlockSize: 100 } : {};
        const entries = makeEntries(400);
        const fs = new MemFileSystem();
        const cipher = FileCipher.create(FileKind.TABLE, KEY_ID, MASTER);
        const res = await writeTable(fs, FILE, entries, { blockSize: 128, blockRestartInterval: 4, compression, bloomBitsPerKey, cipher, ...layout });
        expect(res.properties.formatVersion).toBe(version);
        if (partitioned) expect(res.properties.indexPartitions).toBeGreaterThan(3);
        const bytes = await fs.readFile(FILE);
        expect(bytes.length).toBe(res.fileSize);
        expect(hasCryptMagic(bytes)).toBe(true);
        expect(equalBytes(bytes.subarray(0, cipher.headerBytes.length), cipher.headerBytes)).toBe(true);

        expect(contains(bytes, SENTINEL_KEY)).toBe(false);
        expect(contains(bytes, SENTINEL_VALUE)).toBe(false);
        expect(contains(bytes, 'SENTINEL')).toBe(false);
        expect(contains(bytes, 'key-00')).toBe(false);
        expect(contains(bytes, MASTER)).toBe(false);
        // The control: the same table without a cipher holds the sentinel in the clear.
        if (compression === 'none') {
          const plain = await tableBytes(entries, { blockSize: 128, blockRestartInterval: 4, compression, bloomBitsPerKey });
          expect(contains(plain, SENTINEL_KEY)).toBe(true);
          expect(contains(plain, SENTINEL_VALUE)).toBe(true);
        }

        for (const syncReads of [false, true]) {
          const r = await openTable(fs, FILE, { keys: ring(), cache: new LruCache(1 << 20), syncReads });
          expect(r.keyId).toBe(KEY_ID);
          expect(r.footer.formatVersion).toBe(version);
          expect(r.properties.numEntries).toBe(entries.length);
          expect(r.hasFilter).toBe(bloomBitsPerKey > 0);
          const handles = r.dataBlockHandles();
          expect(handles.length).toBeGreaterThan(20);

          // The encryption header, the blocks (stored bytes + trailer) and the footer tile the file.
          let at = cipher.headerBytes.length;
          for (const h of allBlocks(r)) {
            expect(h.offset).toBe(at);
            at = h.offset + h.size + BLOCK_TRAILER_SIZE;
          }
          expect(at).toBe(bytes.length - FOOTER_SIZE);

          expect(entriesEqual(await scanForward(r.newIterator()), entries)).toBe(true);
          expect(entriesEqual(await scanBackward(r.newIterator()), entries)).toBe(true);
          for (const [k, v] of entries) {
            const got = await r.getAtOrAfter(k);
            expect(got && equalBytes(got.key, k) && equalBytes(got.value, v)).toBe(true);
          }
          // Keys between the stored ones: the next key (or, with a filter, possibly filtered out).
          for (let i = 0; i < 1200; i += 7) {
            const probe = b(`key-${String(i).padStart(5, '0')}`);
            const want = entries[lowerBound(entries, probe)];
            const got = await r.getAtOrAfter(probe);
            if (got) expect(equalBytes(got.key, want![0])).toBe(true);
            else if (bloomBitsPerKey === 0) expect(want).toBeUndefined();
          }
          const s = await r.getAtOrAfter(b(SENTINEL_KEY));
          expect(s && Buffer.from(s.value).toString()).toBe(SENTINEL_VALUE);
          expect(await r.getAtOrAfter(b('zzz'))).toBeUndefined();
          await r.verifyChecksums();
          await r.close();
        }
      });
    }
  }

  it('an empty encrypted table opens and holds nothing', async () => {
    const bytes = await encryptedBytes([], { blockSize: 64, blockRestartInterval: 1, compression: 'none', bloomBitsPerKey: 10 });
    const r = await openTable(await fsWith(bytes), FILE, { keys: ring() });
    expect(await scanForward(r.newIterator())).toEqual([]);
    expect(await r.getAtOrAfter(b(''))).toBeUndefined();
    await r.verifyChecksums();
  });
});

describe('encrypted table damage', () => {
  const small = makeEntries(24);
  const smallOptions = (compression: CompressionName): Partial<TableWriterOptions> =>
    ({ blockSize: 96, blockRestartInterval: 3, compression, bloomBitsPerKey: 10 });

  for (const compression of CODECS) {
    it(`every flipped byte of a small ${compression} table is ERR_CORRUPTION naming file and offset`, async () => {
      const good = await encryptedBytes(small, smallOptions(compression));
      expect(await readAll(good, small, {})).toBe('right');
      await withSeed(`enc-flip-${compression}`, async (rng) => {
        for (let i = 0; i < good.length; i++) {
          const bad = good.slice();
          bad[i] = bad[i]! ^ (1 << rng.int(8));
          expectCorruptionAt(await readAll(bad, small, { syncReads: (i & 1) === 0 }), good.length, `flipping byte ${i} of ${good.length}`);
        }
      });
    });
  }

  it('with block CRCs off, authentication alone catches every flip outside the CRC fields', async () => {
    // Authentication does not depend on the codec: two codecs (sync and async decode paths) suffice.
    for (const compression of ['none', 'zstd'] as const) {
      const good = await encryptedBytes(small, smallOptions(compression));
      const r = await openTable(await fsWith(good), FILE, { keys: ring() });
      const crcBytes = new Set<number>();
      for (const h of allBlocks(r)) for (let j = 1; j <= 4; j++) crcBytes.add(h.offset + h.size + j);
      await withSeed(`enc-flip-nocrc-${compression}`, async (rng) => {
        for (let i = 0; i < good.length; i++) {
          const bad = good.slice();
          bad[i] = bad[i]! ^ (1 << rng.int(8));
          const res = await readAll(bad, small, { verifyChecksums: false });
          // A flipped CRC byte goes unnoticed when CRCs are not checked; nothing else may.
          if (crcBytes.has(i) && res === 'right') continue;
          expectCorruptionAt(res, good.length, `flipping byte ${i} (${compression}, CRCs off)`);
        }
      });
    }
  });

  it('a block changed with its CRC recomputed fails authentication at that block', async () => {
    await withSeed('enc-recrc', async (rng) => {
      for (const compression of CODECS) {
        const entries = makeEntries(300);
        const good = await encryptedBytes(entries, { blockSize: 200, blockRestartInterval: 4, compression, bloomBitsPerKey: 10 });
        const r = await openTable(await fsWith(good), FILE, { keys: ring() });
        for (const h of allBlocks(r)) {
          for (let n = 0; n < 3; n++) {
            const bad = good.slice();
            const at = h.offset + rng.int(h.size + 1); // a payload byte or the type byte
            bad[at] = bad[at]! ^ (1 << rng.int(8));
            fixBlockCrc(bad, h);
            const e = expectCorruptionAt(await readAll(bad, entries, {}), good.length, `block at ${h.offset}, byte ${at}`);
            expect(e.offset).toBe(h.offset);
            expect(e.message).toMatch(/authentication failed/);
          }
        }
      }
    });
  });

  it('the trailer type byte is authenticated: none -> lz4 with the CRC fixed is caught before decompressing', async () => {
    const good = await encryptedBytes(small, smallOptions('none'));
    const r = await openTable(await fsWith(good), FILE, { keys: ring() });
    for (const h of r.dataBlockHandles()) {
      for (const type of [0x04, 0x07, 0x01, 0xff]) {
        const bad = good.slice();
        bad[h.offset + h.size] = type;
        fixBlockCrc(bad, h);
        const e = expectCorruptionAt(await readAll(bad, small, {}), good.length, `type ${type} at ${h.offset}`);
        expect(e.offset).toBe(h.offset);
        expect(e.message).toMatch(/authentication failed/);
      }
    }
  });

  it('swapping two data blocks of equal size (CRCs intact) is caught: the nonce is the offset', async () => {
    // Fixed-size entries and no compression give many data blocks of one size.
    const entries: Entry[] = [];
    for (let i = 0; i < 120; i++) entries.push([b(`k${String(i).padStart(6, '0')}`), b(`v${String(i * 31).padStart(12, '0')}`)]);
    const good = await encryptedBytes(entries, { blockSize: 100, blockRestartInterval: 2, compression: 'none', bloomBitsPerKey: 0 });
    const r = await openTable(await fsWith(good), FILE, { keys: ring() });
    const hs = r.dataBlockHandles();
    let swaps = 0;
    for (let i = 0; i + 1 < hs.length && swaps < 10; i++) {
      const x = hs[i]!;
      const y = hs.slice(i + 1).find((h) => h.size === x.size);
      if (!y) continue;
      const n = x.size + BLOCK_TRAILER_SIZE;
      const bad = good.slice();
      bad.set(good.subarray(y.offset, y.offset + n), x.offset);
      bad.set(good.subarray(x.offset, x.offset + n), y.offset);
      const e = expectCorruptionAt(await readAll(bad, entries, {}), good.length, `swap ${x.offset} <-> ${y.offset}`);
      expect([x.offset, y.offset]).toContain(e.offset);
      expect(e.message).toMatch(/authentication failed/);
      swaps++;
    }
    expect(swaps).toBeGreaterThan(3);
  });

  it('a seeded sample of flips in larger tables of each codec is ERR_CORRUPTION', async () => {
    await withSeed('enc-flip-large', async (rng) => {
      for (const compression of CODECS) {
        const entries = makeEntries(500);
        const good = await encryptedBytes(entries, { blockSize: 256, blockRestartInterval: 8, compression, bloomBitsPerKey: 10 });
        for (let n = 0; n < 150; n++) {
          const i = rng.int(good.length);
          const bad = good.slice();
          bad[i] = bad[i]! ^ (1 << rng.int(8));
          expectCorruptionAt(await readAll(bad, entries, { syncReads: (n & 1) === 0 }), good.length, `flipping byte ${i} (${compression})`);
        }
      }
    });
  });

  it('every truncation of a small encrypted table is ERR_CORRUPTION', async () => {
    const good = await encryptedBytes(small, smallOptions('lz4'));
    for (let n = 0; n < good.length; n++) {
      expectCorruptionAt(await readAll(good.subarray(0, n), small, {}), good.length, `truncated to ${n}`);
    }
  });

  it('a footer rewritten to version 1 (CRC fixed) never yields data', async () => {
    for (const compression of CODECS) {
      const good = await encryptedBytes(small, smallOptions(compression));
      const r = await openTable(await fsWith(good), FILE, { keys: ring() });
      const bad = good.slice();
      bad.set(encodeFooter({ ...r.footer, formatVersion: TableFormatVersion.V1 }), good.length - FOOTER_SIZE);
      // Keys that refuse plaintext refuse it; without keys the ciphertext does not decode as blocks.
      expectCorruptionAt(await readAll(bad, small, {}), good.length, `downgraded ${compression}, keys`);
      expectCorruptionAt(await readAll(bad, small, { keys: undefined }), good.length, `downgraded ${compression}, no keys`);
    }
  });
});

describe('encrypted table keys', () => {
  const entries = makeEntries(50);
  const options: Partial<TableWriterOptions> = { blockSize: 128, blockRestartInterval: 4, compression: 'lz4', bloomBitsPerKey: 10 };

  it('opening without keys is ERR_INVALID_ARGUMENT naming the key id', async () => {
    const bytes = await encryptedBytes(entries, options);
    const res = await readAll(bytes, entries, { keys: undefined });
    expect(isStrataError(res, 'ERR_INVALID_ARGUMENT')).toBe(true);
    expect((res as Error).message).toContain(`"${KEY_ID}"`);
    expect((res as Error).message).toContain(FILE);
  });

  it('another key under the same id is ERR_INVALID_ARGUMENT (the key check value), naming the id and the file', async () => {
    const bytes = await encryptedBytes(entries, options);
    const res = await readAll(bytes, entries, { keys: ring({ [KEY_ID]: OTHER }) });
    expect(isStrataError(res, 'ERR_INVALID_ARGUMENT')).toBe(true);
    if (!(res instanceof Error)) throw new Error('expected an error');
    expect(res.message).toMatch(/not the key this file was written with/);
    expect(res.message).toContain(FILE);
    expect(res.message).toContain(KEY_ID);
    expect(res.message.toLowerCase()).not.toContain(Buffer.from(OTHER).toString('hex'));
  });

  it('a provider without the key id is ERR_INVALID_ARGUMENT naming the id and the file', async () => {
    const bytes = await encryptedBytes(entries, options);
    const res = await readAll(bytes, entries, { keys: ring({ 'some-other-key': MASTER }) });
    expect(isStrataError(res, 'ERR_INVALID_ARGUMENT')).toBe(true);
    expect((res as Error).message).toContain(`"${KEY_ID}"`);
    expect((res as Error).message).toContain(FILE);
  });

  it('a table written with a cipher of another kind is refused as corruption', async () => {
    const bytes = await tableBytes(entries, { ...options, cipher: FileCipher.create(FileKind.WAL, KEY_ID, MASTER) });
    const e = expectCorruptionAt(await readAll(bytes, entries, {}), bytes.length, 'WAL cipher');
    expect(e.message).toMatch(/expected table/);
  });

  it('tables under different key ids open through one ring (rotation)', async () => {
    const keys = ring({ [KEY_ID]: MASTER, 'table-key-2': OTHER });
    const a = await encryptedBytes(entries, options);
    const c = await tableBytes(entries, { ...options, cipher: FileCipher.create(FileKind.TABLE, 'table-key-2', OTHER) });
    expect(await readAll(a, entries, { keys })).toBe('right');
    expect(await readAll(c, entries, { keys })).toBe('right');
    expect(keys.resolvedIds().sort()).toEqual([KEY_ID, 'table-key-2']);
  });

  it('an unencrypted table opens without keys and with keys allowing plaintext; keys that do not refuse it', async () => {
    const bytes = await tableBytes(entries, options);
    expect(contains(bytes, CRYPT_MAGIC)).toBe(false);
    expect(await readAll(bytes, entries, { keys: undefined })).toBe('right');
    expect(await readAll(bytes, entries, { keys: ring(undefined, true) })).toBe('right');
    const resolver: KeyResolver = { keyFor: async () => { throw new Error('never asked'); } }; // allowPlaintext absent: true
    expect(await readAll(bytes, entries, { keys: resolver })).toBe('right');
    const e = expectCorruptionAt(await readAll(bytes, entries, { keys: ring() }), bytes.length, 'plaintext refused');
    expect(e.message).toMatch(/not encrypted/);
    const r = await openTable(await fsWith(bytes), FILE, { keys: ring(undefined, true) });
    expect(r.keyId).toBeUndefined();
    expect(r.footer.formatVersion).toBe(TableFormatVersion.V1);
  });

  it('two tables with the same entries and key differ everywhere but in the header layout (fresh salt)', async () => {
    const x = await encryptedBytes(entries, options);
    const y = await encryptedBytes(entries, options);
    expect(x.length).toBe(y.length);
    let same = 0;
    const headerSize = 12 + KEY_ID.length + 16 + 4;
    for (let i = headerSize; i < x.length - FOOTER_SIZE; i++) if (x[i] === y[i]) same++;
    // Trailer type bytes repeat; ciphertext agrees only by chance (~1/256 per byte).
    expect(same / (x.length - headerSize - FOOTER_SIZE)).toBeLessThan(0.05);
  });
});
