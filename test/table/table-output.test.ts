/**
 * table-output.ts: the one way an engine table is written.
 * - writeTable: the metadata matches the table's own properties (keys, sequences, counts, key id,
 *   unique id, creation time from the caller), and an empty source leaves no file;
 * - a failure at any step (open, append, sync, close, directory sync), for writeTable and for a
 *   TableOutput finished by hand, leaves no file behind and rethrows the injected error;
 * - a flush (writeTable) and a compaction (runner, one TableOutput per output) of the same entries
 *   produce the same metadata, plain and encrypted.
 */
import { describe, expect, it } from 'vitest';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { FaultFileSystem, failNth, isInjected } from '../../src/fs/fault-fs.js';
import { MemTable } from '../../src/memtable/memtable.js';
import { ValueKind } from '../../src/base/internal-key.js';
import { FileKind } from '../../src/encryption/file-cipher.js';
import { KeyRing } from '../../src/encryption/keyring.js';
import type { FileMetadata } from '../../src/manifest/file-metadata.js';
import { TableOutput, writeTable, type TableOutputParams } from '../../src/table/table-output.js';
import { openTable } from '../../src/table/table-open.js';
import type { TableOptions } from '../../src/table/table-options.js';
import { runCompaction } from '../../compaction/runner.js';
import type { CompactionPlan } from '../../compaction/plan.js';
import { withSeed, type Rng } from '../support/rng.js';

const DIR = '/db';
const CREATED = 1_700_000_123_456;
const OPTIONS: TableOptions = { blockSize: 256, blockRestartInterval: 4, indexBlockRestartInterval: 1, bloomBitsPerKey: 10, compression: 'lz4', zstdLevel: 3 };
const enc = new TextEncoder();

/** A memtable of `n` distinct user keys (puts, some deletions when `withDeletes`), sequences 1..n in random order. */
function memtable(rng: Rng, n: number, withDeletes: boolean): MemTable {
  const mem = new MemTable();
  const seqs = Array.from({ length: n }, (_, i) => i + 1);
  for (let i = seqs.length - 1; i > 0; i--) { const j = rng.int(i + 1); [seqs[i], seqs[j]] = [seqs[j]!, seqs[i]!]; }
  for (let i = 0; i < n; i++) {
    const key = enc.encode(`key${String(i).padStart(5, '0')}`);
    const del = withDeletes && rng.int(5) === 0;
    mem.add(seqs[i]!, del ? ValueKind.Delete : ValueKind.Put, key, del ? new Uint8Array(0) : rng.bytes(1 + rng.int(80)));
  }
  return mem;
}

function params(fs: MemFileSystem | FaultFileSystem, fileNumber: number, extra: Partial<TableOutputParams> = {}): TableOutputParams {
  return { fs, dir: DIR, fileNumber, options: OPTIONS, creationTimeMs: CREATED, ...extra };
}

async function tables(fs: MemFileSystem): Promise<string[]> {
  return (await fs.list(DIR)).filter((n) => n.endsWith('.sst'));
}

async function newFs(): Promise<MemFileSystem> {
  const fs = new MemFileSystem();
  await fs.mkdir(DIR, { recursive: true });
  return fs;
}

/** The metadata without what differs between two writes of the same entries by design. */
function comparable(m: FileMetadata): Omit<FileMetadata, 'fileNumber' | 'uniqueId' | 'crc32c'> {
  const { fileNumber: _n, uniqueId: _u, crc32c: _c, ...rest } = m;
  return rest;
}

describe('writeTable', () => {
  it('returns metadata that agrees with the table it wrote', async () => {
    await withSeed('table-output-meta', async (rng) => {
      const fs = await newFs();
      const meta = (await writeTable(params(fs, 7), memtable(rng, 500, true).newIterator()))!;
      expect(meta.fileNumber).toBe(7);
      expect(await tables(fs)).toEqual(['000007.sst']);
      const reader = await openTable(fs, DIR, meta, { syncReads: false }); // checks size and unique id
      try {
        const p = reader.properties;
        expect(meta.fileSize).toBe(reader.fileSize);
        expect(meta.smallest).toEqual(p.smallestKey);
        expect(meta.largest).toEqual(p.largestKey);
        expect([meta.smallestSeq, meta.largestSeq]).toEqual([1, 500]);
        expect([meta.numEntries, meta.numDeletions]).toEqual([p.numEntries, p.numDeletions]);
        expect(meta.numEntries).toBe(500);
        expect(meta.numDeletions).toBeGreaterThan(0);
        expect(meta.uniqueId).toEqual(p.uniqueId);
        expect(meta.keyId).toBeUndefined();
        expect(p.creationTimeMs).toBe(CREATED);
        expect([p.blockSize, p.blockRestartInterval, p.bloomBitsPerKey, p.compression]).toEqual([256, 4, 10, 'lz4']);
      } finally {
        await reader.close();
      }
    });
  });

  it('an empty source writes nothing and leaves no file', async () => {
    const fs = await newFs();
    expect(await writeTable(params(fs, 3), new MemTable().newIterator())).toBeUndefined();
    expect(await tables(fs)).toEqual([]);
  });
});

describe('a failure at any step leaves no file', () => {
  const STEPS = ['open', 'append', 'sync', 'close', 'syncDir'] as const;

  /** Fails the i-th file operation of one write, for i = 0, 1, ... until a write succeeds. */
  async function everyStep(write: (fs: FaultFileSystem, fileNumber: number) => Promise<unknown>): Promise<number> {
    for (let i = 0; ; i++) {
      const mem = await newFs();
      const fs = new FaultFileSystem(mem, { injector: failNth(i, { kinds: STEPS }) });
      let failed: unknown;
      try {
        await write(fs, 9);
      } catch (e) {
        failed = e;
      }
      if (failed === undefined) {
        expect(await tables(mem)).toEqual(['000009.sst']);
        return i;
      }
      expect(isInjected(failed), `step ${i}: ${String(failed)}`).toBe(true);
      expect(await tables(mem), `after a failure at step ${i}`).toEqual([]);
    }
  }

  it('writeTable (flush, restore, memtable dumps)', async () => {
    await withSeed('table-output-faults', async (rng) => {
      const mem = memtable(rng, 3000, false);
      const steps = await everyStep((fs, n) => writeTable(params(fs, n), mem.newIterator()));
      expect(steps).toBeGreaterThanOrEqual(4); // open, at least one append, sync, close, syncDir
    });
  });

  it('a TableOutput finished by hand (compaction outputs)', async () => {
    await withSeed('table-output-faults-by-hand', async (rng) => {
      const mem = memtable(rng, 3000, false);
      await everyStep(async (fs, n) => {
        const out = await TableOutput.open(params(fs, n, { exclusive: true }));
        const it = mem.newIterator();
        try {
          for (it.seekToFirst(); it.valid(); it.next()) {
            const a = out.writer.add(it.key(), it.value());
            if (a) await a;
          }
        } catch (e) {
          await out.abandon();
          throw e;
        }
        await out.finish();
      });
    });
  });

  it('abandon() removes the file and a second finish is refused', async () => {
    const fs = await newFs();
    const out = await TableOutput.open(params(fs, 4));
    expect(await tables(fs)).toEqual(['000004.sst']);
    await out.abandon();
    await out.abandon();
    expect(await tables(fs)).toEqual([]);
    await expect(out.finish()).rejects.toThrow(/already finished or abandoned/);
  });
});

describe('flush and compaction outputs of the same entries', () => {
  for (const encrypted of [false, true]) {
    it(`have the same metadata${encrypted ? ' (encrypted)' : ''}`, async () => {
      await withSeed('table-output-flush-vs-compaction', async (rng) => {
        const fs = await newFs();
        const keyBytes = rng.bytes(32);
        const keys = encrypted ? KeyRing.fromKeys('k1', new Map([['k1', keyBytes]])) : undefined;
        const cipher = keys ? await keys.newFileCipher(FileKind.TABLE) : undefined;
        // Distinct user keys, puts only: compaction keeps every entry.
        const flushed = (await writeTable(params(fs, 1, cipher ? { cipher } : {}), memtable(rng, 800, false).newIterator()))!;
        const plan: CompactionPlan = {
          level: 0, outputLevel: 1, inputs: [[flushed], []], grandparents: [], deeperRanges: [],
          isTrivialMove: false, reason: 'manual', score: 0, compactPointer: undefined,
        };
        let next = 2;
        const r = await runCompaction({ fs, dir: DIR, allocateFileNumber: () => next++ }, plan, [], {
          targetFileSize: 1 << 30, maxGrandparentOverlapBytes: 1 << 30, table: OPTIONS, rateLimitBytesPerSec: 0,
          creationTimeMs: CREATED,
          ...(encrypted ? { encryption: { currentKeyId: 'k1', keys: new Map([['k1', keyBytes]]), allowPlaintext: false } } : {}),
        });
        expect(r.outputs).toHaveLength(1);
        const compacted = r.outputs[0]!;
        // The runner also records the output's newest write time (its input's creation time, here);
        // writeTable leaves that to its caller (the flush job sets it).
        const { newestWriteTimeMs, ...rest } = comparable(compacted);
        expect(newestWriteTimeMs).toBe(CREATED);
        expect(rest).toEqual(comparable(flushed));
        expect(compacted.keyId).toBe(encrypted ? 'k1' : undefined);
        expect(compacted.uniqueId).not.toEqual(flushed.uniqueId);
      });
    });
  }
});
