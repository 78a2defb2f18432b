import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IOError } from '../../src/errors.js';
import type { WritableFile } from '../../src/fs/file-system.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { BLOCK_SIZE, HEADER_SIZE, RecordType } from '../../src/record/format.js';
import { RecordReader } from '../../src/record/record-reader.js';
import { CHUNK_SIZE, RecordWriter, framedSize } from '../../src/record/record-writer.js';
import { makeRng, testSeed } from '../support/rng.js';

const enc = new TextEncoder();

async function writeLog(records: Uint8Array[]): Promise<Uint8Array> {
  const fs = new MemFileSystem();
  const w = new RecordWriter(await fs.openWritable('/t.log'));
  for (const r of records) w.addRecord(r);
  await w.close();
  return fs.readFile('/t.log');
}

function readAll(data: Uint8Array): Uint8Array[] {
  const r = new RecordReader(data, 't.log');
  const out: Uint8Array[] = [];
  for (let rec = r.read(); rec !== undefined; rec = r.read()) out.push(rec.slice());
  return out;
}

function filled(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7 + (i >>> 8)) & 0xff;
  return out;
}

/** Types of the physical records, walking headers as the writer laid them out. */
function physicalTypes(data: Uint8Array): number[] {
  const types: number[] = [];
  let pos = 0;
  while (pos < data.length) {
    const left = BLOCK_SIZE - (pos % BLOCK_SIZE);
    if (left < HEADER_SIZE) { pos += left; continue; }
    types.push(data[pos + 6]!);
    pos += HEADER_SIZE + (data[pos + 4]! | (data[pos + 5]! << 8));
  }
  return types;
}

/** Byte equality without vitest's per-element deep compare (slow on MiB arrays). */
function expectRecords(actual: Uint8Array[], expected: Uint8Array[]): void {
  expect(actual.map((r) => r.length)).toEqual(expected.map((r) => r.length));
  for (let i = 0; i < expected.length; i++) {
    if (!Buffer.from(actual[i]!).equals(expected[i]!)) expect.fail(`record ${i} differs`);
  }
}

describe('RecordWriter', () => {
  it('writes the golden example of FORMAT.md byte for byte', async () => {
    const hex = readFileSync(fileURLToPath(new URL('../testdata/record/hello-empty.hex', import.meta.url)), 'utf8');
    const golden = Uint8Array.from(hex.trim().split(/\s+/).map((h) => parseInt(h, 16)));
    const data = await writeLog([enc.encode('hello'), new Uint8Array(0)]);
    expect(Buffer.from(data).toString('hex')).toBe(Buffer.from(golden).toString('hex'));
    expect(readAll(golden).map((r) => new TextDecoder().decode(r))).toEqual(['hello', '']);
  });

  it('uses every fragment type and the block trailer', async () => {
    const big = filled(100 * 1024, 1);
    const data = await writeLog([filled(10, 0), big, filled(40_000, 2)]);
    const { Full, First, Middle, Last } = RecordType;
    expect(physicalTypes(data)).toEqual([Full, First, Middle, Middle, Last, First, Last]);
    expectRecords(readAll(data), [filled(10, 0), big, filled(40_000, 2)]);
  });

  it('pads a block with fewer than 7 bytes left with a zero trailer', async () => {
    // First record ends at block offset 32762: 6 bytes left, too few for a header.
    const first = filled(BLOCK_SIZE - 6 - HEADER_SIZE, 3);
    const data = await writeLog([first, enc.encode('next')]);
    expect(data.length).toBe(BLOCK_SIZE + HEADER_SIZE + 4);
    expect([...data.subarray(BLOCK_SIZE - 6, BLOCK_SIZE)]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(data[BLOCK_SIZE + 6]).toBe(RecordType.Full);
    expectRecords(readAll(data), [first, enc.encode('next')]);
  });

  it('writes an empty FIRST fragment when exactly 7 bytes are left', async () => {
    const first = filled(BLOCK_SIZE - 7 - HEADER_SIZE, 4);
    const second = filled(20, 5);
    const data = await writeLog([first, second]);
    expect(data[BLOCK_SIZE - 7 + 4]).toBe(0); // length 0
    expect(data[BLOCK_SIZE - 7 + 6]).toBe(RecordType.First);
    expect(data[BLOCK_SIZE + 6]).toBe(RecordType.Last);
    expectRecords(readAll(data), [first, second]);
  });

  it('round-trips records of sizes around block boundaries (fast-check)', async () => {
    const edge = [0, 1, 2, 6, 7, 8];
    for (let n = 32_761; n <= 32_775; n++) edge.push(n);
    edge.push(BLOCK_SIZE * 2 - 14, BLOCK_SIZE * 2 - 13, 100 * 1024);
    const size = fc.oneof(fc.constantFrom(...edge), fc.integer({ min: 0, max: 70_000 }));
    const seed = testSeed();
    await fc.assert(
      fc.asyncProperty(fc.array(size, { minLength: 0, maxLength: 8 }), async (sizes) => {
        const records = sizes.map((n, i) => filled(n, i));
        const data = await writeLog(records);
        let expected = 0;
        for (const r of records) expected += framedSize(expected % BLOCK_SIZE, r.length);
        expect(data.length).toBe(expected);
        expectRecords(readAll(data), records);
      }),
      { seed, numRuns: 60 },
    );
  });

  it('round-trips a 1 MiB record between small ones', async () => {
    const rng = makeRng(testSeed());
    const mib = rng.bytes(1 << 20);
    const records = [filled(3, 1), mib, filled(0, 0), filled(5, 2)];
    expectRecords(readAll(await writeLog(records)), records);
  });

  it('continues an existing log at its size', async () => {
    const fs = new MemFileSystem();
    const w1 = new RecordWriter(await fs.openWritable('/t.log'));
    w1.addRecord(filled(BLOCK_SIZE - 20, 1));
    await w1.sync();
    await w1.close();
    const w2 = new RecordWriter(await fs.openWritable('/t.log', { append: true }));
    expect(w2.size).toBe(BLOCK_SIZE - 20 + HEADER_SIZE);
    w2.addRecord(filled(50, 2));
    w2.addRecord(filled(3, 3));
    await w2.close();
    expectRecords(readAll(await fs.readFile('/t.log')), [filled(BLOCK_SIZE - 20, 1), filled(50, 2), filled(3, 3)]);
  });

  it('hands each record to exactly one append', async () => {
    const fs = new MemFileSystem();
    const file = await fs.openWritable('/t.log');
    const sizes: number[] = [];
    const counting: WritableFile = {
      path: file.path,
      get size() { return file.size; },
      append(d) { sizes.push(d.length); file.append(d); },
      sync: () => file.sync(),
      close: () => file.close(),
    };
    const w = new RecordWriter(counting);
    w.addRecord(filled(100_000, 1));
    w.addRecord(filled(0, 0));
    expect(sizes).toEqual([framedSize(0, 100_000), HEADER_SIZE]);
    expect(w.size).toBe(sizes[0]! + sizes[1]!);
  });

  it('frames parts exactly like their concatenation (fast-check)', async () => {
    const seed = testSeed();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 3 * BLOCK_SIZE }), fc.array(fc.integer({ min: 0, max: 3 * BLOCK_SIZE }), { maxLength: 5 }),
        fc.integer({ min: 0, max: BLOCK_SIZE }),
        async (total, cutsRaw, prefix) => {
          const whole = filled(total, 7);
          const cuts = [...new Set([0, ...cutsRaw.map((c) => Math.min(c, total)), total])].sort((a, b) => a - b);
          const parts = cuts.slice(1).map((c, i) => whole.subarray(cuts[i]!, c));
          parts.splice(1, 0, new Uint8Array(0));
          const viaParts = new MemFileSystem();
          const w1 = new RecordWriter(await viaParts.openWritable('/a'));
          const viaWhole = new MemFileSystem();
          const w2 = new RecordWriter(await viaWhole.openWritable('/a'));
          w1.addRecord(filled(prefix, 1));
          w2.addRecord(filled(prefix, 1));
          w1.addRecordParts(parts);
          w2.addRecord(whole);
          expect(Buffer.from(await viaParts.readFile('/a')).equals(await viaWhole.readFile('/a'))).toBe(true);
        }),
      { seed, numRuns: 40 },
    );
  });

  it('appends a record framed past 1 MiB in chunks of at most 1 MiB, reusing one buffer', async () => {
    const fs = new MemFileSystem();
    const file = await fs.openWritable('/t.log');
    const sizes: number[] = [];
    const buffers = new Set<ArrayBufferLike>();
    const counting: WritableFile = {
      path: file.path,
      get size() { return file.size; },
      append(d) { sizes.push(d.length); buffers.add(d.buffer); file.append(d); },
      sync: () => file.sync(),
      close: () => file.close(),
    };
    const w = new RecordWriter(counting);
    const big = makeRng(testSeed()).bytes(3 * CHUNK_SIZE + 12345);
    w.addRecord(filled(100, 1));
    w.addRecord(big);
    w.addRecord(filled(100, 2));
    expect(sizes.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(CHUNK_SIZE);
    expect(sizes.slice(1, -1).reduce((a, b) => a + b, 0)).toBe(framedSize(107, big.length));
    expect(buffers.size).toBeLessThanOrEqual(2); // the small first buffer, then the 1 MiB one
    expectRecords(readAll(await fs.readFile('/t.log')), [filled(100, 1), big, filled(100, 2)]);
  });

  it('refuses further records after an append failed', async () => {
    const fs = new MemFileSystem();
    const file = await fs.openWritable('/t.log');
    const boom = new IOError('injected ENOSPC');
    let fail = true;
    const failing: WritableFile = {
      path: file.path,
      get size() { return file.size; },
      append(d) { if (fail) throw boom; file.append(d); },
      sync: () => file.sync(),
      close: () => file.close(),
    };
    const w = new RecordWriter(failing);
    expect(() => w.addRecord(filled(10, 1))).toThrow(boom);
    fail = false;
    let err: unknown;
    try { w.addRecord(filled(10, 2)); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(IOError);
    expect((err as IOError).cause).toBe(boom);
    expect(file.size).toBe(0);
  });
});
